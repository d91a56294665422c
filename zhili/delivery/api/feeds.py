"""The companies' feeds (`POST /feeds/{kind}`, NDJSON or CSV, see docs/integration-delivery.md),
their batches, the waybill lookup, and inspections recorded on an outlet's phone.

The feed body is read raw, never parsed by ninja: a batch is up to 64 MB of NDJSON or CSV, and
ingestion (zhili.delivery.ingest) checks it row by row. The principal is the API key of a
courier company's organisation; the company is its position's organisation.
"""

from __future__ import annotations

import datetime as dt

from django.http import HttpResponse
from django.utils.translation import gettext as _
from ninja import Field, File, Form, Query, Schema, Status
from ninja.files import UploadedFile

from zhili.core.api import ErrorOut, RouteScope
from zhili.core.services import ServiceError, field_error
from zhili.delivery import feeds, ingest
from zhili.delivery import outlet as outlet_services
from zhili.delivery.api.base import router
from zhili.delivery.choices import FeedKind
from zhili.delivery.models import CourierCompany, IngestBatch, Inspection, Outlet, Shipment

BATCH_ERRORS = {400: "invalid", 404: "not_found", 409: "conflict", 413: "too_large",
                415: "unsupported_media_type"}
KIND_EXAMPLE = (("kind", FeedKind.SHIPMENTS.value),)


class RowProblem(Schema):
    line: int
    field: str
    message: str


class BatchRow(Schema):
    id: int
    batch: str = Field(description="The Idempotency-Key the batch was sent with")
    kind: str
    state: str
    submitted: int
    accepted: int = Field(description="created + duplicates")
    created: int
    duplicates: int = Field(description="Records already stored (not counted again)")
    rejected: int
    received_at: dt.datetime
    seconds: float


class BatchOut(BatchRow):
    errors: list[RowProblem]
    warnings: list[RowProblem] = Field(description="Rows kept with a finding")
    truncated: bool = Field(description="Only the first 1,000 errors and warnings are kept")
    replayed: bool = Field(description="The answer to an earlier request with this key")


class BatchPage(Schema):
    items: list[BatchRow]
    has_more: bool


def batch_row(batch: IngestBatch) -> dict:
    return {"id": batch.pk, "batch": batch.key, "kind": batch.kind, "state": batch.state,
            "submitted": batch.submitted, "accepted": batch.accepted,
            "created": batch.created, "duplicates": batch.duplicates,
            "rejected": batch.rejected, "received_at": batch.received_at,
            "seconds": round(batch.seconds, 3)}


def batch_out(batch: IngestBatch, replayed: bool = False) -> dict:
    problems = batch.errors or []
    strip = ("line", "field", "message")
    return {**batch_row(batch),
            "errors": [{k: p.get(k, "") for k in strip} for p in problems
                       if not p.get("warning")],
            "warnings": [{k: p.get(k, "") for k in strip} for p in problems
                         if p.get("warning")],
            "truncated": len(problems) >= ingest.MAX_REPORTED, "replayed": replayed}


def _company(user) -> CourierCompany:
    """The company whose organisation holds the principal's active position."""
    position = getattr(user, "active_position", None)
    company = None
    if position is not None and position.org_id:
        company = CourierCompany.objects.filter(org_id=position.org_id, is_active=True).first()
    if company is None:
        raise ServiceError("forbidden", _("Feeds are pushed with an API key of a courier "
                                          "company's organisation."), status=403)
    return company


def _body(request) -> bytes:
    """The raw body, at most one byte over the limit (ingest refuses that with 413); a
    declared length over the limit is refused before anything is read."""
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > ingest.MAX_BYTES:
        raise feeds.BatchError(_("A batch is at most 64 MB; split it."), status=413)
    if hasattr(request, "_body"):
        return request.body
    # Not request.body: it refuses anything over DATA_UPLOAD_MAX_MEMORY_SIZE (20 MB), and a
    # batch may be 64 MB.
    return request.read(ingest.MAX_BYTES + 1)


FEED_DOC = {
    "parameters": [{"name": "Idempotency-Key", "in": "header", "required": True,
                    "schema": {"type": "string", "maxLength": 80},
                    "description": "Names the batch; send the same key when retrying it"}],
    "requestBody": {"required": True, "content": {
        "application/x-ndjson": {"schema": {"type": "string"}},
        "text/csv": {"schema": {"type": "string"}}}},
}


# The batch routes come before `/feeds/{kind}`: Django resolves paths in order, and
# "batches" would otherwise be taken for a kind.
@router.get("/feeds/batches", scope=RouteScope(IngestBatch, "view"), response=BatchPage,
            summary="The batches in reach, newest first")
def list_batches(request, kind: str | None = None, limit: int = Query(50, ge=1, le=200),
                 offset: int = Query(0, ge=0)):
    batches = IngestBatch.objects.restrict(request.auth).order_by("-received_at", "-id")
    if kind:
        batches = batches.filter(kind=kind)
    rows = list(batches.defer("errors")[offset: offset + limit + 1])
    return {"items": [batch_row(b) for b in rows[:limit]], "has_more": len(rows) > limit}


@router.get("/feeds/batches/{int:id}", scope=RouteScope(IngestBatch, "view", lookup="id"),
            response=BatchOut, summary="One batch with its row errors and warnings")
def batch_detail(request, id: int):  # noqa: A002 - the path parameter's name
    return batch_out(request.scoped_object)


@router.post("/feeds/{kind}", scope=RouteScope(Outlet, "ingest", params=KIND_EXAMPLE),
             response={200: BatchOut, 413: ErrorOut, 415: ErrorOut},
             summary="Push a batch of parcel, inspection or X-ray scan records",
             openapi_extra=FEED_DOC)
def push_feed(request, kind: str, response: HttpResponse):
    # The header first: it costs nothing and a request without it can never be retried safely.
    if not (request.headers.get("Idempotency-Key") or "").strip():
        raise ServiceError("invalid", _("Send an Idempotency-Key header (1–80 characters) "
                                        "naming the batch, and the same key when you retry "
                                        "it."))
    company = _company(request.auth)
    try:
        batch, replayed = ingest.receive(
            actor=request.auth, company=company, kind=kind,
            key=request.headers.get("Idempotency-Key", ""), body=_body(request),
            content_type=request.META.get("CONTENT_TYPE", ""))
    except feeds.BatchError as exc:
        raise ServiceError(BATCH_ERRORS.get(exc.status, "invalid"), exc.message,
                           status=exc.status) from None
    if replayed:
        response["Replayed"] = "true"
    return batch_out(batch, replayed)


# --- waybill lookup ------------------------------------------------------------------------

class Sender(Schema):
    name: str
    id_type: str
    id_number: str
    phone: str


class InspectionOut(Schema):
    outlet: str
    day: dt.date
    inspected_at: dt.datetime
    inspector: str
    result: str
    has_photo: bool
    source: str


class ScanOut(Schema):
    outlet: str
    day: dt.date
    scanned_at: dt.datetime
    machine: str
    alarm: bool


class ParcelOut(Schema):
    company: str
    outlet: str
    outlet_name: str
    day: dt.date
    accepted_at: dt.datetime
    sender: Sender | None = Field(description="Masked")
    real_name: bool
    id_problem: str
    goods: str
    goods_category: str
    weight: float | None
    flagged: bool
    flag_terms: list[str]
    inspected: bool
    xrayed: bool
    inspections: list[InspectionOut]
    scans: list[ScanOut]


class WaybillOut(Schema):
    waybill: str
    parcels: list[ParcelOut]
    inspections: list[InspectionOut] = Field(
        description="Inspections whose parcel record is not (yet) in reach")
    scans: list[ScanOut] = Field(description="Scans whose parcel record is not (yet) in reach")


def inspection_out(record) -> dict:
    return {"outlet": record.outlet.code, "day": record.day, "inspected_at": record.inspected_at,
            "inspector": record.inspector, "result": record.result,
            "has_photo": bool(record.photo_ref), "source": record.source}


def scan_out(record) -> dict:
    return {"outlet": record.outlet.code, "day": record.day, "scanned_at": record.scanned_at,
            "machine": record.machine, "alarm": record.alarm}


def parcel_out(parcel, inspections, scans) -> dict:
    return {"company": parcel.company.brand, "outlet": parcel.outlet.code,
            "outlet_name": parcel.outlet.org.name, "day": parcel.day,
            "accepted_at": parcel.accepted_at,
            "sender": outlet_services.masked_sender(parcel.sender),
            "real_name": parcel.real_name, "id_problem": parcel.id_problem,
            "goods": parcel.goods, "goods_category": parcel.goods_category,
            "weight": float(parcel.weight) if parcel.weight is not None else None,
            "flagged": parcel.flagged,
            "flag_terms": [t for t in parcel.flag_terms.split(",") if t],
            "inspected": parcel.inspected, "xrayed": parcel.xrayed,
            "inspections": [inspection_out(r) for r in inspections],
            "scans": [scan_out(r) for r in scans]}


@router.get("/waybills/{waybill}",
            scope=RouteScope(Shipment, "view", params=(("waybill", "SF0000000001"),)),
            response=WaybillOut, summary="A waybill's parcel records with inspection and scans")
def waybill_lookup(request, waybill: str, day: dt.date | None = None):
    waybill = waybill.strip()
    if not feeds.WAYBILL_RE.fullmatch(waybill):
        raise field_error("waybill", _("A waybill number has 6–40 letters, digits or "
                                       "hyphens."))
    found = outlet_services.find_waybill(request.auth, waybill, day=day)
    return {"waybill": waybill,
            "parcels": [parcel_out(*item) for item in found.parcels],
            "inspections": [inspection_out(r) for r in found.inspections],
            "scans": [scan_out(r) for r in found.scans]}


# --- inspections from the outlet's phone ---------------------------------------------------

class PhoneInspectionIn(Schema):
    waybill: str = Field(max_length=60)
    result: str = "passed"
    inspected_at: dt.datetime | None = Field(
        None, description="When it was done (the phone's offline queue sends it later)")


class PhoneInspectionOut(Schema):
    waybill: str
    result: str
    inspected_at: dt.datetime
    created: bool = Field(description="False: already recorded for this waybill that day")
    has_photo: bool


OUTLET_WORK = RouteScope(Outlet, "view", requires=((Inspection, "add"),))


@router.post("/outlet/inspections", scope=OUTLET_WORK,
             response={200: PhoneInspectionOut, 201: PhoneInspectionOut},
             summary="Record an inspection at my outlet (multipart; the phone page's queue)")
def phone_inspection(request, payload: Form[PhoneInspectionIn],
                     photo: File[UploadedFile] = None):
    recorded = outlet_services.record_inspection(
        actor=request.auth, outlet=outlet_services.outlet_of(request.auth),
        waybill=payload.waybill, result=payload.result, inspected_at=payload.inspected_at,
        photo=outlet_services.Photo(photo.read(), photo.name) if photo else None)
    return Status(201 if recorded.created else 200, {
        "waybill": recorded.waybill, "result": recorded.result,
        "inspected_at": recorded.inspected_at, "created": recorded.created,
        "has_photo": bool(recorded.photo_ref)})
