"""Order-level adjustments of proposals (pure): supplier minimum order values and the cash budget.

* :func:`top_up_to_minimum`: an order under its supplier's minimum value gets whole packs added to its
  most at-risk lines (each within its maximum cover when one is set), until the minimum is reached.
* :func:`apply_budget`: with a cash budget, every line is ranked by the stockout cost it avoids per
  unit of money (``avoided_stockout_cost / value``); lines are kept in that order while the money
  lasts, the first line that does not fit is reduced to the whole packs (at least the MOQ) that still
  fit, and every line after it is cut. Greedy by ratio is the classic fractional-knapsack heuristic.
"""

from __future__ import annotations

import math
from dataclasses import replace

from stockwarden.config import OrderRules
from stockwarden.domain.order import DraftPurchaseOrder, ProposalLine

_EPS = 1e-9


def per_money(avoided_cost: float, value: float) -> float:
    """Avoided stockout cost per unit of money spent (inf when the line costs nothing known)."""
    if not value > 0:
        return math.inf
    return avoided_cost / value


def _fmt(x: float) -> str:
    return str(round(x)) if abs(x - round(x)) < 1e-9 else f"{x:.2f}"


def top_up_to_minimum(
    order: DraftPurchaseOrder, *, rules: OrderRules, cover_caps: dict[tuple[str, str], float]
) -> DraftPurchaseOrder:
    """Add whole packs to the most at-risk lines until the order reaches the supplier's minimum value.

    Args:
        order: a draft order whose lines are sorted most at-risk first.
        rules: the ``orders`` rules (used for the notes only; the minimum is on the order).
        cover_caps: largest quantity per SKU-location under the maximum cover (absent: no cap).

    Returns:
        The order, unchanged when it already reaches its minimum or no line has a unit cost.
    """
    del rules  # the minimum was resolved into order.min_order_value when the order was built
    minimum = order.min_order_value
    if minimum <= 0 or order.total_value >= minimum - _EPS:
        return order
    lines = list(order.lines)
    costed = [i for i, line in enumerate(lines) if line.unit_cost > 0]
    if not costed:
        note = f"below the supplier minimum {_fmt(minimum)}: no line has a unit cost to top up"
        return replace(order, notes=(*order.notes, note))
    shortfall = minimum - order.total_value
    added_packs = dict.fromkeys(costed, 0)
    for i in costed:
        if shortfall <= _EPS:
            break
        line = lines[i]
        pack_value = line.pack_size * line.unit_cost
        packs = math.ceil(shortfall / pack_value - _EPS)
        cap = cover_caps.get(line.key)
        if cap is not None:
            packs = min(packs, max(math.floor((cap - line.qty) / line.pack_size + _EPS), 0))
        added_packs[i] += packs
        shortfall -= packs * pack_value
    over_cap = shortfall > _EPS
    if over_cap:  # every line is at its cover cap: the supplier's minimum wins, on the most at-risk line
        i = costed[0]
        added_packs[i] += math.ceil(shortfall / (lines[i].pack_size * lines[i].unit_cost) - _EPS)
    for i, packs in added_packs.items():
        if packs <= 0:
            continue
        line = lines[i]
        extra = packs * line.pack_size
        text = (
            f"; topped up +{_fmt(extra)} ({packs} pack{'s' if packs > 1 else ''} of {_fmt(line.pack_size)}) "
            f"so the order reaches the supplier minimum {_fmt(minimum)}"
        )
        if over_cap and i == costed[0]:
            text += " (beyond the cover cap)"
        new_qty = line.qty + extra
        lines[i] = replace(
            line,
            qty=new_qty,
            explanation=line.explanation + text,
            avoided_cost_per_money=per_money(line.avoided_stockout_cost, new_qty * line.unit_cost),
        )
    note = f"topped up from {_fmt(order.total_value)} to the supplier minimum {_fmt(minimum)}"
    return replace(order, lines=tuple(lines), notes=(*order.notes, note))


def _rank_key(line: ProposalLine) -> tuple[float, float, str, str]:
    return (-line.avoided_cost_per_money, -line.stockout_probability, line.sku, line.location_id)


def apply_budget(
    orders: list[DraftPurchaseOrder], *, budget: float | None
) -> tuple[list[DraftPurchaseOrder], list[ProposalLine]]:
    """Keep the lines that avoid the most stockout cost per money within ``budget``.

    Args:
        orders: draft orders.
        budget: money available (None: no budget, everything is kept).

    Returns:
        (orders with the kept lines, renumbered; orders left empty are dropped), and the cut lines
        in ranking order, each with the reason appended to its explanation.
    """
    if budget is None:
        return orders, []
    ranked = sorted((line for order in orders for line in order.lines), key=_rank_key)
    remaining = float(budget)
    kept: dict[tuple[str, int], ProposalLine] = {}
    cut: list[ProposalLine] = []
    exhausted = False
    for rank, line in enumerate(ranked, start=1):
        tag = f"; budget rank {rank} ({_ratio(line)} avoided per 1 spent)"
        if not exhausted and line.value <= remaining + _EPS:
            kept[(line.po_id, line.line_no)] = replace(line, explanation=line.explanation + tag)
            remaining -= line.value
            continue
        if not exhausted:
            exhausted = True
            reduced = _reduce_to_fit(line, remaining)
            if reduced is not None:
                kept[(line.po_id, line.line_no)] = replace(
                    reduced,
                    explanation=reduced.explanation
                    + tag
                    + f"; reduced from {_fmt(line.qty)} to {_fmt(reduced.qty)} to stay within the budget"
                    f" {_fmt(float(budget))}",
                )
                remaining -= reduced.value
                continue
        cut.append(replace(line, explanation=line.explanation + tag + f"; cut: budget {_fmt(float(budget))} spent"))
    out: list[DraftPurchaseOrder] = []
    for order in orders:
        lines = [kept[(line.po_id, line.line_no)] for line in order.lines if (line.po_id, line.line_no) in kept]
        if not lines:
            continue
        n_cut = len(order.lines) - len(lines)
        lines = [replace(line, line_no=i + 1) for i, line in enumerate(lines)]
        new = replace(order, lines=tuple(lines))
        notes = list(order.notes)
        if n_cut:
            cut_here = [line for line in cut if line.po_id == order.po_id]
            names = ", ".join(f"{line.sku} ({_fmt(line.qty)})" for line in cut_here[:10])
            more = f" and {len(cut_here) - 10} more" if len(cut_here) > 10 else ""
            notes.append(f"{n_cut} line(s) cut by the budget: {names}{more}")
        if new.is_below_minimum:
            notes.append(f"below the supplier minimum {_fmt(new.min_order_value)} after the budget cut")
        out.append(
            replace(
                new,
                notes=tuple(notes),
                order_by_date=min(line.order_by_date for line in lines),
                expected_arrival_date=max(line.expected_arrival_date for line in lines),
            )
        )
    return out, cut


def _ratio(line: ProposalLine) -> str:
    r = line.avoided_cost_per_money
    return "∞" if math.isinf(r) else f"{r:.2f}"


def _reduce_to_fit(line: ProposalLine, money: float) -> ProposalLine | None:
    """The line at the most whole packs (at least its MOQ) that ``money`` pays for; None when none fit."""
    if not line.unit_cost > 0:
        return None
    packs = math.floor(money / (line.pack_size * line.unit_cost) + _EPS)
    qty = packs * line.pack_size
    if packs <= 0 or qty < line.moq - _EPS:
        return None
    per_unit = (
        line.avoided_stockout_cost / min(line.expected_units_short, line.qty)
        if min(line.expected_units_short, line.qty) > 0
        else 0.0
    )
    avoided = min(line.expected_units_short, qty) * per_unit
    return replace(
        line, qty=qty, avoided_stockout_cost=avoided, avoided_cost_per_money=per_money(avoided, qty * line.unit_cost)
    )
