"""Learned stockout-risk classifier: LightGBM on the company's own checkpoint history.

Features are what the assessment already knows at a checkpoint (position, cover, the forecast and its
spread, lead-time facts, supplier lateness, recent trend, promotions, and the projection's own
probability); the label is whether a stockout happened within the protection interval, known only
once that interval has passed (:func:`stockwarden.risk.backtest.realised_stockouts`), so training never
looks ahead. Probabilities are calibrated with isotonic regression on out-of-fold predictions, and
each row's top contributing factors come from LightGBM's ``pred_contrib`` (TreeSHAP values).

The model is used only where it wins: :meth:`LearnedRiskModel.fit` holds out the latest checkpoints
of the training history and compares the Brier score (a proper scoring rule: calibration and
sharpness) of the learned probability and of the projection there, per segment (in stock / out of
stock); the combined probability replaces the projection only in the segments where it scored better
(``mode="auto"``; ``"always"`` uses it everywhere).

The combination is an equal-weight linear opinion pool, ``p = (p_learned + p_projection) / 2``
(Stone 1961; Genest & Zidek 1986): the two estimates err differently (the projection is a structural
model of this SKU's stock and supply, the classifier a calibrated summary of how such projections
turned out), and averaging probabilities keeps calibration roughly while the projection's continuous
probability breaks the ties that isotonic calibration creates in the classifier's ranking. Equal
weights are the a-priori choice, not fitted: weights fitted on one company's history overfit it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

POOL_WEIGHT_LEARNED = 0.5
"""Weight of the classifier in the linear opinion pool with the projection (equal weights)."""


def pool_probabilities(learned: np.ndarray, projection: np.ndarray) -> np.ndarray:
    """Linear opinion pool of the classifier's and the projection's P(stockout)."""
    return POOL_WEIGHT_LEARNED * learned + (1.0 - POOL_WEIGHT_LEARNED) * projection


FEATURES: tuple[str, ...] = (
    "projection_probability",
    "p_before_expedite",
    "p_stockout_learned_interval",
    "cover_ratio",
    "position_ratio",
    "on_hand",
    "on_order",
    "mean_daily_forecast",
    "trend_ratio",
    "protection_cv",
    "horizon_days",
    "lead_time_days",
    "learned_lead_time_days",
    "supplier_on_time_rate",
    "supplier_mean_delay_days",
    "max_days_overdue",
    "expected_short_ratio",
    "is_out_of_stock",
    "has_promotion",
    "days_since_last_sale",
    "censored_share",
    "sku_mean_forecast",
    "sku_share_out_of_stock",
)
"""Model inputs, derived from assessment columns by :func:`feature_frame`."""

MIN_ROWS = 200
MIN_POSITIVES = 20
MIN_SEGMENT_ROWS = 30
SEGMENTS = ("in_stock", "out_of_stock")


def segment_of(frame: pd.DataFrame) -> np.ndarray:
    """``out_of_stock`` where nothing usable is on hand (the projection knows least there), else ``in_stock``."""
    return np.where(frame["on_hand"].to_numpy(float) <= 0, "out_of_stock", "in_stock")


def feature_frame(a: pd.DataFrame) -> pd.DataFrame:
    """The model's features from assessment rows (see :data:`FEATURES`)."""
    dem_h = (a["mean_daily_forecast"] * a["horizon_days"]).to_numpy(float)
    safe = np.maximum(dem_h, 1e-3)
    out = pd.DataFrame(index=a.index)
    for c in (
        "projection_probability",
        "p_before_expedite",
        "p_stockout_learned_interval",
        "on_hand",
        "on_order",
        "mean_daily_forecast",
        "protection_cv",
        "horizon_days",
        "lead_time_days",
        "learned_lead_time_days",
        "supplier_on_time_rate",
        "supplier_mean_delay_days",
    ):
        out[c] = pd.to_numeric(a[c], errors="coerce") if c in a.columns else np.nan
    out["cover_ratio"] = np.minimum(a["days_of_cover"].to_numpy(float) / np.maximum(a["horizon_days"], 1), 50.0)
    out["position_ratio"] = np.minimum(a["inventory_position"].to_numpy(float) / safe, 50.0)
    rec = a["recent_daily_sales"].to_numpy(float) if "recent_daily_sales" in a.columns else np.full(len(a), np.nan)
    out["trend_ratio"] = np.minimum(a["mean_daily_forecast"].to_numpy(float) / np.maximum(rec, 1e-2), 20.0)
    out["max_days_overdue"] = a["max_days_overdue"] if "max_days_overdue" in a.columns else 0.0
    out["expected_short_ratio"] = np.minimum(a["expected_short"].to_numpy(float) / safe, 5.0)
    out["is_out_of_stock"] = (a["on_hand"].to_numpy(float) <= 0).astype(float)
    reasons = a["reasons"].astype(str) if "reasons" in a.columns else pd.Series("", index=a.index)
    out["has_promotion"] = reasons.str.contains("promotion_ahead").astype(float)
    for c in ("days_since_last_sale", "censored_share"):
        out[c] = pd.to_numeric(a[c], errors="coerce") if c in a.columns else np.nan
    # The same SKU at the other locations on the same date: a series with no usable history of its own
    # (never stocked, long out of stock) still has demand where the SKU sells elsewhere.
    grp = [a["as_of"], a["sku"]] if "as_of" in a.columns else [a["sku"]]
    out["sku_mean_forecast"] = a.groupby(grp)["mean_daily_forecast"].transform("mean").to_numpy(float)
    out["sku_share_out_of_stock"] = out["is_out_of_stock"].groupby([g.to_numpy() for g in grp]).transform("mean")
    return out.loc[:, list(FEATURES)].astype(float)


def _average_precision(y: np.ndarray, s: np.ndarray) -> float:
    from sklearn.metrics import average_precision_score

    return float(average_precision_score(y, s)) if 0 < y.sum() < len(y) else float("nan")


@dataclass
class LearnedRiskModel:
    """A fitted, calibrated classifier (or an unfitted placeholder when history is too thin).

    Attributes:
        booster: the LightGBM model on all training rows (None when not fitted).
        calibrator: isotonic map from raw score to probability.
        is_useful: True when it beat the projection on the held-out latest checkpoints.
        holdout: the comparison figures (AP and Brier of both, rows, positives), overall and per segment.
        segments: the segments (:func:`segment_of`) where the learned probability replaces the projection.
    """

    booster: object | None = None
    calibrator: object | None = None
    is_useful: bool = False
    holdout: dict[str, float] = field(default_factory=dict)
    segments: frozenset[str] = frozenset()

    @classmethod
    def fit(
        cls, train: pd.DataFrame, *, seed: int = 0, mode: str = "auto", holdout_share: float = 0.3
    ) -> LearnedRiskModel:
        """Fit on labelled checkpoint rows (``label`` + assessment columns).

        Args:
            train: rows from :func:`stockwarden.risk.backtest.realised_stockouts`.
            seed: LightGBM seed.
            mode: ``"auto"`` (useful only if it wins on the holdout), ``"always"``, ``"never"``.
            holdout_share: share of the latest checkpoints held out for the comparison.
        """
        if mode == "never" or len(train) < MIN_ROWS or train["label"].sum() < MIN_POSITIVES:
            return cls()
        x = feature_frame(train)
        y = train["label"].to_numpy(int)
        days = np.sort(pd.to_datetime(train["as_of"]).unique())
        cut = days[max(int(len(days) * (1 - holdout_share)), 1) - 1]
        early = (pd.to_datetime(train["as_of"]) <= cut).to_numpy()
        holdout: dict[str, float] = {}
        segments: frozenset[str] = frozenset()
        if early.sum() >= MIN_ROWS and (~early).sum() > 0 and 0 < y[early].sum() < early.sum():
            booster, cal = fit_calibrated_classifier(x[early], y[early], seed)
            base = x.loc[~early, "projection_probability"].to_numpy()
            p = pool_probabilities(predict_calibrated(booster, cal, x[~early]), base)
            yh = y[~early]
            holdout = {
                "rows": float(len(yh)),
                "positives": float(yh.sum()),
                "ap_learned": _average_precision(yh, p),
                "ap_projection": _average_precision(yh, base),
                "brier_learned": float(np.mean((p - yh) ** 2)),
                "brier_projection": float(np.mean((base - yh) ** 2)),
            }
            seg = segment_of(train.loc[~early])
            chosen = set()
            for name in SEGMENTS:
                m = seg == name
                if m.sum() < MIN_SEGMENT_ROWS:
                    continue
                b_l = float(np.mean((p[m] - yh[m]) ** 2))
                b_p = float(np.mean((base[m] - yh[m]) ** 2))
                holdout[f"brier_learned_{name}"], holdout[f"brier_projection_{name}"] = b_l, b_p
                if b_l < b_p:
                    chosen.add(name)
            segments = frozenset(chosen)
        if mode == "always":
            segments = frozenset(SEGMENTS)
        booster, cal = fit_calibrated_classifier(x, y, seed)
        return cls(booster=booster, calibrator=cal, is_useful=bool(segments), holdout=holdout, segments=segments)

    def predict(self, frame: pd.DataFrame) -> np.ndarray:
        """Calibrated P(stockout within the interval) for assessment rows."""
        if self.booster is None:
            return frame["projection_probability"].to_numpy(float)
        return predict_calibrated(self.booster, self.calibrator, feature_frame(frame))

    def adjust(self, frame: pd.DataFrame) -> np.ndarray:
        """The :class:`~stockwarden.risk.assess.RiskAdjuster` hook: the pooled probability (classifier and
        projection, :func:`pool_probabilities`) in the segments where it won on the holdout, the
        projection's elsewhere."""
        base = frame["projection_probability"].to_numpy(float)
        if self.booster is None or not self.segments:
            return base
        use = np.isin(segment_of(frame), list(self.segments))
        return np.where(use, pool_probabilities(self.predict(frame), base), base)

    def top_factors(self, frame: pd.DataFrame, k: int = 3) -> list[str]:
        """Per row, the ``k`` features that pushed the risk up most (SHAP via ``pred_contrib``)."""
        if self.booster is None:
            return [""] * len(frame)
        x = feature_frame(frame)
        contrib = np.asarray(self.booster.predict(x, pred_contrib=True))[:, :-1]  # type: ignore[attr-defined]
        order = np.argsort(-contrib, axis=1)[:, :k]
        names = np.array(FEATURES)
        return [
            ";".join(f"{names[j]}:{contrib[i, j]:+.2f}" for j in order[i] if contrib[i, j] > 0) for i in range(len(x))
        ]


def fit_calibrated_classifier(
    x: pd.DataFrame, y: np.ndarray, seed: int, *, rounds: int = 200, threads: int = 1
) -> tuple[object, object]:
    """LightGBM on all rows + isotonic calibration fitted on 3-fold out-of-fold scores.

    Returns:
        ``(booster, calibrator)``; see :func:`predict_calibrated`.
    """
    import lightgbm as lgb
    from sklearn.isotonic import IsotonicRegression
    from sklearn.model_selection import StratifiedKFold

    params = {
        "objective": "binary",
        "learning_rate": 0.05,
        "num_leaves": 15,
        "min_data_in_leaf": 20,
        "feature_fraction": 0.8,
        "bagging_fraction": 0.8,
        "bagging_freq": 1,
        "lambda_l2": 1.0,
        "verbose": -1,
        "seed": seed,
        "num_threads": threads,
        "deterministic": True,
    }
    oof = np.zeros(len(y))
    folds = StratifiedKFold(n_splits=3, shuffle=True, random_state=seed)
    for tr, te in folds.split(x, y):
        b = lgb.train(params, lgb.Dataset(x.iloc[tr], y[tr]), num_boost_round=rounds)
        oof[te] = b.predict(x.iloc[te])
    cal = IsotonicRegression(out_of_bounds="clip", y_min=0.0, y_max=1.0).fit(oof, y)
    booster = lgb.train(params, lgb.Dataset(x, y), num_boost_round=rounds)
    return booster, cal


def predict_calibrated(booster: object, cal: object, x: pd.DataFrame) -> np.ndarray:
    """Calibrated probabilities from a :func:`fit_calibrated_classifier` pair."""
    raw: np.ndarray = np.asarray(booster.predict(x), dtype=np.float64)  # type: ignore[attr-defined]
    calibrated: np.ndarray = np.asarray(cal.predict(raw), dtype=np.float64)  # type: ignore[attr-defined]
    # isotonic maps score ranges to one probability; a tiny share of the raw score breaks those ties
    # so the ranking keeps the booster's resolution (calibration changes by < 1e-4)
    return np.clip(calibrated + 1e-4 * (raw - 0.5), 0.0, 1.0)


def build_training_set(ds: object, history: pd.DataFrame, *, as_of: pd.Timestamp) -> pd.DataFrame:
    """Labelled rows of earlier checkpoints whose outcome is known at ``as_of`` (no look-ahead)."""
    from stockwarden.risk.backtest import realised_stockouts

    return realised_stockouts(ds, history, as_of=as_of)  # type: ignore[arg-type]
