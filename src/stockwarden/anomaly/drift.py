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
    pending: list[int] = []
    S = np.zeros(0)
    starts = np.zeros(0, dtype=np.int64)
    shifts = np.zeros(0, dtype=np.int64)
    logf0 = np.zeros(width)
    dirty = True
    fresh_n = 0
    for i, xi in enumerate(x):
        if len(baseline) < r.drift_baseline_min_n:
            baseline.append(int(xi))
            dirty = True
            continue
        if dirty:
            fresh_n = 0
            b = np.fromiter(baseline, dtype=np.int64)
            f0, sd = _density(b, lo, width)
            logf0 = np.log(np.maximum(f0, 1e-300))
            base = max(r.drift_min_shift_days, r.drift_min_shift_sd * sd)
            pos = np.unique(np.maximum(1, np.rint(base * np.array(_SHIFT_STEPS)).astype(np.int64)))
            new_shifts = np.concatenate([pos, -pos])
            if len(new_shifts) != len(shifts) or np.any(new_shifts != shifts):
                shifts, S, starts = new_shifts, np.zeros(len(new_shifts)), np.full(len(new_shifts), i)
            dirty = False
        j = np.clip(xi - shifts - lo, 0, width - 1)
        llr = np.clip(logf0[j] - logf0[xi - lo], -r.drift_llr_clip, r.drift_llr_clip)
        fresh = S <= 0
        S = np.maximum(0.0, S + llr)
        starts = np.where(fresh & (S > 0), i, starts)
        pending.append(int(xi))
        top = int(np.argmax(S))
        if S[top] > r.drift_threshold:
            b = np.fromiter(baseline, dtype=np.int64)
            start = int(starts[top])
            out.append(ShiftDetection(start, i, float(shifts[top]), float(np.median(b)), float(b.mean()), len(b)))
            baseline.clear()
            baseline.extend(int(v) for v in x[start : i + 1])
            pending, S, shifts, dirty = [], np.zeros(0), np.zeros(0, dtype=np.int64), True
        elif not S.any():
            baseline.extend(pending)
            fresh_n += len(pending)
            pending = []
            # Refit f0 once the baseline has changed by 5% (a refit per delivery changes nothing material).
            dirty = fresh_n * 20 >= len(baseline)
    return out
