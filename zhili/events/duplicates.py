"""Possible duplicates: an open report of the same category, close in place and time, with
similar text (per-category radius and window)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import timedelta

from zhili.events.models import Event


@dataclass
class Candidate:
    event: Event
    distance_m: float | None
    similarity: float


def _bigrams(text: str) -> set[str]:
    text = "".join(text.split())
    return {text[i:i + 2] for i in range(len(text) - 1)} or {text}


def similarity(a: str, b: str) -> float:
    """Jaccard similarity of character bigrams: robust for short Chinese texts."""
    x, y = _bigrams(a), _bigrams(b)
    return len(x & y) / len(x | y) if x and y else 0.0


def distance_m(lat1, lng1, lat2, lng2) -> float:
    lat1, lng1, lat2, lng2 = map(math.radians, map(float, (lat1, lng1, lat2, lng2)))
    h = math.sin((lat2 - lat1) / 2) ** 2 + \
        math.cos(lat1) * math.cos(lat2) * math.sin((lng2 - lng1) / 2) ** 2
    return 6371000 * 2 * math.asin(math.sqrt(h))


def find_duplicates(event: Event, *, min_similarity: float = 0.25,
                    limit: int = 5) -> list[Candidate]:
    category = event.category
    window = timedelta(hours=category.dup_hours)
    qs = Event.objects.open().filter(
        category=category, reported_at__gte=event.reported_at - window,
        reported_at__lte=event.reported_at + window,
    ).exclude(pk=event.pk)
    if event.lat is not None and event.lng is not None:
        # ~111 km per degree of latitude; a box first, the exact distance after.
        dlat = category.dup_radius_m / 111000
        dlng = dlat / max(math.cos(math.radians(float(event.lat))), 0.1)
        qs = qs.filter(lat__gte=float(event.lat) - dlat, lat__lte=float(event.lat) + dlat,
                       lng__gte=float(event.lng) - dlng, lng__lte=float(event.lng) + dlng)
    else:
        qs = qs.filter(area_code=event.area_code)
    text = f"{event.title} {event.description}"
    found = []
    for other in qs.order_by("-reported_at")[:200]:
        sim = similarity(text, f"{other.title} {other.description}")
        if sim < min_similarity:
            continue
        dist = None
        if None not in (event.lat, event.lng, other.lat, other.lng):
            dist = distance_m(event.lat, event.lng, other.lat, other.lng)
            if dist > category.dup_radius_m:
                continue
        found.append(Candidate(other, dist, sim))
    found.sort(key=lambda c: -c.similarity)
    return found[:limit]
