"""Lead-time drift: a sequential change detector on each supplier's deliveries, in receipt order.

The detector is a bank of CUSUMs of log-likelihood ratios (Page 1954; Basseville & Nikiforov 1993,
ch. 2). Each delivery's delay ``x`` (days late against the promise, or the lead time when the
supplier gives no promises) is scored against the supplier's **own** baseline distribution ``f0``,
learnt from its in-control deliveries, versus the same distribution shifted by ``delta``:

    S_j <- max(0, S_j + clip(log f0(x - delta_j) - log f0(x), -c, c))      alarm when max_j S_j > h

for a grid of shifts ``delta_j`` (both signs) that starts at the smallest shift worth detecting,
``max(drift_min_shift_days, drift_min_shift_sd * sd0)``. Because ``f0`` is the supplier's own, a
supplier that is often late but no worse than before gives negative expected increments (minus the
Kullback-Leibler divergence) and stays quiet; under no change the false-alarm rate is at most about
one per ``e^h / n_shifts`` deliveries (Wald's bound). ``f0`` is a histogram smoothed by a one-day
Gaussian kernel and mixed with a wide Laplace component (5%), so that one odd delivery cannot make an
alarm on its own (``c`` caps it too).

The baseline grows with deliveries that are outside any CUSUM excursion (so post-change deliveries do
not leak into it); after an alarm the change is recorded (start = where the alarming CUSUM last left
zero) and the detector restarts on the new regime.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np

from stockwarden.config import AnomalyRules

_WIDE_MASS = 0.05
_SHIFT_STEPS = (1.0, 1.5, 2.0, 3.0, 4.5)


@dataclass(frozen=True, slots=True)
class ShiftDetection:
    """One detected change in a delivery stream (indices into the stream given).

    Attributes:
        start_index: first delivery of the new regime (where the alarming CUSUM left zero).
        alarm_index: the delivery at which the alarm was raised.
        tested_shift_days: the shift of the CUSUM that alarmed (signed, days).
        baseline_median, baseline_mean: of the in-control deliveries before the change.
        n_baseline: how many deliveries the baseline had.
    """

    start_index: int
    alarm_index: int
    tested_shift_days: float
    baseline_median: float
    baseline_mean: float
    n_baseline: int


def _density(baseline: np.ndarray, lo: int, width: int) -> tuple[np.ndarray, float]:
    """Smoothed pmf of the baseline on the integer grid ``lo .. lo + width - 1``, and its sd."""
    idx = np.clip(np.rint(baseline).astype(np.int64) - lo, 0, width - 1)
    p = np.bincount(idx, minlength=width) / len(baseline)
    k = np.exp(-0.5 * np.arange(-3, 4) ** 2)
    p = np.convolve(p, k / k.sum(), mode="same")
    sd = float(np.std(baseline))
    scale = max(2.0, sd)
    v = np.arange(width) + lo
    wide = np.exp(-np.abs(v - np.median(baseline)) / scale)
    f0 = (1 - _WIDE_MASS) * p + _WIDE_MASS * wide / wide.sum()
    return f0, sd


def _llr_table(logf0: np.ndarray, shifts: np.ndarray, clip: float) -> np.ndarray:
    """``table[v, j] = clip(log f0(v - shift_j) - log f0(v))`` for every grid value ``v``."""
    width = len(logf0)
    idx = np.clip(np.arange(width)[:, None] - shifts[None, :], 0, width - 1)
    return np.clip(logf0[idx] - logf0[:, None], -clip, clip)  # type: ignore[no-any-return]


@dataclass(frozen=True, slots=True)
class _Event:
    kind: str  # "alarm", "refit" or "end"
    at: int = -1
    start: int = -1
    top: int = -1
    committed_to: int = -1


def _run_segment(
    x: np.ndarray,
    i0: int,
    table: np.ndarray,
    *,
    lo: int,
    threshold: float,
    n_base: int,
    max_base: int,
    chunk: int = 256,
) -> _Event:
    """Run the CUSUM bank from ``i0`` (all statistics at zero) with a fixed ``f0`` until the first alarm,
    or the first moment every statistic is back at zero with enough new in-control deliveries to refit.

    Vectorised: with ``W`` the cumulative LLR, ``S_t = W_t - min(-S_prev, min_{s<=t} W_s)`` is the
    reflected walk ``S_t = max(0, S_{t-1} + llr_t)`` without a Python loop per delivery.
    """
    n, J = len(x), table.shape[1]
    s_prev = np.zeros(J)
    last_zero = np.full(J, i0 - 1)
    last_all_zero = i0 - 1
    pos = i0
    while pos < n:
        end = min(n, pos + chunk)
        W = np.cumsum(table[x[pos:end] - lo], axis=0)
        stat = W - np.minimum(-s_prev, np.minimum.accumulate(W, axis=0))
        zero = stat <= 1e-9
        idx = np.arange(pos, end)
        lz = np.maximum(np.maximum.accumulate(np.where(zero, idx[:, None], -1), axis=0), last_zero)
        t_all = idx[zero.all(axis=1)]
        k = t_all - i0 + 1
        ok = k * 20 >= np.minimum(max_base, n_base + k)
        t_refit = int(t_all[ok][0]) if ok.any() else None
        alarms = np.flatnonzero((stat > threshold).any(axis=1))
        if len(alarms) and (t_refit is None or pos + alarms[0] < t_refit):
            row = int(alarms[0])
            top = int(np.argmax(stat[row]))
            start = int(lz[row - 1, top] if row > 0 else last_zero[top]) + 1
            before = t_all[t_all < pos + row]
            return _Event("alarm", pos + row, start, top, int(before[-1]) if len(before) else last_all_zero)
        if t_refit is not None:
            return _Event("refit", t_refit)
        s_prev, last_zero = stat[-1], lz[-1]
        last_all_zero = int(t_all[-1]) if len(t_all) else last_all_zero
        pos = end
    return _Event("end")


def detect_shifts(values: np.ndarray, *, rules: AnomalyRules | None = None) -> list[ShiftDetection]:
    """Detect shifts of location in a stream of integer-valued delays (days), in order.

    Args:
        values: delays (or lead times) in receipt order; NaN are skipped by the caller.
        rules: the ``anomalies`` rules (threshold, clip, minimum shift, baseline sizes).

    Returns:
        The changes found, oldest first (an empty list for a stationary stream).
    """
    r = rules or AnomalyRules()
    x = np.rint(np.asarray(values, dtype=float)).astype(np.int64)
    if len(x) <= r.drift_baseline_min_n:
        return []
    span = int(x.max() - x.min())
    pad = int(max(span, 10) * 5 + 20)  # room for the largest tested shift
    lo, width = int(x.min()) - pad, span + 2 * pad + 1
    out: list[ShiftDetection] = []
    baseline: deque[int] = deque(maxlen=r.drift_baseline_max_n)
    i, n = 0, len(x)
    while i < n:
        if len(baseline) < r.drift_baseline_min_n:
            k = min(r.drift_baseline_min_n - len(baseline), n - i)
            baseline.extend(x[i : i + k].tolist())
            i += k
            continue
        b = np.fromiter(baseline, dtype=np.int64)
        f0, sd = _density(b, lo, width)
        base = max(r.drift_min_shift_days, r.drift_min_shift_sd * sd)
        pos = np.unique(np.maximum(1, np.rint(base * np.array(_SHIFT_STEPS)).astype(np.int64)))
        shifts = np.concatenate([pos, -pos])
        table = _llr_table(np.log(np.maximum(f0, 1e-300)), shifts, r.drift_llr_clip)
        ev = _run_segment(
            x, i, table, lo=lo, threshold=r.drift_threshold, n_base=len(b), max_base=r.drift_baseline_max_n
        )
        if ev.kind == "alarm":
            baseline.extend(x[i : ev.committed_to + 1].tolist())
            b = np.fromiter(baseline, dtype=np.int64)
            out.append(
                ShiftDetection(ev.start, ev.at, float(shifts[ev.top]), float(np.median(b)), float(b.mean()), len(b))
            )
            baseline.clear()
            baseline.extend(x[ev.start : ev.at + 1].tolist())
            i = ev.at + 1
        elif ev.kind == "refit":
            # Refit f0 once the baseline has changed by 5% (a refit per delivery changes nothing material).
            baseline.extend(x[i : ev.at + 1].tolist())
            i = ev.at + 1
        else:
            break
    return out
