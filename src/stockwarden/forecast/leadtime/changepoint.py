"""Change points in a supplier's delays, as of a date, and the shift that moves old deliveries into the new regime.

A supplier whose deliveries suddenly run five days later is, from that day on, a different supplier:
a recency-weighted histogram (half-life ``half_life_days``) needs about a half-life of new deliveries
before its mean moves half way. Here each supplier's deliveries (one per truck: the lines ordered and
received together, so that 20 lines of one late truck are one piece of evidence) are run, in receipt
order, through a two-sided CUSUM (Page 1954) of sequential normal scores:

    u_t = (#{b < x_t} + #{b = x_t} / 2 + 1/2) / (m + 1)     over the m in-control deliveries b
    z_t = Phi^-1(u_t)
    S+_t = max(0, S+_{t-1} + z_t - k),   S-_t = max(0, S-_{t-1} - z_t - k),   alarm when S+ or S- > h

where ``x`` is the delay against the promise (the lead time when the supplier mostly gives no
promise), the in-control deliveries are the current regime's deliveries before the running excursion
(at most the last 250), ``k = 0.5`` (half a one-sd shift) and ``h = shift_threshold``. Scoring by rank
against the supplier's own past makes the detector distribution-free: delays are skewed and
integer-valued, and a supplier that is often a week late but no later than before gives scores that
are standard normal (ties make them less spread, which only makes alarms rarer), so the false-alarm
rate of the textbook CUSUM holds (about one per 1,000 deliveries at ``h = 6``); a score is bounded by
``Phi^-1(1 - 1/(2(m+1)))``, so one very late truck cannot raise an alarm on its own. On an alarm the
new regime starts where the alarming statistic last left zero, and the detector restarts there once
it has ``shift_baseline_deliveries`` deliveries of the new regime. The detector is sequential, so the
regimes found as of a date use only the deliveries received by then, and those found as of an
earlier date are a prefix of them.

Old deliveries are not thrown away: under a location-shift model the new regime is the old one moved
by ``delta``, so each earlier regime's deliveries are moved by the Hodges-Lehmann shift estimate
(median of the pairwise differences new - old; Hodges & Lehmann 1963) rounded to whole days. The
spread keeps the long history, and the location follows the recent deliveries. A shift smaller than
``shift_min_days`` is not adapted to (an indifference zone), so a false alarm, whose estimated shift is
near zero, changes nothing; a supplier without an alarm is left untouched.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right, insort
from statistics import NormalDist

import numpy as np
import pandas as pd

from stockwarden.config import LeadTimeRules

_NORMAL = NormalDist()
_K = 0.5  # CUSUM reference value: half of a one-sd shift in normal scores
_BASELINE_MAX = 250  # in-control deliveries a normal score is computed against (most recent ones)
_HL_MAX = 250  # deliveries per side used in the Hodges-Lehmann estimate (most recent ones)


def find_regime_starts(values: np.ndarray, *, threshold: float, baseline_deliveries: int) -> list[int]:
    """Start indices of the regimes of a delivery stream (in receipt order); the first is always 0.

    Args:
        values: one delay (or lead time) per delivery, in receipt order, no NaN.
        threshold: the CUSUM alarm level ``h`` (normal-score units; ``k`` is 0.5).
        baseline_deliveries: deliveries of a regime needed before it is tested for a change.
    """
    x = np.asarray(values, dtype=float).tolist()
    n = len(x)
    starts = [0]
    r0 = 0
    while r0 + baseline_deliveries < n:
        ctrl = r0 + baseline_deliveries  # in-control deliveries are x[r0:ctrl] (the last _BASELINE_MAX of them)
        ref = sorted(x[max(r0, ctrl - _BASELINE_MAX) : ctrl])
        sp = sm = 0.0
        zp = zm = ctrl - 1  # last index where S+ / S- was zero
        alarm_start = -1
        for t in range(ctrl, n):
            v = x[t]
            below = bisect_left(ref, v)
            ties = bisect_right(ref, v) - below
            z = _NORMAL.inv_cdf((below + 0.5 * ties + 0.5) / (len(ref) + 1))
            sp = max(0.0, sp + z - _K)
            sm = max(0.0, sm - z - _K)
            if sp > threshold or sm > threshold:
                alarm_start = (zp if sp > threshold else zm) + 1
                break
            if sp == 0.0:
                zp = t
            if sm == 0.0:
                zm = t
            if sp == 0.0 and sm == 0.0:  # back in control: x[ctrl:t+1] join the baseline
                for j in range(ctrl, t + 1):
                    insort(ref, x[j])
                    if j - _BASELINE_MAX >= r0:
                        del ref[bisect_left(ref, x[j - _BASELINE_MAX])]
                ctrl = t + 1
        if alarm_start < 0:
            break
        starts.append(alarm_start)
        r0 = alarm_start
    return starts


def _hodges_lehmann(new: np.ndarray, old: np.ndarray) -> float:
    """Median of all pairwise differences ``new_i - old_j`` (the most recent values of each side)."""
    a, b = new[-_HL_MAX:], old[-_HL_MAX:]
    return float(np.median(a[:, None] - b[None, :]))


def delivery_batches(history: pd.DataFrame) -> pd.DataFrame:
    """One delivery per supplier, order date and receipt date: the lines that came on one truck.

    Lines ordered together and received together share their fate; counted line by line they would
    give the detector many copies of one piece of evidence. Each delivery is one observation with the
    median delay and lead time of its lines, available on its receipt date.

    Returns:
        ``supplier_id, order_date, received_date, delay_days, lead_time_days, n_lines`` in receipt order.
    """
    return _deliveries(history)[0]


def _deliveries(history: pd.DataFrame) -> tuple[pd.DataFrame, np.ndarray]:
    """:func:`delivery_batches`, and for each line of ``history`` the row of its delivery (-1: no supplier or date)."""
    # Grouped by one integer key per line, in the output's order (supplier, receipt, order date): a group-by
    # on the three columns held 2.2 GB at a million SKU-locations' 23.6M lines.
    sup_codes, sups = pd.factorize(history["supplier_id"], sort=True)
    od_codes, ods = pd.factorize(history["order_date"].to_numpy("datetime64[ns]"), sort=True)
    rd_codes, rds = pd.factorize(history["received_date"].to_numpy("datetime64[ns]"), sort=True)
    n_od, n_rd = max(len(ods), 1), max(len(rds), 1)
    keep = np.flatnonzero((sup_codes >= 0) & (od_codes >= 0) & (rd_codes >= 0))
    key = (sup_codes[keep].astype(np.int64) * n_rd + rd_codes[keep]) * n_od + od_codes[keep]
    del sup_codes, od_codes, rd_codes
    lines = pd.DataFrame(
        {
            "key": key,
            "delay_days": history["delay_days"].to_numpy(float)[keep],
            "lead_time_days": history["lead_time_days"].to_numpy(float)[keep],
        }
    )
    agg = lines.groupby("key", sort=True).agg(
        delay_days=("delay_days", "median"), lead_time_days=("lead_time_days", "median"), n_lines=("key", "size")
    )
    del lines
    k = agg.index.to_numpy(np.int64)
    line_delivery = np.full(len(history), -1, dtype=np.int64)
    line_delivery[keep] = np.searchsorted(k, key)  # k is sorted and holds every key
    batches = pd.DataFrame(
        {
            "supplier_id": pd.Series(np.asarray(sups, dtype=object)[k // (n_rd * n_od)], dtype=object),
            "order_date": pd.Series(ods[k % n_od]),
            "received_date": pd.Series(rds[(k // n_od) % n_rd]),
            "delay_days": agg["delay_days"].to_numpy(float),
            "lead_time_days": agg["lead_time_days"].to_numpy(float),
            "n_lines": agg["n_lines"].to_numpy(np.int64),
        }
    )
    return batches, line_delivery


DELAY_KNOWN_SHARE = 0.8
"""A supplier's deliveries are judged by their delay against the promise when at least this share has one."""


def uses_delay(batches: pd.DataFrame) -> bool:
    """Whether a supplier's delivery stream is its delay (mostly promised) rather than its lead time."""
    return bool(batches["delay_days"].notna().mean() >= DELAY_KNOWN_SHARE)


def _stream(batches: pd.DataFrame) -> np.ndarray:
    """The delivery stream the detector reads: delay when mostly known, else lead time (NaN kept)."""
    return batches["delay_days" if uses_delay(batches) else "lead_time_days"].to_numpy(float)


def compute_regime_shifts(history: pd.DataFrame, *, rules: LeadTimeRules) -> pd.DataFrame:
    """Per received PO line, the days to add to its lead time and delay to move it into its supplier's current regime.

    Args:
        history: :func:`~stockwarden.forecast.leadtime.model.received_po_history` (POs received by the
            date of the estimate only, so the result has no look-ahead).
        rules: the ``leadtime`` rules (``adapt_to_shifts``, ``shift_threshold``, ``shift_min_days``,
            ``shift_baseline_deliveries``).

    Returns:
        Frame aligned with ``history`` (same index): ``shift_days`` (0 for lines of the current regime
        and for suppliers without a change) and ``regime_start`` (receipt date of the first delivery of
        the supplier's current regime, NaT when no earlier regime is at least ``shift_min_days`` away).
    """
    out = pd.DataFrame({"shift_days": 0.0, "regime_start": pd.NaT}, index=history.index)
    out["regime_start"] = pd.to_datetime(out["regime_start"])
    if not rules.adapt_to_shifts or history.empty:
        return out
    batches, line_delivery = _deliveries(history)
    # per delivery (a row of ``batches``): its shift and the start of its supplier's current regime
    shift = np.zeros(len(batches))
    start = np.full(len(batches), np.datetime64("NaT"), dtype="datetime64[ns]")
    for _sup, g in batches.groupby("supplier_id", sort=True):
        values = _stream(g)
        ok = ~np.isnan(values)
        gv, vv = g.loc[ok], values[ok]
        starts = find_regime_starts(
            vv,
            threshold=rules.shift_threshold,
            baseline_deliveries=rules.shift_baseline_deliveries,
        )
        if len(starts) == 1:
            continue
        bounds = [*starts, len(vv)]
        current = vv[starts[-1] :]
        regime = np.searchsorted(np.asarray(starts), np.arange(len(vv)), side="right") - 1
        deltas = np.array(
            [np.rint(_hodges_lehmann(current, vv[bounds[j] : bounds[j + 1]])) for j in range(len(starts))]
        )
        deltas[np.abs(deltas) < rules.shift_min_days] = 0.0  # too small to adapt to (indifference zone)
        deltas[-1] = 0.0
        if not deltas.any():
            continue
        # A batch without a usable value (dropped above) takes the regime of the delivery before it.
        rec = gv["received_date"].to_numpy()
        pos = np.searchsorted(rec, g["received_date"].to_numpy(), side="right") - 1
        reg_all = np.where(pos >= 0, regime[np.clip(pos, 0, None)], 0)
        rows = g.index.to_numpy()
        shift[rows] = deltas[reg_all]
        start[rows] = gv["received_date"].to_numpy("datetime64[ns]")[starts[-1]]
    # Each line takes its delivery's (a merge of the lines' three key columns with the deliveries held
    # 3.3 GB at a million SKU-locations' 23.6M lines).
    found = line_delivery >= 0
    line_shift = np.zeros(len(history))
    line_shift[found] = shift[line_delivery[found]]
    line_start = np.full(len(history), np.datetime64("NaT"), dtype="datetime64[ns]")
    line_start[found] = start[line_delivery[found]]
    return pd.DataFrame({"shift_days": line_shift, "regime_start": line_start}, index=history.index)
