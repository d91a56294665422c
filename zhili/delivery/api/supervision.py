"""Supervision over the API (`/api/v1/delivery/supervision/…`): the compliance report,
rectification orders (list, detail, issue, answer, re-check, escalate, the notice document),
spot checks and penalties. The same services as the pages; errors in the platform's shape
(400 with field messages, 409 `stale` / `invalid_transition`)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, File, Form, Query, Schema, Status
from ninja.files import UploadedFile

from zhili.core.api import RouteScope
from zhili.core.documents import attachment
from zhili.core.services import ServiceError, field_error
from zhili.delivery import documents, orders, reports
from zhili.delivery.api.base import router
from zhili.delivery.models import (
    Evidence,
    Outlet,
    OutletDay,
    Penalty,
    RectificationOrder,
    SpotCheck,
)

SUPERVISE = ((Outlet, "supervise"),)


# --- the compliance report ----------------------------------------------------------------------

class ComplianceQuery(Schema):
    day: str | None = Field(None, description="One day, YYYY-MM-DD")
    month: str | None = Field(None, description="A month, YYYY-MM (the default: this month)")
    start: str | None = Field(None, description="A range: first day, YYYY-MM-DD")
    end: str | None = Field(None, description="A range: last day, inclusive")
    area: str | None = Field(None, pattern=r"^\d{1,15}$",
                             description="Area code (its subtree); default: your area")
    company: int | None = Field(None, description="Courier company id")
    flagged_only: bool = Field(False, description="Only outlets with findings")
    limit: int = Field(500, ge=1, le=5000, description="Outlet rows returned (worst first)")
    offset: int = Field(0, ge=0)


class PeriodOut(Schema):
    start: dt.date
    end: dt.date
    kind: str
    label: str


class FiguresOut(Schema):
    parcels: int
    real_name: int
    inspected: int
    xrayed: int
    flagged: int
    inspections: int
    inspection_photos: int
    scans: int
    alarms: int
    real_name_rate: float | None = Field(description="Percent, floored to two decimals")
    inspected_rate: float | None
    xrayed_rate: float | None
    attained: bool | None = Field(description="三个100%: all three rates at 100 % "
                                  "(null without parcels)")


class OutletRowOut(FiguresOut):
    outlet_id: int
    name: str
    code: str
    company_id: int
    company_name: str
    area_code: str
    area_name: str
    previous: dict[str, float | None] = Field(description="Rates of the previous period")
    drops: dict[str, float] = Field(description="Points lost against the previous period "
                                    f"(≥ {reports.DROP_POINTS})")
    anomalies: list[str] = Field(description=", ".join(reports.ANOMALIES))


class SummaryOut(FiguresOut):
    key: int | str = Field(description="Company id, or padded area code")
    name: str
    outlets: int
    outlets_attained: int
    outlets_flagged: int


class TrendOut(Schema):
    day: dt.date
    parcels: int
    real_name_rate: float | None
    inspected_rate: float | None
    xrayed_rate: float | None


class ComplianceOut(Schema):
    period: PeriodOut
    previous: PeriodOut
    as_of: dt.datetime = Field(description="When the newest data arrived")
    totals: FiguresOut
    outlet_count: int
    outlets: list[OutletRowOut]
    anomaly_counts: dict[str, int]
    companies: list[SummaryOut]
    counties: list[SummaryOut]
    towns: list[SummaryOut]
    trend: list[TrendOut]


def _period_out(period: reports.Period) -> dict:
    return {"start": period.start, "end": period.end, "kind": period.kind,
            "label": period.label}


def _root_prefix(user, raw: str | None) -> str | None:
    from zhili.areas.models import Area
    from zhili.areas.queries import root_for
    from zhili.core import codes

    if not raw:
        root = root_for(user)
        return root.prefix if root is not None else None
    try:
        code = codes.normalize(raw)
    except codes.CodeError:
        code = None
    area = Area.objects.in_scope(user).filter(code=code).first() if code else None
    if area is None:
        raise field_error("area", _("No such area within your reach."))
    return area.prefix


@router.get("/supervision/compliance", scope=RouteScope(OutletDay, "view"),
            response=ComplianceOut,
            summary="Compliance with the three 100 % rules per outlet, company and area")
def compliance(request, query: Query[ComplianceQuery]):
    user = request.auth
    period = reports.parse_period(query.dict(), timezone.localdate())
    report = reports.compliance(user, period=period, area_prefix=_root_prefix(user, query.area),
                                company_id=query.company)
    rows = report.flagged if query.flagged_only else report.rows
    shown = reports.resolve_names(rows[query.offset:query.offset + query.limit])
    return {
        "period": _period_out(period), "previous": _period_out(report.previous),
        "as_of": report.as_of, "totals": report.totals.as_dict(), "outlet_count": len(rows),
        "outlets": [r.as_dict() for r in shown], "anomaly_counts": report.anomaly_counts(),
        "companies": [s.as_dict() for s in report.companies],
        "counties": [s.as_dict() for s in report.counties],
        "towns": [s.as_dict() for s in report.towns], "trend": report.trend,
    }


# --- rectification orders -----------------------------------------------------------------------

class OrderRow(Schema):
    id: int
    number: str | None
    outlet_id: int
    outlet_name: str
    state: str
    state_name: str
    period_start: dt.date
    period_end: dt.date
    issued_at: dt.datetime
    deadline_at: dt.datetime | None
    overdue: bool
    version: int


class EvidenceOut(Schema):
    id: int
    filename: str
    content_type: str
    size: int
    url: str
    created_at: dt.datetime


class TransitionOut(Schema):
    action: str
    from_state: str
    to_state: str
    by: str
    reason: str
    deadline_after: dt.datetime | None
    created_at: dt.datetime


class OrderOut(OrderRow):
    figures: dict
    findings: str
    requirements: str
    answer: str
    answered_at: dt.datetime | None
    recheck_note: str
    closed_at: dt.datetime | None
    evidence: list[EvidenceOut]
    transitions: list[TransitionOut]
    downloads: dict[str, str] = Field(description="The notice as docx and pdf")


class OrderPage(Schema):
    count: int
    items: list[OrderRow]


class OrderListQuery(Schema):
    state: str | None = Field(None, description="issued, answered, closed, escalated or open")
    outlet_id: int | None = None
    overdue: bool | None = None
    limit: int = Field(50, ge=1, le=500)
    offset: int = Field(0, ge=0)


def _row(o: RectificationOrder) -> dict:
    return {"id": o.pk, "number": o.number, "outlet_id": o.outlet_id,
            "outlet_name": o.outlet.org.name, "state": o.state,
            "state_name": str(o.get_state_display()), "period_start": o.period_start,
            "period_end": o.period_end, "issued_at": o.issued_at, "deadline_at": o.deadline_at,
            "overdue": o.overdue, "version": o.version}


def _evidence(items, route: str, owner_pk: int) -> list[dict]:
    base = reverse(route, args=[owner_pk])
    return [{"id": e.pk, "filename": e.filename, "content_type": e.content_type,
             "size": e.size, "url": f"{base}?id={e.pk}", "created_at": e.created_at}
            for e in items]


def _order_out(pk: int) -> dict:
    o = RectificationOrder.objects.select_related("outlet__org").get(pk=pk)
    api = f"/api/v1/delivery/supervision/orders/{o.pk}"
    return {
        **_row(o), "figures": o.figures, "findings": o.findings,
        "requirements": o.requirements, "answer": o.answer, "answered_at": o.answered_at,
        "recheck_note": o.recheck_note, "closed_at": o.closed_at,
        "evidence": _evidence(o.evidence.order_by("created_at", "id"),
                              "delivery:order_file", o.pk),
        "transitions": [{"action": t.action, "from_state": t.from_state,
                         "to_state": t.to_state, "by": t.actor_name, "reason": t.reason,
                         "deadline_after": t.deadline_after, "created_at": t.created_at}
                        for t in o.transitions.order_by("created_at", "id")],
        "downloads": {"docx": f"{api}/notice?fmt=docx", "pdf": f"{api}/notice?fmt=pdf"},
    }


@router.get("/supervision/orders", scope=RouteScope(RectificationOrder, "view"),
            response=OrderPage, summary="Rectification orders in reach, newest first")
def list_orders(request, query: Query[OrderListQuery]):
    qs = RectificationOrder.objects.restrict(request.auth).select_related("outlet__org")
    if query.state == "open":
        qs = qs.exclude(state="closed")
    elif query.state:
        qs = qs.filter(state=query.state)
    if query.outlet_id is not None:
        qs = qs.filter(outlet_id=query.outlet_id)
    if query.overdue is not None:
        qs = qs.filter(overdue=query.overdue)
    qs = qs.order_by("-issued_at", "-id")
    return {"count": qs.count(),
            "items": [_row(o) for o in qs[query.offset:query.offset + query.limit]]}


ORDER = RouteScope(RectificationOrder, "view", lookup="pk")


@router.get("/supervision/orders/{int:pk}", scope=ORDER, response=OrderOut,
            summary="A rectification order with its evidence and timeline")
def get_order(request, pk: int):
    return _order_out(pk)


class IssueIn(Schema):
    outlet_id: int
    period_start: dt.date
    period_end: dt.date
    findings: str = Field(max_length=5000)
    requirements: str = Field(max_length=5000)
    days: int = Field(orders.ANSWER_DAYS, description="Working days to answer")


def _outlet(user, pk: int) -> Outlet:
    outlet = Outlet.objects.in_scope(user).filter(pk=pk).first()
    if outlet is None:
        raise field_error("outlet_id", _("No such outlet within your reach."))
    return outlet


@router.post("/supervision/orders",
             scope=RouteScope(RectificationOrder, "add", requires=SUPERVISE),
             response={201: OrderOut},
             summary="Issue a rectification order (the period's figures are recorded)")
def issue_order(request, payload: IssueIn):
    order = orders.issue_order(actor=request.auth, outlet=_outlet(request.auth, payload.outlet_id),
                               period_start=payload.period_start,
                               period_end=payload.period_end, findings=payload.findings,
                               requirements=payload.requirements, days=payload.days)
    return Status(201, _order_out(order.pk))


class AnswerIn(Schema):
    answer: str = Field(max_length=5000)
    version: int | None = Field(None, description="The order's version as read (409 if stale)")


ANSWER = RouteScope(RectificationOrder, "change", lookup="pk")


@router.post("/supervision/orders/{int:pk}/answer", scope=ANSWER, response=OrderOut,
             summary="The outlet answers (JSON, without files)")
def answer_order(request, pk: int, payload: AnswerIn):
    orders.answer_order(actor=request.auth, order=request.scoped_object,
                        answer=payload.answer, version=payload.version)
    return _order_out(pk)


@router.post("/supervision/orders/{int:pk}/answer/upload", scope=ANSWER, response=OrderOut,
             summary="The outlet answers with photos or documents (multipart `files`)")
def answer_order_with_files(request, pk: int, payload: Form[AnswerIn],
                            files: File[list[UploadedFile]] = None):
    items = [orders.FileData(f.read(), f.name) for f in (files or [])]
    orders.answer_order(actor=request.auth, order=request.scoped_object,
                        answer=payload.answer, files=items, version=payload.version)
    return _order_out(pk)


class RecheckIn(Schema):
    passed: bool = Field(description="true: close the order; false: send it back")
    note: str = Field(max_length=5000)
    days: int = Field(orders.ANSWER_DAYS, description="Sent back: working days to answer")
    version: int | None = None


@router.post("/supervision/orders/{int:pk}/recheck",
             scope=RouteScope(RectificationOrder, "view", lookup="pk", requires=SUPERVISE),
             response=OrderOut, summary="Re-check the answer: close, or send back")
def recheck_order(request, pk: int, payload: RecheckIn):
    orders.recheck(actor=request.auth, order=request.scoped_object, passed=payload.passed,
                   note=payload.note, days=payload.days, version=payload.version)
    return _order_out(pk)


class EscalateIn(Schema):
    reason: str = Field(max_length=5000)
    version: int | None = None


@router.post("/supervision/orders/{int:pk}/escalate",
             scope=RouteScope(RectificationOrder, "view", lookup="pk", requires=SUPERVISE),
             response=OrderOut, summary="Escalate the order to the level above")
def escalate_order(request, pk: int, payload: EscalateIn):
    orders.escalate(actor=request.auth, order=request.scoped_object, reason=payload.reason,
                    version=payload.version)
    return _order_out(pk)


class NoticeQuery(Schema):
    fmt: str = Field("docx", pattern=r"^(docx|pdf)$")


@router.get("/supervision/orders/{int:pk}/notice", scope=ORDER, response={200: None},
            summary="The 整改通知书 as Word (fmt=docx) or PDF (fmt=pdf); audited")
def order_notice(request, pk: int, query: Query[NoticeQuery]):
    from zhili.core.documents import DocumentError

    try:
        content, filename, content_type = documents.download_order(
            actor=request.auth, order=request.scoped_object, fmt=query.fmt)
    except DocumentError as exc:
        raise ServiceError("unavailable", str(exc)) from None
    return attachment(content, filename, content_type)


class EvidenceQuery(Schema):
    id: int = Field(description="Evidence id (from the order's `evidence`)")


def _file(stored: Evidence | None):
    if stored is None:
        raise ServiceError("not_found", _("Not found."), status=404)
    with stored.file.open("rb") as handle:
        return attachment(handle.read(), stored.filename, stored.content_type)


@router.get("/supervision/orders/{int:pk}/evidence", scope=ORDER, response={200: None},
            summary="An evidence file of the order")
def order_evidence(request, pk: int, query: Query[EvidenceQuery]):
    return _file(Evidence.objects.filter(pk=query.id, order_id=pk).first())


# --- spot checks --------------------------------------------------------------------------------

class SpotCheckOut(Schema):
    id: int
    outlet_id: int
    outlet_name: str
    sampled: list[dict] = Field(description="Waybill, day, taken-in time, goods and the "
                                "company's own flags")
    findings: list[dict]
    result: str
    note: str
    created_at: dt.datetime
    checked_at: dt.datetime | None
    evidence: list[EvidenceOut]


class SpotCheckPage(Schema):
    count: int
    items: list[SpotCheckOut]


def _check_out(c: SpotCheck) -> dict:
    return {"id": c.pk, "outlet_id": c.outlet_id, "outlet_name": c.outlet.org.name,
            "sampled": [s if isinstance(s, dict) else {"waybill": str(s)} for s in c.sampled],
            "findings": [f for f in c.findings if isinstance(f, dict)], "result": c.result,
            "note": c.note, "created_at": c.created_at, "checked_at": c.checked_at,
            "evidence": _evidence(c.evidence.order_by("created_at", "id"),
                                  "delivery:spot_check_file", c.pk)}


class ListQuery(Schema):
    outlet_id: int | None = None
    limit: int = Field(50, ge=1, le=500)
    offset: int = Field(0, ge=0)


@router.get("/supervision/spot-checks", scope=RouteScope(SpotCheck, "view"),
            response=SpotCheckPage, summary="Spot checks in reach, newest first")
def list_spot_checks(request, query: Query[ListQuery]):
    qs = SpotCheck.objects.restrict(request.auth).select_related("outlet__org")
    if query.outlet_id is not None:
        qs = qs.filter(outlet_id=query.outlet_id)
    qs = qs.order_by("-created_at", "-id")
    return {"count": qs.count(),
            "items": [_check_out(c) for c in
                      qs.prefetch_related("evidence")[query.offset:query.offset + query.limit]]}


class SpotCheckIn(Schema):
    outlet_id: int
    period_start: dt.date
    period_end: dt.date
    size: int = Field(orders.SAMPLE_SIZE, description=f"1–{orders.MAX_SAMPLE} parcels")


@router.post("/supervision/spot-checks", scope=RouteScope(SpotCheck, "add", requires=SUPERVISE),
             response={201: SpotCheckOut},
             summary="Start a spot check: sample parcel records of the outlet at random")
def start_spot_check(request, payload: SpotCheckIn):
    check = orders.start_spot_check(actor=request.auth,
                                    outlet=_outlet(request.auth, payload.outlet_id),
                                    period_start=payload.period_start,
                                    period_end=payload.period_end, size=payload.size)
    return Status(201, _check_out(SpotCheck.objects.select_related("outlet__org")
                                  .get(pk=check.pk)))


@router.get("/supervision/spot-checks/{int:pk}",
            scope=RouteScope(SpotCheck, "view", lookup="pk"), response=SpotCheckOut,
            summary="A spot check")
def get_spot_check(request, pk: int):
    return _check_out(SpotCheck.objects.select_related("outlet__org").get(pk=pk))


class FindingIn(Schema):
    waybill: str = Field(max_length=40)
    real_name: bool
    inspected: bool
    xrayed: bool
    note: str = Field("", max_length=500)


class FindingsIn(Schema):
    findings: list[FindingIn] = Field(max_length=orders.MAX_SAMPLE,
                                      description="One per sampled waybill")
    note: str = Field("", max_length=2000)


@router.post("/supervision/spot-checks/{int:pk}/findings",
             scope=RouteScope(SpotCheck, "view", lookup="pk", requires=SUPERVISE),
             response=SpotCheckOut,
             summary="Record what was in fact done for each sampled waybill")
def record_findings(request, pk: int, payload: FindingsIn):
    orders.record_spot_check_findings(actor=request.auth, check=request.scoped_object,
                                      findings=[f.dict() for f in payload.findings],
                                      note=payload.note)
    return _check_out(SpotCheck.objects.select_related("outlet__org").get(pk=pk))


# --- penalties ----------------------------------------------------------------------------------

class PenaltyOut(Schema):
    id: int
    outlet_id: int
    outlet_name: str
    decision_no: str
    decided_on: dt.date
    basis: str
    amount: Decimal | None
    note: str


class PenaltyPage(Schema):
    count: int
    items: list[PenaltyOut]


def _penalty_out(p: Penalty) -> dict:
    return {"id": p.pk, "outlet_id": p.outlet_id, "outlet_name": p.outlet.org.name,
            "decision_no": p.decision_no, "decided_on": p.decided_on, "basis": p.basis,
            "amount": p.amount, "note": p.note}


@router.get("/supervision/penalties", scope=RouteScope(Penalty, "view"), response=PenaltyPage,
            summary="Penalties in reach, newest first")
def list_penalties(request, query: Query[ListQuery]):
    qs = Penalty.objects.restrict(request.auth).select_related("outlet__org")
    if query.outlet_id is not None:
        qs = qs.filter(outlet_id=query.outlet_id)
    qs = qs.order_by("-decided_on", "-id")
    return {"count": qs.count(),
            "items": [_penalty_out(p) for p in qs[query.offset:query.offset + query.limit]]}


class PenaltyIn(Schema):
    outlet_id: int
    decision_no: str = Field(max_length=60)
    decided_on: dt.date
    basis: str = Field(max_length=200)
    amount: Decimal | None = Field(None, description="Fine in yuan")
    note: str = Field("", max_length=5000)


@router.post("/supervision/penalties", scope=RouteScope(Penalty, "add", requires=SUPERVISE),
             response={201: PenaltyOut}, summary="Record a penalty decided against an outlet")
def record_penalty(request, payload: PenaltyIn):
    penalty = orders.record_penalty(actor=request.auth,
                                    outlet=_outlet(request.auth, payload.outlet_id),
                                    decision_no=payload.decision_no,
                                    decided_on=payload.decided_on, basis=payload.basis,
                                    amount=payload.amount, note=payload.note)
    return Status(201, _penalty_out(Penalty.objects.select_related("outlet__org")
                                    .get(pk=penalty.pk)))
