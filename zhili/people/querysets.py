"""Reads of the registry. Every model is placed by its `area_code` (a copy of its area's code),
so the area subtree of the active position decides what a user reaches."""

from __future__ import annotations

import re

from django.db.models import Q

from zhili.core import codes, pii
from zhili.core.scoping import ScopedQuerySet

# What a search box recognises: an ID number (18 characters, or 15 digits) or a phone number.
ID_NUMBER_RE = re.compile(r"\d{17}[\dXx]|\d{15}")
MOBILE_RE = re.compile(r"1[3-9]\d{9}")
LANDLINE_RE = re.compile(r"0\d{2,3}-?\d{7,8}")


def classify(text: str) -> str:
    """"id_number", "phone" or "name" for what was typed in a search box."""
    compact = "".join((text or "").split()).replace("＋", "+")
    if compact.startswith(("+86", "0086")):
        return "phone"
    if ID_NUMBER_RE.fullmatch(compact):
        return "id_number"
    if MOBILE_RE.fullmatch(compact) or LANDLINE_RE.fullmatch(compact):
        return "phone"
    return "name"


class RegistryQuerySet(ScopedQuerySet):
    scope_area_field = "area_code"

    def subtree(self, prefix: str):
        """Rows in the subtree of an area's significant code prefix (one index range)."""
        return self.filter(codes.range_q("area_code", prefix))

    def active(self):
        return self.filter(is_active=True)


class PersonQuerySet(RegistryQuerySet):
    """Persons are seen by the area subtree of their current residence (现住地)."""

    def search(self, text: str):
        """A name fragment; or, exactly through the blind index, an ID number or phone."""
        from zhili.people.models import Person

        text = (text or "").strip()
        if not text:
            return self
        kind = classify(text)
        if kind == "id_number":
            return self.filter(pii.lookup_q(Person, "id_number", text))
        if kind == "phone":
            return self.filter(pii.lookup_q(Person, "phone", text))
        return self.filter(Q(name__contains=text) | Q(former_name__contains=text))


class HouseQuerySet(RegistryQuerySet):
    def search(self, text: str):
        """A house number or the owner's name; an ID number finds the owner's houses."""
        from zhili.people.models import House

        text = (text or "").strip()
        if not text:
            return self
        if classify(text) == "id_number":
            return self.filter(pii.lookup_q(House, "owner_id_number", text))
        return self.filter(Q(number__contains=text) | Q(owner_name__contains=text) |
                           Q(building__estate__contains=text))


class BuildingQuerySet(RegistryQuerySet):
    def search(self, text: str):
        text = (text or "").strip()
        if not text:
            return self
        return self.filter(Q(estate__contains=text) | Q(name__contains=text) |
                           Q(leader_name__contains=text))


class ResidencyQuerySet(RegistryQuerySet):
    def current(self):
        return self.filter(is_active=True, person__is_active=True)


class UnitQuerySet(RegistryQuerySet):
    def search(self, text: str):
        """A name fragment, or a unified social credit code (exact)."""
        text = (text or "").strip()
        if not text:
            return self
        compact = text.replace(" ", "").upper()
        if len(compact) == 18 and compact.isalnum():
            return self.filter(uscc=compact)
        return self.filter(Q(name__contains=text) | Q(legal_rep_name__contains=text))
