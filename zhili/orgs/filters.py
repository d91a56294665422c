"""Organisation list filters, shared by the list page and the API."""

from zhili.core import codes
from zhili.orgs.forms import OrganisationFilterForm


def filter_organisations(queryset, params):
    form = OrganisationFilterForm(params or None)
    if form.is_valid():
        data = form.cleaned_data
        if data["q"]:
            queryset = queryset.filter(name__icontains=data["q"])
        if data["kind"]:
            queryset = queryset.filter(kind=data["kind"])
        if data["area"] and data["area"].isdigit() and len(data["area"]) <= codes.CODE_WIDTH:
            queryset = queryset.filter(codes.range_q("area_code", data["area"]))
        if not data["inactive"]:
            queryset = queryset.active()
    else:
        queryset = queryset.active()
    return form, queryset
