"""The left navigation. Each module registers its entries; an entry shows when the user's
active position holds its permission."""

from __future__ import annotations

import functools
from dataclasses import dataclass

from django.urls import reverse


@dataclass(frozen=True)
class NavItem:
    section: object  # lazily translated heading
    label: object  # lazily translated
    url_name: str
    icon: str
    perm: str | None = None
    order: int = 100


_items: list[NavItem] = []


def register(*items: NavItem) -> None:
    for item in items:
        if item not in _items:
            _items.append(item)


def visible_items(scope) -> list[tuple[str, list[dict]]]:
    """[(section, [item dicts])] for the scope, in order."""
    sections: dict[str, list[dict]] = {}
    for item in sorted(_items, key=lambda i: i.order):
        if item.perm and not scope.can(item.perm):
            continue
        sections.setdefault(str(item.section), []).append(
            {"label": str(item.label), "url": _url(item.url_name), "icon": item.icon,
             "url_name": item.url_name}
        )
    return list(sections.items())


@functools.cache
def _url(name: str) -> str:
    """The entry's address: reversed once per process, not on every page."""
    return reverse(name)
