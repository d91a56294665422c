"""Video evidence of a parcel: the outlet's cameras around the moments its records name (taken
in, inspected, X-rayed), played back from the video platform (zhili/devices/video.py).

A regulator checking a parcel, a police officer following a flagged one or an outlet answering
a rectification order wants to *see* the inspection, not only read that it happened: the
records give the moment and the outlet, the outlet's cameras give the picture. Each playback
opened is audited (who, which camera, which window, the platform's stream name), because
video of a workplace is personal data of the staff and the customers in it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.utils.translation import gettext_lazy as _

from zhili.core import audit
from zhili.delivery.models import Inspection, Outlet, Shipment, XRayScan
from zhili.devices.choices import DeviceKind, DeviceStatus
from zhili.devices.models import Device
from zhili.devices.video import Playback, VideoPlatform, VideoUnavailable

# Minutes either side of a moment. Clocks of the companies' systems and of the recorders
# differ by a minute or two, and an inspection takes a few: five is enough to find it without
# handing out a long recording of the counter.
WINDOW_MINUTES = 5
WINDOW_CHOICES = (2, 5, 10, 15)
MOMENT_LABELS = {"accepted": _("Taken in"), "inspected": _("Inspected"),
                 "scanned": _("X-ray scan")}


@dataclass(frozen=True)
class Moment:
    key: str  # "accepted", "inspected" or "scanned" (with an index when there are several)
    kind: str
    at: dt.datetime
    detail: str = ""
    minutes: int = WINDOW_MINUTES

    @property
    def label(self):
        return MOMENT_LABELS[self.kind]

    @property
    def start(self) -> dt.datetime:
        return self.at - dt.timedelta(minutes=self.minutes)

    @property
    def end(self) -> dt.datetime:
        return self.at + dt.timedelta(minutes=self.minutes)


@dataclass
class Evidence:
    """What there is to watch for one record: the record, its outlet, the moments and the
    cameras (each camera covers every moment: they film the outlet, not the parcel)."""

    waybill: str
    outlet: Outlet
    record: Shipment | Inspection  # the audit target: the parcel, or its inspection
    shipment: Shipment | None
    moments: list[Moment] = field(default_factory=list)
    cameras: list[Device] = field(default_factory=list)

    def moment(self, key: str) -> Moment | None:
        return next((m for m in self.moments if m.key == key), None)

    def camera(self, pk) -> Device | None:
        return next((c for c in self.cameras if str(c.pk) == str(pk)), None)


def clean_minutes(raw) -> int:
    try:
        value = int(raw)
    except (TypeError, ValueError):
        return WINDOW_MINUTES
    return value if value in WINDOW_CHOICES else WINDOW_MINUTES


def cameras_of(outlet: Outlet, user) -> list[Device]:
    """The outlet's cameras the user may see (registered at the outlet's organisation),
    retired ones left out."""
    cameras = list(Device.objects.restrict(user, "view")
                   .filter(org_id=outlet.org_id, kind=DeviceKind.CAMERA)
                   .exclude(status=DeviceStatus.RETIRED).select_related("parent")
                   .order_by("code"))
    for camera in cameras:
        # Registry names repeat the outlet's ("…营业部收寄台"): the page is about one outlet.
        camera.short_name = camera.name.removeprefix(outlet.org.name).strip() or camera.name
    return cameras


def _moments(company_id: int, waybill: str, minutes: int, *, user,
             shipment: Shipment | None) -> list[Moment]:
    moments = []
    if shipment is not None:
        moments.append(Moment("accepted", "accepted", shipment.accepted_at, "", minutes))
    # The parcel's other records: the same company's waybill (the natural key's first part),
    # read within the user's reach like the parcel itself (they carry the same outlet).
    inspections = Inspection.objects.in_scope(user).filter(
        company_id=company_id, waybill=waybill).order_by("inspected_at")
    for i, row in enumerate(inspections):
        moments.append(Moment(f"inspected{i or ''}", "inspected", row.inspected_at,
                              row.inspector, minutes))
    scans = XRayScan.objects.in_scope(user).filter(
        company_id=company_id, waybill=waybill).order_by("scanned_at")
    for i, row in enumerate(scans):
        moments.append(Moment(f"scanned{i or ''}", "scanned", row.scanned_at, row.machine,
                              minutes))
    return sorted(moments, key=lambda m: m.at)


def for_shipment(shipment: Shipment, *, user, minutes: int = WINDOW_MINUTES) -> Evidence:
    """Evidence of a parcel record the caller already holds in scope, with the parcel's
    inspection and scan records (same company and waybill)."""
    outlet = Outlet.objects.select_related("company", "org").get(pk=shipment.outlet_id)
    return Evidence(waybill=shipment.waybill, outlet=outlet, record=shipment,
                    shipment=shipment,
                    moments=_moments(shipment.company_id, shipment.waybill, minutes,
                                     user=user, shipment=shipment),
                    cameras=cameras_of(outlet, user))


def for_inspection(inspection: Inspection, *, user, minutes: int = WINDOW_MINUTES) -> Evidence:
    """Evidence of an inspection record in scope, with its parcel's record when it arrived."""
    outlet = Outlet.objects.select_related("company", "org").get(pk=inspection.outlet_id)
    shipment = Shipment.objects.restrict(user, "view").filter(
        company_id=inspection.company_id, waybill=inspection.waybill).order_by(
        "-accepted_at").first()
    return Evidence(waybill=inspection.waybill, outlet=outlet,
                    record=shipment or inspection, shipment=shipment,
                    moments=_moments(inspection.company_id, inspection.waybill, minutes,
                                     user=user, shipment=shipment),
                    cameras=cameras_of(outlet, user))


def open_playback(evidence: Evidence, *, user, camera: Device, moment: Moment,
                  video: VideoPlatform | None) -> Playback:
    """Ask the platform for the camera's recording around the moment; audited whether or not
    the platform delivers (an attempt to look is worth knowing too). Raises VideoUnavailable."""
    changes = {"waybill": evidence.waybill, "outlet": evidence.outlet.code,
               "camera": camera.code, "moment": moment.kind,
               "start": moment.start.isoformat(), "end": moment.end.isoformat(),
               "platform": video.name if video is not None else ""}
    try:
        if video is None:
            raise VideoUnavailable(_("No video platform is connected to Zhili."))
        playback = video.playback(camera.code, moment.start, moment.end,
                                  recorder_code=camera.parent.code if camera.parent_id else "")
    except VideoUnavailable as exc:
        audit.record(actor=user, action="delivery.video.playback", target=evidence.record,
                     area_code=evidence.outlet.area_code,
                     changes={**changes, "outcome": "unavailable", "error": exc.message})
        raise
    audit.record(actor=user, action="delivery.video.playback", target=evidence.record,
                 area_code=evidence.outlet.area_code,
                 changes={**changes, "outcome": "opened", "platform_ref": playback.platform_ref})
    return playback
