"""Checks for the optional boundary (GeoJSON) and centre point of an area."""

from __future__ import annotations

import json
from decimal import Decimal, InvalidOperation

from django.utils.translation import gettext as _

from zhili.core.services import field_error

MAX_POSITIONS = 20000


def clean_polygon(raw) -> dict | None:
    """A GeoJSON Polygon or MultiPolygon (a Feature wrapping one is unwrapped), or None."""
    if raw in (None, "", {}):
        return None
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise field_error("polygon",
                              _("The boundary is not valid JSON: %s") % exc.msg) from None
    if not isinstance(raw, dict):
        raise field_error("polygon", _("The boundary must be a GeoJSON object."))
    if raw.get("type") == "Feature":
        raw = raw.get("geometry") or {}
    kind = raw.get("type")
    coordinates = raw.get("coordinates")
    if kind == "Polygon":
        polygons = [coordinates]
    elif kind == "MultiPolygon" and isinstance(coordinates, list):
        polygons = coordinates
    else:
        raise field_error("polygon", _("The boundary must be a GeoJSON Polygon or MultiPolygon."))
    count = 0
    for polygon in polygons:
        if not isinstance(polygon, list) or not polygon:
            raise field_error("polygon", _("Each polygon needs at least one ring."))
        for ring in polygon:
            if not isinstance(ring, list) or len(ring) < 4:
                raise field_error("polygon", _("Each ring needs at least four positions."))
            for position in ring:
                _check_position(position)
            if ring[0] != ring[-1]:
                raise field_error("polygon", _("A ring must end where it starts (closed ring)."))
            count += len(ring)
    if count > MAX_POSITIONS:
        raise field_error(
            "polygon", _("The boundary has %(n)d points; simplify it below %(max)d.")
            % {"n": count, "max": MAX_POSITIONS},
        )
    return {"type": kind, "coordinates": coordinates}


def _check_position(position) -> None:
    if (
        not isinstance(position, list | tuple)
        or len(position) < 2
        or not all(isinstance(v, int | float) and not isinstance(v, bool) for v in position[:2])
    ):
        raise field_error("polygon", _("Each position must be [longitude, latitude]."))
    lng, lat = position[0], position[1]
    if not (-180 <= lng <= 180 and -90 <= lat <= 90):
        raise field_error("polygon", _("Position %(p)s is outside valid longitude/latitude.")
                          % {"p": [lng, lat]})


def clean_center(lng, lat) -> tuple[Decimal | None, Decimal | None]:
    if lng in (None, "") and lat in (None, ""):
        return None, None
    if lng in (None, "") or lat in (None, ""):
        raise field_error("center_lng", _("Give both longitude and latitude, or neither."))
    try:
        lng_d, lat_d = Decimal(str(lng)), Decimal(str(lat))
    except InvalidOperation:
        raise field_error("center_lng", _("Longitude and latitude must be numbers.")) from None
    if not (-180 <= lng_d <= 180):
        raise field_error("center_lng", _("Longitude must be between -180 and 180."))
    if not (-90 <= lat_d <= 90):
        raise field_error("center_lat", _("Latitude must be between -90 and 90."))
    return lng_d.quantize(Decimal("0.000001")), lat_d.quantize(Decimal("0.000001"))


def _rings(polygon: dict) -> list[list]:
    """Every polygon as its list of rings (outer first, then holes)."""
    return [polygon["coordinates"]] if polygon["type"] == "Polygon" else polygon["coordinates"]


def bbox(polygon: dict) -> tuple[float, float, float, float]:
    """(west, south, east, north) of a Polygon or MultiPolygon."""
    points = [p for rings in _rings(polygon) for ring in rings for p in ring]
    lngs, lats = [p[0] for p in points], [p[1] for p in points]
    return min(lngs), min(lats), max(lngs), max(lats)


def _in_ring(lng: float, lat: float, ring: list) -> bool:
    inside = False
    for (x1, y1), (x2, y2) in zip(ring, ring[1:], strict=False):
        if (y1 > lat) != (y2 > lat):
            x_cross = x1 + (lat - y1) * (x2 - x1) / (y2 - y1)
            if lng < x_cross:
                inside = not inside
    return inside


def contains(polygon: dict, lng: float, lat: float) -> bool:
    """Even-odd ray casting: inside an outer ring and outside its holes."""
    for rings in _rings(polygon):
        if rings and _in_ring(lng, lat, rings[0]) and not any(
                _in_ring(lng, lat, hole) for hole in rings[1:]):
            return True
    return False


def polygon_center(polygon: dict) -> tuple[float, float]:
    """Mean of the outer ring's vertices: good enough to place a label or a map view."""
    ring = polygon["coordinates"][0] if polygon["type"] == "Polygon" else \
        polygon["coordinates"][0][0]
    points = ring[:-1] or ring
    return (sum(p[0] for p in points) / len(points), sum(p[1] for p in points) / len(points))
