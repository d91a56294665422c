"""The outlet's own work (网点): which outlet a person works at, today's three rates, looking up
a waybill with its inspection and scans, and recording an inspection (开箱验视) from the phone.

An inspection recorded here goes through `ingest.write` like one pushed by the company's feed,
so the rollups and the parcel's `inspected` flag change in exactly the same way, and a resend
(the phone's offline queue after a lost answer) is a duplicate on (company, waybill, day),
never a second count.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from zhili.core import audit
from zhili.core.pii import mask_id_number, mask_name, mask_phone
from zhili.core.scoping import can, require
from zhili.core.services import ServiceError, field_error
from zhili.delivery import feeds, ingest
from zhili.delivery.choices import FeedKind, InspectionResult, OrderState
from zhili.delivery.models import (
    Inspection,
    Outlet,
    OutletDay,
    RectificationOrder,
    Shipment,
    XRayScan,
)

FLAGGED_SHOWN = 50


def outlet_of(user) -> Outlet | None:
    """The active outlet whose organisation the user's active position belongs to."""
    position = getattr(user, "active_position", None)
    if position is None or not position.org_id:
        return None
    return Outlet.objects.select_related("company", "org").filter(
        org_id=position.org_id, is_active=True).first()


def normalise_waybill(raw: str) -> str:
    # Typed on a phone keyboard as often as scanned: companies print waybills in capitals.
    return "".join((raw or "").split()).upper()


# --- today's figures ------------------------------------------------------------------------

def rate(part: int, whole: int) -> float | None:
    """A percentage with one decimal; None when there is nothing to measure."""
    return round(100 * part / whole, 1) if whole else None


@dataclass
class DayFigures:
    day: dt.date
    parcels: int = 0
    real_name: int = 0
    inspected: int = 0
    xrayed: int = 0
    flagged: int = 0

    @property
    def real_name_rate(self):
        return rate(self.real_name, self.parcels)

    @property
    def inspected_rate(self):
        return rate(self.inspected, self.parcels)

    @property
    def xrayed_rate(self):
        return rate(self.xrayed, self.parcels)

    @property
    def complete(self) -> bool:
        return bool(self.parcels) and self.parcels == self.real_name == self.inspected \
            == self.xrayed


@dataclass
class Overview:
    today: DayFigures
    week: list[DayFigures]
    flagged: list[Shipment]
    open_orders: list[tuple[RectificationOrder, str | None]] = field(default_factory=list)


def overview(user, outlet: Outlet, days: int = 7) -> Overview:
    """Today's figures from the rollups (never the records), the last week's, today's
    flagged parcels and the open rectification orders of the outlet."""
    today = timezone.localdate()
    first = today - dt.timedelta(days=days - 1)
    rows = {d.day: d for d in OutletDay.objects.restrict(user).filter(
        outlet=outlet, day__gte=first, day__lte=today)}

    def figures(day):
        row = rows.get(day)
        if row is None:
            return DayFigures(day)
        return DayFigures(day, row.parcels, row.real_name, row.inspected, row.xrayed,
                          row.flagged)

    week = [figures(today - dt.timedelta(days=n)) for n in range(days)]
    flagged = list(Shipment.objects.restrict(user).filter(
        outlet=outlet, day=today, flagged=True).only(
        "waybill", "goods", "flag_terms", "inspected", "xrayed", "accepted_at",
        "outlet_id").order_by("-accepted_at")[:FLAGGED_SHOWN])
    orders = RectificationOrder.objects.restrict(user).filter(outlet=outlet).exclude(
        state=OrderState.CLOSED).order_by("deadline_at", "-issued_at")
    return Overview(today=week[0], week=week, flagged=flagged,
                    open_orders=[(o, _order_url(o)) for o in orders[:20]])


def _order_url(order) -> str | None:
    # The order pages belong to the supervision screens, which may not be installed yet.
    try:
        return reverse("delivery:order", args=[order.pk])
    except NoReverseMatch:
        return None


# --- waybill lookup --------------------------------------------------------------------------

def masked_sender(raw: str | None) -> dict | None:
    """The sender (one encrypted JSON value) with name, document and phone masked."""
    if not raw:
        return None
    try:
        value = json.loads(raw)
    except ValueError:
        return None
    return {"name": mask_name(value.get("name")), "id_type": value.get("id_type", ""),
            "id_number": mask_id_number(value.get("id_number")),
            "phone": mask_phone(value.get("phone"))}


@dataclass
class Found:
    """The records of one waybill visible to a user: parcels (each with the inspections and
    scans of its company), and the inspections and scans whose parcel record has not arrived
    (or is not visible)."""

    waybill: str
    parcels: list[tuple[Shipment, list[Inspection], list[XRayScan]]]
    inspections: list[Inspection]
    scans: list[XRayScan]

    @property
    def empty(self) -> bool:
        return not (self.parcels or self.inspections or self.scans)


def find_waybill(user, waybill: str, *, outlet: Outlet | None = None,
                 day: dt.date | None = None) -> Found:
    """One indexed query per record table (on `waybill`), whatever the number of parcels.

    Visibility: the parcels are those the user may view (`restrict`); the inspections and
    scans are the parcel's own records, so they are read within the same reach (no role
    holds a separate permission for them)."""
    if not can(user, Shipment, "view"):
        return Found(waybill=waybill, parcels=[], inspections=[], scans=[])
    parcels = Shipment.objects.restrict(user).filter(waybill=waybill)
    if outlet is not None:
        parcels = parcels.filter(outlet=outlet)
    if day is not None:
        parcels = parcels.filter(day=day)  # on PostgreSQL: one partition instead of all
    parcels = list(parcels.select_related("outlet__org", "company").order_by(
        "-accepted_at"))
    inspections = Inspection.objects.in_scope(user).filter(waybill=waybill)
    scans = XRayScan.objects.in_scope(user).filter(waybill=waybill)
    if outlet is not None:
        # Waybill numbers are unique per company only: another company's parcel with the
        # same number is not this outlet's business, even for a user who reaches both.
        inspections = inspections.filter(company_id=outlet.company_id)
        scans = scans.filter(company_id=outlet.company_id)
    inspections = list(inspections.select_related("outlet").order_by("inspected_at"))
    scans = list(scans.select_related("outlet").order_by("scanned_at"))
    by_company: dict[int, tuple[list, list]] = {}
    for record in inspections:
        by_company.setdefault(record.company_id, ([], []))[0].append(record)
    for record in scans:
        by_company.setdefault(record.company_id, ([], []))[1].append(record)
    matched = {p.company_id for p in parcels}
    return Found(
        waybill=waybill,
        parcels=[(p, *by_company.get(p.company_id, ([], []))) for p in parcels],
        inspections=[r for r in inspections if r.company_id not in matched],
        scans=[r for r in scans if r.company_id not in matched])


# --- recording an inspection ---------------------------------------------------------------

@dataclass
class Photo:
    data: bytes
    filename: str


@dataclass
class Recorded:
    waybill: str
    result: str
    inspected_at: dt.datetime
    created: bool  # False: this waybill was already inspected that day (e.g. a resend)
    photo_ref: str


def _store_photo(photo: Photo, when: dt.datetime) -> str:
    from zhili.core.images import ImageRejected, process_image

    try:
        # 52 MP admits the 50 MP mode of current phones (8160 × 6144).
        image = process_image(photo.data, photo.filename, max_pixels=52_000_000)
    except ImageRejected as exc:
        raise field_error("photo", exc) from None
    # Named by content: a resent inspection (offline queue) stores its photo once.
    name = (f"delivery/inspections/{timezone.localtime(when):%Y/%m}/"
            f"{image.sha256[:32]}.{image.extension}")
    if not default_storage.exists(name):
        name = default_storage.save(name, ContentFile(image.content))
    return name


def record_inspection(*, actor, outlet: Outlet | None, waybill: str, result: str,
                      photo: Photo | None = None,
                      inspected_at: dt.datetime | None = None) -> Recorded:
    """Record an inspection at the actor's outlet, inspector = the actor (source "app")."""
    require(actor, Inspection, "add")
    if outlet is None or not Outlet.objects.in_scope(actor).filter(pk=outlet.pk,
                                                                   is_active=True).exists():
        raise ServiceError("no_outlet", _("Your current position is not at a courier outlet."),
                           status=403)
    waybill = normalise_waybill(waybill)
    if not feeds.WAYBILL_RE.fullmatch(waybill):
        raise field_error("waybill", _("A waybill number has 6–40 letters, digits or "
                                       "hyphens."))
    if result not in InspectionResult.values:
        raise field_error("result", _("The result is passed, refused, prohibited or "
                                      "suspicious."))
    now = timezone.now()
    when = inspected_at or now
    if timezone.is_naive(when):
        when = timezone.make_aware(when)
    # The same bounds as a pushed record: a queued inspection keeps the time it was done.
    if when > now + feeds.FUTURE_TOLERANCE:
        raise field_error("inspected_at", _("The time %(time)s lies in the future.")
                          % {"time": when.isoformat()})
    if when < now - feeds.MAX_AGE:
        raise field_error("inspected_at", _("The time %(time)s is more than 400 days old.")
                          % {"time": when.isoformat()})
    photo_ref = _store_photo(photo, when) if photo is not None and photo.data else ""
    inspector = (actor.display_name or actor.username)[:50]
    row = (outlet.company_id, outlet.pk, outlet.area_code, waybill,
           timezone.localtime(when).date(), when, inspector, result, photo_ref, "app", None)
    with transaction.atomic():
        written = ingest.write(FeedKind.INSPECTIONS, [row])
        audit.record(actor=actor, action="delivery.inspection.app", target=outlet,
                     area_code=outlet.area_code,
                     changes={"waybill": waybill, "result": result,
                              "created": bool(written.created), "photo": bool(photo_ref)})
    return Recorded(waybill=waybill, result=result, inspected_at=when,
                    created=bool(written.created), photo_ref=photo_ref)
