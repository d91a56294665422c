"""Device list filters, shared by the list page and the API."""

from __future__ import annotations

from django.db.models import Q

from zhili.areas.models import Area
from zhili.core import codes
from zhili.devices.forms import DeviceFilterForm


def area_prefix(raw: str) -> str:
    """A full 15-digit code stands for its area's subtree; anything shorter is a prefix."""
    if len(raw) == codes.CODE_WIDTH:
        area = Area.objects.filter(code=raw).first()
        if area is not None:
            return area.prefix
    return raw


def apply(queryset, data: dict):
    """Narrow a device queryset by cleaned filter values (q, kind, status, area, org)."""
    if data.get("q"):
        text = data["q"].strip()
        queryset = queryset.filter(Q(name__icontains=text) | Q(code__icontains=text))
    if data.get("kind"):
        queryset = queryset.filter(kind=data["kind"])
    if data.get("status"):
        queryset = queryset.filter(status=data["status"])
    if data.get("area"):
        queryset = queryset.filter(codes.range_q("area_code", area_prefix(data["area"])))
    if data.get("org"):
        queryset = queryset.filter(org_id=data["org"])
    return queryset


def filter_devices(queryset, params):
    form = DeviceFilterForm(params or None)
    if form.is_valid():
        queryset = apply(queryset, form.cleaned_data)
    return form, queryset
