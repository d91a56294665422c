"""Area tree API."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.http import HttpResponse
from django.utils.translation import gettext as _
from ninja import Field, File, Form, Query, Schema, Status
from ninja.files import UploadedFile

from zhili.areas import queries, services, transfer
from zhili.areas.choices import LEVEL_BY_NAME, CommunityType, UrbanRural
from zhili.areas.models import Area
from zhili.core.api import RouteScope, ScopedRouter
from zhili.core.jobs import start_job
from zhili.core.services import field_error

router = ScopedRouter(tags=["areas"])
AREA_VIEW = RouteScope(Area, "view")
AREA_OBJECT = RouteScope(Area, "view", lookup="pk")


class AreaOut(Schema):
    id: int
    code: str = Field(description="15-character padded code")
    short_code: str = Field(description="The code as offices write it")
    name: str
    level: int
    level_name: str
    parent_id: int | None
    urban_rural: str
    community_type: str
    center_lng: Decimal | None
    center_lat: Decimal | None
    status: str
    valid_from: dt.date
    valid_to: dt.date | None
    successor_id: int | None

    @staticmethod
    def resolve_level_name(obj):
        return obj.get_level_display()


class AreaPage(Schema):
    count: int
    items: list[AreaOut]


class AreaFilter(Schema):
    parent: int | None = Field(None, description="Children of this area")
    level: str | None = Field(None, description="city, county, town, village or grid")
    q: str | None = Field(None, description="Name fragment or code prefix")
    include_retired: bool = False
    limit: int = Field(100, ge=1, le=500)
    offset: int = Field(0, ge=0)


@router.get("", scope=AREA_VIEW, response=AreaPage, summary="List areas in my reach")
def list_areas(request, filters: Query[AreaFilter]):
    qs = Area.objects.restrict(request.auth)
    if not filters.include_retired:
        qs = qs.active()
    if filters.parent is not None:
        qs = qs.filter(parent_id=filters.parent)
    if filters.level:
        if filters.level not in LEVEL_BY_NAME:
            raise field_error("level", _("Unknown level (use city, county, town, village or "
                                         "grid)."))
        qs = qs.filter(level=LEVEL_BY_NAME[filters.level])
    if filters.q:
        qs = qs.search(filters.q)
    qs = qs.order_by("code")
    return {"count": qs.count(), "items": list(qs[filters.offset: filters.offset + filters.limit])}


@router.get("/{int:pk}", scope=AREA_OBJECT, response=AreaOut, summary="One area")
def get_area(request, pk: int):
    return request.scoped_object


class Ancestry(Schema):
    ancestors: list[AreaOut]
    children: list[AreaOut]


@router.get("/{int:pk}/family", scope=AREA_OBJECT, response=Ancestry,
            summary="Parent chain and active children of an area")
def area_family(request, pk: int):
    area = request.scoped_object
    return {"ancestors": area.ancestors(), "children": queries.children_with_counts(area)}


@router.get("/{int:pk}/geojson", scope=AREA_OBJECT, response=dict[str, Any],
            url_name="area_geojson",
            summary="Boundary of an area and of its children (GeoJSON)")
def area_geojson(request, pk: int):
    area = request.scoped_object
    return queries.feature_collection(area, list(Area.objects.filter(parent=area).active()))


class AreaIn(Schema):
    parent_id: int
    name: str = Field(max_length=100)
    code: str | None = Field(None, description="Division code; empty for a grid = next free")
    urban_rural: UrbanRural | None = None
    community_type: CommunityType | None = None
    center_lng: Decimal | None = None
    center_lat: Decimal | None = None
    polygon: dict[str, Any] | None = None
    valid_from: dt.date | None = None


def _area_in_scope(request, pk: int, action: str, field: str) -> Area:
    area = Area.objects.restrict(request.auth, action).filter(pk=pk).first()
    if area is None:
        raise field_error(field, _("No such area within your reach."))
    return area


@router.post("", scope=RouteScope(Area, "add"), response={201: AreaOut},
             summary="Create an area under a parent")
def create_area(request, payload: AreaIn):
    parent = _area_in_scope(request, payload.parent_id, "add", "parent_id")
    data = payload.dict(exclude={"parent_id"})
    area = services.create_area(actor=request.auth, parent=parent,
                                **{k: v for k, v in data.items() if v is not None})
    return Status(201, area)


class AreaPatch(Schema):
    name: str | None = Field(None, max_length=100)
    urban_rural: UrbanRural | None = None
    community_type: CommunityType | None = None
    center_lng: Decimal | None = None
    center_lat: Decimal | None = None
    polygon: dict[str, Any] | None = None


@router.patch("/{int:pk}", scope=RouteScope(Area, "change", lookup="pk"), response=AreaOut,
              summary="Change an area's attributes")
def update_area(request, pk: int, payload: AreaPatch):
    data = payload.dict(exclude_unset=True)
    return services.update_area(actor=request.auth, area=request.scoped_object, **data)


class ChangeIn(Schema):
    effective_on: dt.date | None = None
    note: str = Field("", max_length=500)


class MergeIn(ChangeIn):
    target_id: int


@router.post("/{int:pk}/merge", scope=RouteScope(Area, "merge", lookup="pk"), response=AreaOut,
             summary="Merge this area into another of the same level")
def merge_area(request, pk: int, payload: MergeIn):
    target = _area_in_scope(request, payload.target_id, "merge", "target_id")
    return services.merge_areas(actor=request.auth, source=request.scoped_object, target=target,
                                effective_on=payload.effective_on, note=payload.note)


@router.post("/{int:pk}/retire", scope=RouteScope(Area, "merge", lookup="pk"), response=AreaOut,
             summary="Retire an empty area")
def retire_area(request, pk: int, payload: ChangeIn):
    return services.retire_area(actor=request.auth, area=request.scoped_object,
                                effective_on=payload.effective_on, note=payload.note)


class RecodeIn(ChangeIn):
    new_code: str
    new_parent_id: int | None = None


@router.post("/{int:pk}/recode", scope=RouteScope(Area, "merge", lookup="pk"), response=AreaOut,
             summary="Give an area a new code (and parent)")
def recode_area(request, pk: int, payload: RecodeIn):
    parent = (_area_in_scope(request, payload.new_parent_id, "merge", "new_parent_id")
              if payload.new_parent_id else None)
    return services.recode_area(actor=request.auth, area=request.scoped_object,
                                new_code=payload.new_code, new_parent=parent,
                                effective_on=payload.effective_on, note=payload.note)


class SplitPartIn(Schema):
    name: str = Field(max_length=100)
    code: str
    child_ids: list[int] = []


class SplitIn(ChangeIn):
    parts: list[SplitPartIn] = Field(min_length=2)


@router.post("/{int:pk}/split", scope=RouteScope(Area, "merge", lookup="pk"),
             response=list[AreaOut], summary="Split an area into new sibling areas")
def split_area(request, pk: int, payload: SplitIn):
    parts = [services.SplitPart(name=p.name, code=p.code, child_ids=p.child_ids)
             for p in payload.parts]
    return services.split_area(actor=request.auth, source=request.scoped_object, parts=parts,
                               effective_on=payload.effective_on, note=payload.note)


class ExportQuery(Schema):
    format: str = Field("csv", pattern="^(csv|csv-gb18030|xlsx)$")
    root: int | None = None


@router.get("/export/file", scope=RouteScope(Area, "import"), response={200: None},
            summary="Export my subtree as CSV or XLSX")
def export_areas(request, query: Query[ExportQuery]):
    qs = Area.objects.restrict(request.auth, "import")
    if query.root:
        qs = qs.subtree(_area_in_scope(request, query.root, "import", "root"))
    content, name, ctype = transfer.export_tree(actor=request.auth, queryset=qs, fmt=query.format)
    response = HttpResponse(content, content_type=ctype)
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


class JobRef(Schema):
    job_id: int
    status_url: str


@router.post("/import", scope=RouteScope(Area, "import"), response={202: JobRef},
             summary="Import areas from CSV/XLSX (as a background job)")
def import_areas(request, file: File[UploadedFile], dry_run: Form[bool] = True):
    from django.conf import settings

    if file.size > settings.ZHILI_MAX_UPLOAD_MB * 1024 * 1024:
        raise field_error("file", _("The file is larger than %(n)d MB.")
                          % {"n": settings.ZHILI_MAX_UPLOAD_MB})
    job = start_job(actor=request.auth, kind="areas.import",
                    title=_("Area import: %(file)s") % {"file": file.name},
                    params={"dry_run": dry_run}, input_name=file.name, input_data=file.read())
    return Status(202, {"job_id": job.pk, "status_url": f"/api/v1/jobs/{job.pk}"})
