"""Pages of the device registry: list with filters, detail, create and edit (thin: the rules
are in `services`)."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from zhili.areas.models import Area
from zhili.core.api import RouteScope
from zhili.core.scoping import can
from zhili.core.views import ActionView, ListPageView, PageView, ServiceFormView
from zhili.devices import services
from zhili.devices.choices import DeviceKind, DeviceStatus
from zhili.devices.filters import filter_devices
from zhili.devices.forms import DeviceForm
from zhili.devices.models import Device
from zhili.orgs.models import Organisation

LIST = (_("Devices"), "devices:list")
EDIT_FIELDS = ("kind", "code", "name", "org", "area", "parent", "manufacturer", "model",
               "address", "lat", "lng", "status", "installed_on")


def crumbs(*tail):
    return [(LIST[0], reverse(LIST[1])), *tail]


def outlet_of(org):
    """The courier outlet profile of an organisation, if it is one (for the link back)."""
    if org is None or org.kind != "outlet":
        return None
    from zhili.delivery.models import Outlet

    return Outlet.objects.filter(org=org).first()


class DeviceListView(ListPageView):
    route_scope = RouteScope(Device, "view")
    template_name = "devices/list.html"
    title = _("Devices")

    def filter_queryset(self, queryset):
        self.filter_form, queryset = filter_devices(queryset, self.request.GET)
        return queryset.select_related("area", "org")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        org = None
        if self.filter_form.is_valid() and self.filter_form.cleaned_data.get("org"):
            org = Organisation.objects.in_scope(user).filter(
                pk=self.filter_form.cleaned_data["org"]).first()
        context.update(filter_form=self.filter_form, can_add=can(user, Device, "add"),
                       filter_org=org)
        return context


class DeviceDetailView(PageView):
    route_scope = RouteScope(Device, "view", lookup="pk")
    template_name = "devices/detail.html"

    def get_breadcrumbs(self):
        return crumbs((self.object.name, None))

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        device, user = self.object, self.request.user
        context.update(
            title=device.name,
            outlet=outlet_of(device.org),
            channels=Device.objects.restrict(user).filter(parent=device).order_by("code")
            if device.kind == DeviceKind.NVR else [],
            parent=Device.objects.restrict(user).filter(pk=device.parent_id).first()
            if device.parent_id else None,
            can_change=can(user, Device, "change"),
            statuses=[(value, label) for value, label in DeviceStatus.choices
                      if value != device.status],
        )
        return context


class _DeviceFormMixin:
    template_name = "devices/form.html"
    form_class = DeviceForm

    def get_form_kwargs(self):
        user = self.request.user
        return {
            **super().get_form_kwargs(),
            "areas": Area.objects.restrict(user).active().filter(level__gte=2).order_by("code"),
            "orgs": Organisation.objects.restrict(user).active().order_by("area_code", "name"),
            "recorders": Device.objects.restrict(user).filter(kind=DeviceKind.NVR)
            .order_by("code"),
        }


class DeviceCreateView(_DeviceFormMixin, ServiceFormView):
    route_scope = RouteScope(Device, "add")
    title = _("New device")
    success_message = _("The device was registered.")

    def get_breadcrumbs(self):
        return crumbs((self.title, None))

    def get_initial(self):
        initial = {}
        raw_org, kind = self.request.GET.get("org", ""), self.request.GET.get("kind", "")
        if raw_org.isdigit():
            initial["org"] = Organisation.objects.in_scope(self.request.user).filter(
                pk=raw_org).first()
        if kind in DeviceKind.values:
            initial["kind"] = kind
        return initial

    def perform(self, form):
        return services.save_device(actor=self.request.user, data=form.cleaned_data)


class DeviceEditView(_DeviceFormMixin, ServiceFormView):
    route_scope = RouteScope(Device, "change", lookup="pk")
    success_message = _("The device was saved.")

    def get_initial(self):
        return {name: getattr(self.object, name) for name in EDIT_FIELDS}

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["title"] = _("Edit %(name)s") % {"name": self.object.name}
        return context

    def get_breadcrumbs(self):
        return crumbs((self.object.name, self.object.get_absolute_url()), (_("Edit"), None))

    def perform(self, form):
        data = {k: v for k, v in form.cleaned_data.items() if k in form.changed_data}
        return services.save_device(actor=self.request.user, device=self.object, data=data)


class DeviceStatusView(ActionView):
    """Mark a device online, offline, faulty or retired."""

    route_scope = RouteScope(Device, "change", lookup="pk")
    success_message = _("The status was changed.")

    def act(self, request):
        services.set_status(actor=request.user, device=self.object,
                            status=request.POST.get("status", ""))
