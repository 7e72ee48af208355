"""Order proposals: lines and purchase orders, detail with approval log, approve / reject / change, export."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import Response

from stockwarden.api.deps import Ctx, CurrentActor
from stockwarden.api.schemas import (
    ApproveIn,
    ChangeIn,
    ExportIn,
    ListOf,
    ProposalDetail,
    ProposalPublic,
    PurchaseOrderPublic,
    RejectIn,
)
from stockwarden.services import proposals

router = APIRouter(tags=["proposals"])
Multi = Annotated[list[str] | None, Query(description="repeat or comma-separate")]
Limit = Annotated[int, Query(ge=1, le=1000)]
Offset = Annotated[int, Query(ge=0, le=10**9)]


@router.get("/proposals", response_model=ListOf[ProposalPublic])
def list_proposals(
    ctx: Ctx,
    actor: CurrentActor,
    status: Multi = None,
    supplier: Annotated[str | None, Query(max_length=200)] = None,
    po_id: Annotated[str | None, Query(max_length=200)] = None,
    location: Multi = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> ListOf[ProposalPublic]:
    """Proposal lines by purchase order and line."""
    page = proposals.list_proposals(
        ctx, actor=actor, status=status, supplier=supplier, po_id=po_id, location=location, limit=limit, offset=offset
    )
    return ListOf(items=[ProposalPublic(**i) for i in page.items], total=page.total)


@router.get("/purchase-orders", response_model=ListOf[PurchaseOrderPublic])
def purchase_orders(
    ctx: Ctx, actor: CurrentActor, status: Multi = None, limit: Limit = 50, offset: Offset = 0
) -> ListOf[PurchaseOrderPublic]:
    """Draft purchase orders (lines grouped by PO number)."""
    page = proposals.list_purchase_orders(ctx, actor=actor, status=status, limit=limit, offset=offset)
    return ListOf(items=[PurchaseOrderPublic(**i) for i in page.items], total=page.total)


@router.post("/purchase-orders/{po_id}/approve", response_model=ListOf[ProposalPublic])
def approve_po(po_id: str, ctx: Ctx, actor: CurrentActor, body: ApproveIn | None = None) -> ListOf[ProposalPublic]:
    """Approve every draft line of a purchase order (all or none)."""
    b = body or ApproveIn()
    done = proposals.approve_purchase_order(ctx, po_id, actor=actor, comment=b.comment, as_role=b.as_role)
    return ListOf(items=[ProposalPublic(**i) for i in done], total=len(done))


@router.get("/proposals/{proposal_id}", response_model=ProposalDetail)
def get_proposal(proposal_id: int, ctx: Ctx, actor: CurrentActor) -> ProposalDetail:
    """One proposal line with how it was computed and its approval log."""
    line, log = proposals.get_proposal(ctx, proposal_id, actor=actor)
    return ProposalDetail(**line, log=log)


@router.post("/proposals/{proposal_id}/approve", response_model=ProposalPublic)
def approve(proposal_id: int, ctx: Ctx, actor: CurrentActor, body: ApproveIn | None = None) -> ProposalPublic:
    """Approve a draft line (409 when it changed since ``version`` or is no longer a draft)."""
    b = body or ApproveIn()
    versions = None if b.version is None else {proposal_id: b.version}
    done = proposals.approve(ctx, [proposal_id], actor=actor, versions=versions, comment=b.comment, as_role=b.as_role)
    return ProposalPublic(**done[0])


@router.post("/proposals/{proposal_id}/reject", response_model=ProposalPublic)
def reject(proposal_id: int, body: RejectIn, ctx: Ctx, actor: CurrentActor) -> ProposalPublic:
    """Reject a draft line with a reason code."""
    return ProposalPublic(
        **proposals.reject(
            ctx, proposal_id, reason=body.reason, actor=actor, version=body.version, comment=body.comment
        )
    )


@router.post("/proposals/{proposal_id}/change", response_model=ProposalPublic)
def change(proposal_id: int, body: ChangeIn, ctx: Ctx, actor: CurrentActor) -> ProposalPublic:
    """Approve a draft line with another quantity and a reason code."""
    return ProposalPublic(
        **proposals.change(
            ctx,
            proposal_id,
            qty=body.qty,
            reason=body.reason,
            actor=actor,
            version=body.version,
            comment=body.comment,
            as_role=body.as_role,
        )
    )


@router.post(
    "/proposals/export",
    response_class=Response,
    responses={
        200: {
            "content": {
                "text/csv": {},
                "application/json": {},
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {},
            }
        }
    },
)
def export(ctx: Ctx, actor: CurrentActor, body: ExportIn | None = None) -> Response:
    """Export approved lines in the ERP layout (the file is the response); they then count as on order."""
    b = body or ExportIn()
    content, media, name, counts = proposals.export_file(
        ctx, actor=actor, fmt=b.format, include_drafts=b.include_drafts, chinese=b.chinese_headers
    )
    headers = {
        "Content-Disposition": f'attachment; filename="{name}"',
        "X-Exported-Lines": str(counts["exported"]),
        "X-Draft-Lines": str(counts["drafts"]),
    }
    return Response(content, media_type=media, headers=headers)
