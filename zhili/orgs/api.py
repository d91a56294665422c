"""Organisation API."""

from __future__ import annotations

from django.utils.translation import gettext as _
from ninja import Field, Query, Schema, Status

from zhili.areas.models import Area
from zhili.core.api import RouteScope, ScopedRouter
from zhili.core.services import field_error
from zhili.orgs import services
from zhili.orgs.choices import OrgKind
from zhili.orgs.filters import filter_organisations
from zhili.orgs.models import Organisation

router = ScopedRouter(tags=["organisations"])


class OrganisationOut(Schema):
    id: int
    name: str
    short_name: str
    kind: str
    kind_name: str
    area_id: int
    area_code: str
    parent_id: int | None
    uscc: str
    address: str
    phone: str
    is_active: bool

    @staticmethod
    def resolve_kind_name(obj):
        return obj.get_kind_display()


class OrganisationPage(Schema):
    count: int
    items: list[OrganisationOut]


class OrganisationFilter(Schema):
    q: str | None = None
    kind: OrgKind | None = None
    area: str | None = Field(None, pattern=r"^\d{1,15}$", description="Area code prefix")
    inactive: bool = False
    limit: int = Field(100, ge=1, le=500)
    offset: int = Field(0, ge=0)


@router.get("", scope=RouteScope(Organisation, "view"), response=OrganisationPage,
            summary="List organisations in my reach")
def list_organisations(request, filters: Query[OrganisationFilter]):
    params = {k: v for k, v in filters.dict().items() if v not in (None, False)}
    _form, qs = filter_organisations(Organisation.objects.restrict(request.auth), params)
    qs = qs.order_by("area_code", "name")
    return {"count": qs.count(), "items": list(qs[filters.offset: filters.offset + filters.limit])}


@router.get("/{int:pk}", scope=RouteScope(Organisation, "view", lookup="pk"),
            response=OrganisationOut, summary="One organisation")
def get_organisation(request, pk: int):
    return request.scoped_object


class OrganisationIn(Schema):
    name: str = Field(max_length=200)
    kind: OrgKind
    area_id: int
    parent_id: int | None = None
    short_name: str = Field("", max_length=60)
    uscc: str = Field("", max_length=18)
    address: str = Field("", max_length=200)
    phone: str = Field("", max_length=40)


def _resolve(request, data: dict) -> dict:
    if "area_id" in data:
        area = Area.objects.restrict(request.auth).filter(pk=data.pop("area_id")).first()
        if area is None:
            raise field_error("area_id", _("No such area within your reach."))
        data["area"] = area
    if "parent_id" in data:
        parent_id = data.pop("parent_id")
        parent = None
        if parent_id is not None:
            parent = Organisation.objects.restrict(request.auth).filter(pk=parent_id).first()
            if parent is None:
                raise field_error("parent_id", _("No such organisation within your reach."))
        data["parent"] = parent
    return data


@router.post("", scope=RouteScope(Organisation, "add"), response={201: OrganisationOut},
             summary="Create an organisation")
def create_organisation(request, payload: OrganisationIn):
    org = services.create_organisation(actor=request.auth, **_resolve(request, payload.dict()))
    return Status(201, org)


class OrganisationPatch(Schema):
    name: str | None = Field(None, max_length=200)
    kind: OrgKind | None = None
    area_id: int | None = None
    parent_id: int | None = None
    short_name: str | None = Field(None, max_length=60)
    uscc: str | None = Field(None, max_length=18)
    address: str | None = Field(None, max_length=200)
    phone: str | None = Field(None, max_length=40)


@router.patch("/{int:pk}", scope=RouteScope(Organisation, "change", lookup="pk"),
              response=OrganisationOut, summary="Change an organisation")
def update_organisation(request, pk: int, payload: OrganisationPatch):
    data = _resolve(request, payload.dict(exclude_unset=True))
    return services.update_organisation(actor=request.auth, org=request.scoped_object, **data)


class ActiveIn(Schema):
    active: bool


@router.post("/{int:pk}/active", scope=RouteScope(Organisation, "change", lookup="pk"),
             response=OrganisationOut, summary="Close or reopen an organisation")
def set_active(request, pk: int, payload: ActiveIn):
    return services.set_organisation_active(actor=request.auth, org=request.scoped_object,
                                            active=payload.active)
