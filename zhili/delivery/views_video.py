"""The video-evidence page: find a parcel by waybill (or open one by its record), see the
outlet's cameras around the moments of its records, and play one back.

Links from other pages use the query string: `?shipment=<id>` (a parcel record),
`?inspection=<id>` (an inspection record) or `?waybill=<number>`. Playing adds
`&camera=<device id>&moment=<key>`; `&minutes=` widens or narrows the window.

Everything shown is read within the user's reach (a parcel out of reach reads as not found);
the page never fails because of the video platform: its refusals are shown as messages.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from zhili.core.api import RouteScope
from zhili.core.views import PageView
from zhili.delivery import evidence
from zhili.delivery.models import Inspection, Shipment
from zhili.devices.models import Device
from zhili.devices.video import VideoUnavailable, platform

MAX_MATCHES = 20


def _pk(raw) -> int | None:
    try:
        value = int(raw)
    except (TypeError, ValueError):
        return None
    return value if value > 0 else None


class VideoEvidenceView(PageView):
    route_scope = RouteScope(Shipment, "view", requires=((Device, "view"),))
    template_name = "delivery/video/evidence.html"
    title = _("Video evidence")

    def get_breadcrumbs(self):
        return [(_("Courier safety"), None), (self.title, None)]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user, query = self.request.user, self.request.GET
        minutes = evidence.clean_minutes(query.get("minutes"))
        waybill = (query.get("waybill") or "").strip()[:40]
        context.update(waybill=waybill, minutes=minutes, choices=evidence.WINDOW_CHOICES,
                       matches=[], found=None, playback=None, error="", searched=False)
        try:
            video = platform()
        except VideoUnavailable as exc:  # a setting that cannot work: say which
            video, context["platform_error"] = None, exc.message
        context["video"] = video
        parcels = Shipment.objects.restrict(user, "view")
        found = None
        if "shipment" in query:
            context["searched"] = True
            pk = _pk(query.get("shipment"))
            record = parcels.filter(pk=pk).first() if pk else None
            found = evidence.for_shipment(record, user=user, minutes=minutes) if record \
                else None
        elif "inspection" in query:
            context["searched"] = True
            pk = _pk(query.get("inspection"))
            record = Inspection.objects.in_scope(user).filter(pk=pk).first() if pk else None
            found = evidence.for_inspection(record, user=user, minutes=minutes) if record \
                else None
        elif waybill:
            context["searched"] = True
            matches = list(parcels.filter(waybill=waybill).select_related("outlet__org")
                           .order_by("-accepted_at")[:MAX_MATCHES])
            if len(matches) == 1:
                found = evidence.for_shipment(matches[0], user=user, minutes=minutes)
            elif not matches:
                # Inspected but the parcel record not (yet) sent: the inspection still has
                # its moment and outlet.
                inspection = Inspection.objects.in_scope(user).filter(
                    waybill=waybill).order_by("-inspected_at").first()
                if inspection is not None:
                    found = evidence.for_inspection(inspection, user=user, minutes=minutes)
            else:
                context["matches"] = matches
        context["found"] = found
        if found is not None and query.get("camera") and query.get("moment"):
            camera, moment = found.camera(query["camera"]), found.moment(query["moment"])
            if camera is None or moment is None:
                context["error"] = _("That camera or moment does not belong to this parcel.")
            else:
                context.update(camera=camera, moment=moment)
                try:
                    context["playback"] = evidence.open_playback(
                        found, user=user, camera=camera, moment=moment, video=video)
                except VideoUnavailable as exc:
                    context["error"] = exc.message
        if found is not None:
            context["base_query"] = (f"shipment={found.shipment.pk}" if found.shipment
                                     else f"inspection={found.record.pk}")
        return context
