"""The record list filters, shared by the list page and the API."""

from __future__ import annotations

from zhili.core import codes, pii
from zhili.people.models import Person
from zhili.special.choices import SupervisionState
from zhili.special.forms import SupervisionFilterForm


def filter_records(queryset, data):
    """Apply the list filters (UI and API share them); returns (queryset, form)."""
    form = SupervisionFilterForm(data)
    if not form.is_valid():
        return queryset.none(), form
    f = form.cleaned_data
    state = f.get("state")
    if state == "":
        queryset = queryset.open()
    elif state != "all":
        queryset = queryset.filter(state=state)
    if f.get("category"):
        queryset = queryset.filter(category=f["category"])
    if f.get("level"):
        queryset = queryset.filter(level=f["level"])
    if f.get("risk"):
        queryset = queryset.filter(risk_level=f["risk"])
    if f.get("area"):
        queryset = queryset.filter(codes.range_q("area_code", f["area"]))
    if f.get("overdue"):
        queryset = queryset.filter(overdue=True)
    if f.get("lost_contact"):
        queryset = queryset.filter(lost_contact=True)
    if f.get("handing_over"):
        queryset = queryset.filter(state=SupervisionState.HANDING_OVER)
    if f.get("id_number"):
        queryset = queryset.filter(person__in=Person.objects.filter(
            pii.lookup_q(Person, "id_number", f["id_number"])).values("pk"))
    return queryset, form
