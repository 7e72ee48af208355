"""Repository of order proposals: save a run's proposals idempotently, list, transition, export.

Saving (:func:`save_proposals`) is idempotent per SKU-location:

* a draft for the same SKU-location is updated in place (at most one draft per key, enforced by a
  partial unique index), so re-running a date never duplicates drafts;
* approved, changed and exported lines are kept as they are, and a SKU-location with an approved (not yet
  exported) line, or a line rejected or exported for the same date, gets no new draft;
* drafts the new run no longer proposes are withdrawn (deleted with their log);
* drafts worth at most ``rules.orders.auto_approve_max_value`` are approved by the system.

Every change writes a row to ``order_approval_log``. Transitions use the pure state machine of
:mod:`stockwarden.actions.approval` and run in one transaction each (all ids or none).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from types import SimpleNamespace
from typing import Any, cast

import pandas as pd
import sqlalchemy as sa
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from stockwarden.actions import approval
from stockwarden.actions.approval import Actor
from stockwarden.actions.export import build_export
from stockwarden.actions.export import exported_orders_as_pos as _as_pos
from stockwarden.config import OrderRules
from stockwarden.domain.order import (
    AuditEntry,
    DraftPurchaseOrder,
    ProposalEvent,
    ProposalLine,
    ProposalSet,
    ProposalStatus,
)
from stockwarden.errors import InputError
from stockwarden.store.bulk import insert_with_ids
from stockwarden.store.orders import OrderApprovalLogRow, OrderProposalLineRow, OrderProposalRow

Line = OrderProposalLineRow
LINES = cast(sa.Table, OrderProposalLineRow.__table__)
_OPEN = (ProposalStatus.DRAFT.value, ProposalStatus.APPROVED.value, ProposalStatus.CHANGED.value)
_PENDING = (ProposalStatus.APPROVED.value, ProposalStatus.CHANGED.value)
# Fields copied from a domain line into its row on save (the rest is bookkeeping).
_LINE_FIELDS = (
    "po_id",
    "line_no",
    "supplier_id",
    "qty",
    "need_qty",
    "inventory_position",
    "on_hand",
    "on_order",
    "backorders",
    "reorder_point",
    "order_up_to",
    "pack_size",
    "moq",
    "lead_time_days",
    "stockout_probability",
    "level",
    "expected_stockout_date",
    "order_by_date",
    "expected_arrival_date",
    "expected_units_short",
    "avoided_stockout_cost",
    "explanation",
)


@dataclass(frozen=True, slots=True)
class SaveSummary:
    """What :func:`save_proposals` did (counts of lines)."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    withdrawn: int = 0
    blocked: int = 0
    auto_approved: int = 0
    cut_by_budget: int = 0

    def as_dict(self) -> dict[str, int]:
        """The counts as a plain dict (for run records)."""
        return {k: getattr(self, k) for k in self.__slots__}


def _nan_to_none(x: float) -> float | None:
    return None if x != x or math.isinf(x) else x


def _to_line(r: Any) -> ProposalLine:
    """The domain line of a stored line (an ORM row or its values)."""
    return ProposalLine(
        sku=r.sku,
        location_id=r.location_id,
        supplier_id=r.supplier_id,
        po_id=r.po_id,
        line_no=r.line_no,
        qty=r.qty,
        need_qty=r.need_qty,
        inventory_position=r.inventory_position,
        on_hand=r.on_hand,
        on_order=r.on_order,
        backorders=r.backorders,
        reorder_point=r.reorder_point,
        order_up_to=r.order_up_to,
        pack_size=r.pack_size,
        moq=r.moq,
        unit_cost=math.nan if r.unit_cost is None else r.unit_cost,
        lead_time_days=r.lead_time_days,
        stockout_probability=r.stockout_probability,
        level=r.level,
        expected_stockout_date=r.expected_stockout_date,
        order_by_date=r.order_by_date,
        expected_arrival_date=r.expected_arrival_date,
        expected_units_short=r.expected_units_short,
        avoided_stockout_cost=r.avoided_stockout_cost,
        reasons=tuple(x for x in r.reasons.split(";") if x),
        explanation=r.explanation,
        avoided_cost_per_money=math.inf if r.avoided_cost_per_money is None else r.avoided_cost_per_money,
        status=ProposalStatus(r.status),
        proposal_id=r.id,
    )


def _line_values(line: ProposalLine) -> dict[str, Any]:
    """The columns of a line row that come from the domain line."""
    values = {f: getattr(line, f) for f in _LINE_FIELDS}
    values["unit_cost"] = _nan_to_none(line.unit_cost)
    values["avoided_cost_per_money"] = _nan_to_none(line.avoided_cost_per_money)
    values["reasons"] = ";".join(line.reasons)
    values["proposed_qty"] = line.qty
    return values


def _fill(row: OrderProposalLineRow, line: ProposalLine) -> bool:
    """Copy ``line``'s numbers into ``row``; True when anything changed."""
    changed = False
    for key, value in _line_values(line).items():
        if getattr(row, key, None) != value:
            setattr(row, key, value)
            changed = True
    return changed


def _log_values(entry: AuditEntry, line_id: int, run_id: int | None = None) -> dict[str, object]:
    return {
        "line_id": line_id,
        "event": entry.event.value,
        "at": entry.at,
        "actor": entry.user,
        "role": entry.role,
        "from_status": None if entry.from_status is None else entry.from_status.value,
        "to_status": entry.to_status.value,
        "qty_before": entry.qty_before,
        "qty_after": entry.qty_after,
        "value_before": entry.value_before,
        "value_after": entry.value_after,
        "reason_code": entry.reason_code,
        "comment": entry.comment,
        "run_id": run_id,
    }


def _log(s: Session, entry: AuditEntry, line_id: int, run_id: int | None = None) -> None:
    s.add(OrderApprovalLogRow(**_log_values(entry, line_id, run_id)))


def save_proposals(
    engine: Engine, proposals: ProposalSet, *, now: dt.datetime, rules: OrderRules, run_id: int | None = None
) -> SaveSummary:
    """Store a run's proposals idempotently (see the module docstring); one transaction.

    Args:
        engine: database with the ``0003_orders`` schema.
        proposals: the output of :func:`stockwarden.actions.replenish.propose_orders`.
        now: timestamp of the change (UTC).
        rules: the ``orders`` rules (auto-approval limit).
        run_id: the pipeline run writing them, when there is one.
    """
    created = updated = unchanged = blocked_n = 0
    with Session(engine) as s, s.begin():
        rows = s.scalars(
            sa.select(Line).where(sa.or_(Line.status.in_(_OPEN), Line.as_of == proposals.as_of)).with_for_update()
        ).all()
        drafts = {(r.sku, r.location_id): r for r in rows if r.status == ProposalStatus.DRAFT.value}
        blocked = {(r.sku, r.location_id) for r in rows if r.status != ProposalStatus.DRAFT.value}
        keys: set[tuple[str, str]] = set()
        new_rows: list[tuple[dict[str, Any], ProposalLine]] = []
        fresh: dict[tuple[str, str], int] = {}  # key -> position in new_rows
        for order in proposals.orders:
            header = _upsert_header(
                s, order, as_of=proposals.as_of, now=now, rules_version=proposals.rules_version, run_id=run_id
            )
            used = set(
                s.scalars(
                    sa.select(Line.line_no).where(Line.order_id == header.id, Line.status != ProposalStatus.DRAFT.value)
                ).all()
            )
            next_no = 1
            for line in order.lines:
                if line.key in blocked:
                    blocked_n += 1
                    continue
                keys.add(line.key)
                while next_no in used:
                    next_no += 1
                line = _renumber(line, next_no)
                next_no += 1
                row = drafts.get(line.key)
                if row is None:
                    if line.key in fresh:  # the same SKU-location twice in one set: the later line wins
                        new_rows[fresh[line.key]] = (_new_values(line, header.id, proposals, now), line)
                        updated += 1
                        continue
                    fresh[line.key] = len(new_rows)
                    new_rows.append((_new_values(line, header.id, proposals, now), line))
                    continue
                qty_before = row.qty
                row.order_id = header.id
                row.as_of = proposals.as_of
                row.rules_version = proposals.rules_version
                if _fill(row, line):
                    row.updated_at = now
                    updated += 1
                    if qty_before != line.qty:
                        _log(
                            s,
                            AuditEntry(
                                proposal_id=row.id,
                                sku=line.sku,
                                location_id=line.location_id,
                                event=ProposalEvent.CREATED,
                                at=now,
                                user="system",
                                role=None,
                                from_status=ProposalStatus.DRAFT,
                                to_status=ProposalStatus.DRAFT,
                                qty_before=qty_before,
                                qty_after=line.qty,
                                value_before=qty_before * (row.unit_cost or 0.0),
                                value_after=line.value,
                                comment=f"re-proposed as of {proposals.as_of}: {line.explanation}",
                            ),
                            row.id,
                            run_id,
                        )
                else:
                    unchanged += 1
        s.flush()  # headers and updated lines; the new lines go in one bulk insert (COPY on PostgreSQL)
        new_ids = insert_with_ids(s.connection(), LINES, [values for values, _ in new_rows])
        if new_rows:  # one executemany for the creation entries
            s.execute(
                sa.insert(OrderApprovalLogRow),
                [
                    _log_values(approval.creation_entry(line, now=now), new_id, run_id)
                    for (_, line), new_id in zip(new_rows, new_ids, strict=True)
                ],
            )
        created = len(new_rows)
        stale = [r for k, r in drafts.items() if k not in keys]
        for r in stale:
            s.delete(r)
        s.flush()
        auto = _auto_approve(
            s,
            [r for k, r in drafts.items() if k in keys],
            [(new_id, values) for new_id, (values, _) in zip(new_ids, new_rows, strict=True)],
            now=now,
            rules=rules,
            run_id=run_id,
        )
        s.execute(sa.delete(OrderProposalRow).where(~sa.exists().where(Line.order_id == OrderProposalRow.id)))
    return SaveSummary(
        created=created,
        updated=updated,
        unchanged=unchanged,
        withdrawn=len(stale),
        blocked=blocked_n,
        auto_approved=auto,
        cut_by_budget=len(proposals.cut_lines),
    )


def _renumber(line: ProposalLine, line_no: int) -> ProposalLine:
    return line if line.line_no == line_no else replace(line, line_no=line_no)


def _upsert_header(
    s: Session, order: DraftPurchaseOrder, *, as_of: dt.date, now: dt.datetime, rules_version: str, run_id: int | None
) -> OrderProposalRow:
    po_id = order.po_id
    header = s.scalars(sa.select(OrderProposalRow).where(OrderProposalRow.po_id == po_id)).one_or_none()
    if header is None:
        header = OrderProposalRow(po_id=po_id, created_at=now)
        s.add(header)
    header.supplier_id = order.supplier_id
    header.location_id = order.location_id
    header.as_of = as_of
    header.order_date = order.order_date
    header.order_by_date = order.order_by_date
    header.expected_arrival_date = order.expected_arrival_date
    header.min_order_value = order.min_order_value
    header.notes = "; ".join(order.notes)
    header.rules_version = rules_version
    header.run_id = run_id
    header.updated_at = now
    s.flush()
    return header


def _auto_approve(
    s: Session,
    rows: Iterable[OrderProposalLineRow],
    new: Sequence[tuple[int, dict[str, Any]]],
    *,
    now: dt.datetime,
    rules: OrderRules,
    run_id: int | None,
) -> int:
    """Approve the drafts under the auto-approve limit: stored ``rows``, then the ``new`` lines (id, values)."""
    if rules.auto_approve_max_value <= 0:
        return 0
    by_id = {r.id: r for r in rows if r.status == ProposalStatus.DRAFT.value}
    lines = [_to_line(r) for r in by_id.values()] + [_to_line(SimpleNamespace(id=i, **v)) for i, v in new]
    done = approval.auto_approve(lines, now=now, rules=rules)
    approved_new = []
    for line, entry in done:
        line_id = line.proposal_id
        assert line_id is not None
        row = by_id.get(line_id)
        if row is None:
            approved_new.append({"_id": line_id, "status": line.status.value, "updated_at": now})
        else:
            row.status = line.status.value
            row.updated_at = now
        _log(s, entry, line_id, run_id)
    if approved_new:
        s.execute(LINES.update().where(LINES.c.id == sa.bindparam("_id")), approved_new)
    return len(done)


def _new_values(line: ProposalLine, order_id: int, proposals: ProposalSet, now: dt.datetime) -> dict[str, Any]:
    """The stored columns of a new draft line (all but ``id``)."""
    return {
        "order_id": order_id,
        "sku": line.sku,
        "location_id": line.location_id,
        "status": ProposalStatus.DRAFT.value,
        "as_of": proposals.as_of,
        "rules_version": proposals.rules_version,
        "created_at": now,
        "updated_at": now,
        **_line_values(line),
    }


def list_proposal_lines(
    engine: Engine,
    *,
    status: str | Sequence[str] | None = None,
    supplier: str | None = None,
    po_id: str | None = None,
) -> list[ProposalLine]:
    """Proposal lines, filtered, ordered by ``po_id`` and line number.

    Raises:
        InputError: when a status is not one of :class:`ProposalStatus`.
    """
    q = sa.select(Line).order_by(Line.po_id, Line.line_no, Line.id)
    if status is not None:
        wanted = [status] if isinstance(status, str) else list(status)
        valid = {x.value for x in ProposalStatus}
        bad = [w for w in wanted if w not in valid]
        if bad:
            raise InputError(f"unknown status {', '.join(bad)}; use one of {', '.join(sorted(valid))}")
        q = q.where(Line.status.in_(wanted))
    if supplier is not None:
        q = q.where(Line.supplier_id == supplier)
    if po_id is not None:
        q = q.where(Line.po_id == po_id)
    with Session(engine) as s:
        return [_to_line(r) for r in s.scalars(q).all()]


def get_order_notes(engine: Engine, po_ids: Iterable[str] | None = None) -> dict[str, str]:
    """The notes of draft purchase orders (supplier top-ups, budget cuts) by ``po_id``; empty notes left out."""
    q = sa.select(OrderProposalRow.po_id, OrderProposalRow.notes).where(OrderProposalRow.notes != "")
    if po_ids is not None:
        q = q.where(OrderProposalRow.po_id.in_(list(po_ids)))
    with Session(engine) as s:
        return {str(row[0]): str(row[1]) for row in s.execute(q).all()}


def get_proposal_line(engine: Engine, line_id: int) -> ProposalLine:
    """One proposal line by id.

    Raises:
        InputError: when there is no such line.
    """
    with Session(engine) as s:
        row = s.get(Line, line_id)
        if row is None:
            raise InputError(f"proposal {line_id} does not exist (see `stockwarden proposals list`)")
        return _to_line(row)


def get_approval_log(engine: Engine, line_id: int | None = None) -> list[AuditEntry]:
    """The approval log (of one line, or all), oldest first."""
    q = sa.select(OrderApprovalLogRow, Line.sku, Line.location_id).join(Line, Line.id == OrderApprovalLogRow.line_id)
    if line_id is not None:
        q = q.where(OrderApprovalLogRow.line_id == line_id)
    q = q.order_by(OrderApprovalLogRow.id)
    with Session(engine) as s:
        return [
            AuditEntry(
                proposal_id=r.line_id,
                sku=sku,
                location_id=loc,
                event=ProposalEvent(r.event),
                at=r.at,
                user=r.actor,
                role=r.role,
                from_status=None if r.from_status is None else ProposalStatus(r.from_status),
                to_status=ProposalStatus(r.to_status),
                qty_before=r.qty_before,
                qty_after=r.qty_after,
                value_before=r.value_before,
                value_after=r.value_after,
                reason_code=r.reason_code,
                comment=r.comment,
            )
            for r, sku, loc in s.execute(q).all()
        ]


Step = Callable[[ProposalLine], tuple[ProposalLine, AuditEntry]]


def transition_proposals(engine: Engine, line_ids: Sequence[int], step: Step) -> list[ProposalLine]:
    """Apply ``step`` (a pure transition) to every line in one transaction: all succeed or none.

    Raises:
        InputError: when an id does not exist.
        ApprovalError: when the state machine or a handler refuses one of them (nothing is written).
    """
    with Session(engine) as s, s.begin():
        return apply_transitions(s, line_ids, step)


def apply_transitions(s: Session, line_ids: Sequence[int], step: Step) -> list[ProposalLine]:
    """:func:`transition_proposals` inside the caller's transaction (the caller commits)."""
    if not line_ids:
        raise InputError("no proposal id given")
    line_ids = list(dict.fromkeys(line_ids))  # the same id twice is one request
    out = []
    rows = {r.id: r for r in s.scalars(sa.select(Line).where(Line.id.in_(set(line_ids))).with_for_update())}
    for line_id in line_ids:
        row = rows.get(line_id)
        if row is None:
            raise InputError(f"proposal {line_id} does not exist (see `stockwarden proposals list`)")
        new, entry = step(_to_line(row))
        row.status = new.status.value
        row.qty = new.qty
        if entry.reason_code is not None:
            row.override_reason = entry.reason_code
        row.updated_at = entry.at
        _log(s, entry, row.id)
        out.append(new)
    return out


def line_versions(s: Session, line_ids: Sequence[int]) -> dict[int, int]:
    """The version of each proposal line: how many approval-log entries it has (every change adds one)."""
    counts = dict(
        s.execute(
            sa.select(OrderApprovalLogRow.line_id, sa.func.count())
            .where(OrderApprovalLogRow.line_id.in_(list(line_ids)))
            .group_by(OrderApprovalLogRow.line_id)
        ).all()
    )
    return {int(i): int(counts.get(i, 0)) for i in line_ids}


def to_line(row: OrderProposalLineRow) -> ProposalLine:
    """The domain proposal line of a stored row."""
    return _to_line(row)


def approve_proposals(
    engine: Engine,
    line_ids: Sequence[int],
    *,
    actor: Actor,
    now: dt.datetime,
    rules: OrderRules,
    comment: str | None = None,
) -> list[ProposalLine]:
    """Approve drafts at their proposed quantity (all or none)."""
    return transition_proposals(
        engine, line_ids, lambda ln: approval.approve_line(ln, actor=actor, now=now, rules=rules, comment=comment)
    )


def reject_proposal(
    engine: Engine,
    line_id: int,
    *,
    reason: str,
    actor: Actor,
    now: dt.datetime,
    rules: OrderRules,
    comment: str | None = None,
) -> ProposalLine:
    """Reject a draft with a reason code."""
    step: Step = lambda ln: approval.reject_line(  # noqa: E731
        ln, reason=reason, actor=actor, now=now, rules=rules, comment=comment
    )
    return transition_proposals(engine, [line_id], step)[0]


def change_proposal(
    engine: Engine,
    line_id: int,
    *,
    qty: float,
    reason: str,
    actor: Actor,
    now: dt.datetime,
    rules: OrderRules,
    comment: str | None = None,
) -> ProposalLine:
    """Approve a draft with another quantity and a reason code."""
    step: Step = lambda ln: approval.change_line(  # noqa: E731
        ln, qty=qty, reason=reason, actor=actor, now=now, rules=rules, comment=comment
    )
    return transition_proposals(engine, [line_id], step)[0]


@dataclass(frozen=True)
class ExportResult:
    """What :func:`export_proposals` wrote: the rows, and how many lines became ``exported``."""

    frame: pd.DataFrame
    n_exported: int
    n_drafts: int


def export_proposals(
    engine: Engine,
    *,
    order_date: dt.date,
    now: dt.datetime,
    actor: Actor,
    rules: OrderRules,
    deliver: Callable[[pd.DataFrame], object],
    include_drafts: bool = False,
) -> ExportResult:
    """Export approved lines (and drafts with ``include_drafts``) and mark the approved ones exported.

    ``deliver`` writes the file or posts the webhook inside the transaction: if it raises, nothing is
    marked exported. (A crash after delivery and before the commit would export the lines again next
    time; the ERP should treat ``po_id`` + ``line_no`` as the idempotency key.)
    """
    statuses = [*_PENDING, *([ProposalStatus.DRAFT.value] if include_drafts else [])]
    with Session(engine) as s, s.begin():
        rows = s.scalars(
            sa.select(Line).where(Line.status.in_(statuses)).order_by(Line.po_id, Line.line_no).with_for_update()
        ).all()
        lines = [_to_line(r) for r in rows]
        overrides = {r.id: r.override_reason for r in rows if r.override_reason}
        frame = build_export(lines, order_date=order_date, overrides=overrides)
        deliver(frame)
        n = 0
        for row, line in zip(rows, lines, strict=True):
            if not line.status.is_approved:
                continue
            new, entry = approval.mark_exported(line, actor=actor, now=now, rules=rules)
            row.status = new.status.value
            row.ordered_on = order_date
            row.exported_at = now
            row.updated_at = now
            _log(s, entry, row.id)
            n += 1
    return ExportResult(frame=frame, n_exported=n, n_drafts=len(rows) - n)


def exported_orders_as_pos(engine: Engine, *, as_of: dt.date | None = None, grace_days: int = 30) -> pd.DataFrame:
    """Exported lines as open rows of ``purchase_orders`` (merge them into the dataset before assessing).

    Args:
        engine: the database.
        as_of: the date of the assessment they are merged into. An exported order is known to every run
            made after the export, even one assessing an earlier data date (the demo, a late run), so an
            ``order_date`` after ``as_of`` is set back to ``as_of`` (``Dataset.as_of`` would drop it
            otherwise); lines whose expected date is more than ``grace_days`` before ``as_of`` are left
            out (the ERP should hold them by then, under their number).
        grace_days: see ``as_of``.
    """
    with Session(engine) as s:
        rows = s.scalars(
            sa.select(Line).where(Line.status == ProposalStatus.EXPORTED.value).order_by(Line.po_id, Line.line_no)
        ).all()
        by_day: dict[dt.date, list[ProposalLine]] = {}
        for r in rows:
            by_day.setdefault(r.ordered_on or r.as_of, []).append(_to_line(r))
        parts = [build_export(lines, order_date=day) for day, lines in sorted(by_day.items())]
    if not parts:
        return _as_pos(pd.DataFrame())
    frame = pd.concat(parts, ignore_index=True)
    if as_of is not None:
        day = pd.Timestamp(as_of)
        expected = pd.to_datetime(frame["expected_date"])
        frame = frame.loc[expected + pd.Timedelta(days=grace_days) >= day].copy()
        frame["order_date"] = pd.to_datetime(frame["order_date"]).clip(upper=day)
    return _as_pos(frame.reset_index(drop=True))
