"""The outlet's phone pages (网点): today's compliance, waybill lookup, recording an inspection.

Installable like the grid worker's page (manifest + service worker under /delivery/outlet/);
inspections recorded without a network wait on the phone and are sent when it returns
(static/zhili/delivery-outlet.js, through POST /api/v1/delivery/outlet/inspections). Without
JavaScript the inspection form posts to its page.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import HttpResponse, JsonResponse
from django.urls import reverse
from django.utils.functional import cached_property
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _

from zhili.core.api import RouteScope
from zhili.core.views import PageView, ServiceFormView, ZhiliView
from zhili.delivery import feeds
from zhili.delivery import outlet as services
from zhili.delivery.choices import InspectionResult
from zhili.delivery.models import Inspection, Outlet, OutletDay, Shipment

# Outlet staff only: adding inspections is what sets them apart from the regulators, centres
# and leaders, who read the same figures on their own screens.
WORK = RouteScope(Outlet, "view", requires=((Inspection, "add"),))
HOME = RouteScope(Outlet, "view", requires=((Inspection, "add"), (OutletDay, "view")))
LOOKUP = RouteScope(Shipment, "view", requires=((Inspection, "add"),))


class OutletPhoneMixin:
    """The outlet of the user's active position (None: the page says so instead)."""

    @cached_property
    def outlet(self):
        return services.outlet_of(self.request.user)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(outlet=self.outlet, position=self.request.user.active_position)
        return context


class OutletHomeView(OutletPhoneMixin, PageView):
    route_scope = HOME
    template_name = "delivery/outlet/home.html"
    title = _("Outlet today")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        if self.outlet is not None:
            context["overview"] = services.overview(self.request.user, self.outlet)
        return context


class LookupView(OutletPhoneMixin, PageView):
    route_scope = LOOKUP
    template_name = "delivery/outlet/lookup.html"
    title = _("Look up a waybill")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        waybill = services.normalise_waybill(self.request.GET.get("waybill", ""))
        context["waybill"] = waybill
        if waybill and self.outlet is not None:
            if feeds.WAYBILL_RE.fullmatch(waybill):
                found = services.find_waybill(self.request.user, waybill, outlet=self.outlet)
                context.update(found=found, rows=[
                    (parcel, services.masked_sender(parcel.sender), inspections, scans)
                    for parcel, inspections, scans in found.parcels])
            else:
                context["invalid"] = True
        return context


class InspectionForm(forms.Form):
    waybill = forms.CharField(label=_("Waybill number"), max_length=60)
    result = forms.ChoiceField(label=_("Result"), choices=InspectionResult.choices,
                               initial=InspectionResult.PASSED, widget=forms.RadioSelect)
    photo = forms.FileField(label=_("Photo"), required=False)


class InspectView(OutletPhoneMixin, ServiceFormView):
    route_scope = WORK
    template_name = "delivery/outlet/inspect.html"
    title = _("Record an inspection")
    form_class = InspectionForm

    def get_initial(self):
        return {"waybill": services.normalise_waybill(self.request.GET.get("waybill", ""))}

    def perform(self, form):
        photo = form.cleaned_data.get("photo")
        recorded = services.record_inspection(
            actor=self.request.user, outlet=self.outlet, waybill=form.cleaned_data["waybill"],
            result=form.cleaned_data["result"],
            photo=services.Photo(photo.read(), photo.name) if photo else None)
        if recorded.created:
            messages.success(self.request, _("Inspection of %(waybill)s recorded.")
                             % {"waybill": recorded.waybill})
        else:
            messages.info(self.request, _("%(waybill)s was already inspected that day; "
                                          "nothing was counted again.")
                          % {"waybill": recorded.waybill})
        return recorded

    def get_success_url_for(self, result):
        return reverse("delivery:lookup") + "?" + urlencode({"waybill": result.waybill})


class OutletManifestView(ZhiliView):
    """The web-app manifest of the outlet pages (installable PWA)."""

    route_scope = WORK

    def get(self, request):
        from django.templatetags.static import static

        return JsonResponse({
            "name": "治理 · 网点安全", "short_name": "网点安全", "lang": "zh-CN",
            "start_url": reverse("delivery:outlet_home"), "scope": reverse("delivery:outlet_home"),
            "display": "standalone", "background_color": "#ffffff", "theme_color": "#0b3d6e",
            "icons": [{"src": static("zhili/icon-192.png"), "sizes": "192x192",
                       "type": "image/png"},
                      {"src": static("zhili/icon-512.png"), "sizes": "512x512",
                       "type": "image/png"}],
        }, content_type="application/manifest+json")


class OutletServiceWorkerView(ZhiliView):
    """The shared service worker (network first, cache as fallback), served under the outlet
    pages so that its scope covers them and nothing else."""

    route_scope = WORK

    def get(self, request):
        from django.contrib.staticfiles import finders

        with open(finders.find("zhili/sw.js"), encoding="utf-8") as handle:
            body = handle.read()
        response = HttpResponse(body, content_type="application/javascript")
        response["Service-Worker-Allowed"] = reverse("delivery:outlet_home")
        response["Cache-Control"] = "no-cache"
        return response
