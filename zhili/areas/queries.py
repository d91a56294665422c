"""Read helpers for area pages and the API (counts in grouped queries, never one per row)."""

from __future__ import annotations

from django.db.models import Count
from django.db.models.functions import Substr

from zhili.areas.choices import AreaLevel
from zhili.areas.models import Area
from zhili.core import codes


def children_with_counts(parent: Area) -> list[Area]:
    """Active children of `parent`, each with `.child_count` and `.grid_count` set."""
    children = list(Area.objects.filter(parent=parent).active().order_by("code"))
    if not children:
        return []
    digits = codes.LEVEL_BY_RANK[parent.level + 1].digits
    grids = dict(
        Area.objects.active().filter(codes.range_q("code", parent.prefix), level=AreaLevel.GRID)
        .annotate(p=Substr("code", 1, digits)).values_list("p").annotate(n=Count("id"))
        .order_by()
    )
    direct = dict(
        Area.objects.active().filter(parent__in=children).values_list("parent_id")
        .annotate(n=Count("id")).order_by()
    )
    for child in children:
        child.child_count = direct.get(child.pk, 0)
        child.grid_count = grids.get(child.prefix, 0) if child.level < AreaLevel.GRID else 0
    return children


def root_for(user) -> Area | None:
    """Where a user's view of the tree starts: their position's area, or the top."""
    position = user.active_position
    if position is not None:
        return position.area
    return Area.objects.restrict(user).filter(parent=None).active().order_by("code").first()


def locate(lng: float, lat: float) -> Area | None:
    """The deepest active area whose boundary contains the point (grid, else village …)."""
    from zhili.areas.geo import contains

    candidates = Area.objects.active().filter(
        bbox_west__lte=lng, bbox_east__gte=lng, bbox_south__lte=lat, bbox_north__gte=lat,
    ).order_by("-level", "code")
    for area in candidates:
        if contains(area.polygon, lng, lat):
            return area
    return None


def feature(area: Area) -> dict | None:
    if not area.polygon:
        return None
    return {
        "type": "Feature",
        "geometry": area.polygon,
        "properties": {"id": area.pk, "name": area.name, "code": area.short_code,
                       "level": area.level, "synthetic": area.geometry_synthetic},
    }


def feature_collection(area: Area, children: list[Area]) -> dict:
    features = [f for f in (feature(a) for a in [area, *children]) if f]
    return {"type": "FeatureCollection", "features": features}
