"""Test support shared by every module: a small world (area tree, organisations, personas) and
the registry of object factories the permission battery uses.

A module makes its models part of the battery by registering a factory in its own
`testing.py`: `@battery_factory(Model)` on `make(world, persona, inside, marker)`, returning
an object the persona should reach (inside=True) or one it must not (inside=False), or None
when no such object can exist (a city-level persona has nothing outside). The battery then
walks every route whose RouteScope names the model.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from django.contrib.auth.models import Permission

from zhili.core.models import AuditLog, Job, Notification

_factories: dict[type, Callable] = {}


def battery_factory(model):
    def decorator(fn):
        _factories[model] = fn
        return fn

    return decorator


def factories() -> dict[type, Callable]:
    from importlib import import_module

    from django.apps import apps

    for config in apps.get_app_configs():
        if config.name.startswith("zhili."):
            try:
                import_module(f"{config.name}.testing")
            except ModuleNotFoundError as exc:
                if exc.name != f"{config.name}.testing":
                    raise
    return _factories


@dataclass
class Persona:
    key: str
    user: object
    area: object | None = None  # area of the position (None: superuser or outsider)
    org: object | None = None
    role: object | None = None
    perms: frozenset[str] = field(default_factory=frozenset)

    @property
    def superuser(self) -> bool:
        return self.user.is_superuser

    @property
    def org_scoped(self) -> bool:
        return bool(self.role and self.role.scope_kind == "org" and self.org)

    def has_perm(self, perm: str) -> bool:
        return self.superuser or perm in self.perms


def role_perms(role) -> frozenset[str]:
    """Read straight from the role's group: the battery's expectations must not come from the
    scoping code they check."""
    return frozenset(
        f"{app}.{codename}" for app, codename in Permission.objects.filter(
            group=role.group).values_list("content_type__app_label", "codename")
    )


class World:
    """南通市 → 通州区 (A) → 金沙街道 (A1) → 东市社区 (A1a) → two grids; 兴东街道 (A2) beside A1;
    崇川区 (B) beside A with a town, a village and a grid; organisations at several places."""

    PASSWORD = "Battery#Pass2026"

    def __init__(self):
        from zhili.accounts.models import Position, Role, User
        from zhili.areas.models import Area
        from zhili.core import codes
        from zhili.orgs.models import Organisation

        def area(code, name, level, parent=None, **extra):
            return Area.objects.create(code=codes.pad(code), name=name, level=level,
                                       parent=parent, **extra)

        self.city = area("3206", "南通市", 1)
        self.county_a = area("320612", "通州区", 2, self.city)
        self.town_a1 = area("320612001", "金沙街道", 3, self.county_a)
        self.village_a1 = area("320612001001", "东市社区", 4, self.town_a1,
                               community_type="old_estate", urban_rural="111")
        self.grid_a1 = area("320612001001001", "第1网格", 5, self.village_a1)
        self.grid_a1b = area("320612001001002", "第2网格", 5, self.village_a1)
        self.town_a2 = area("320612002", "兴东街道", 3, self.county_a)
        self.village_a2 = area("320612002201", "兴东村", 4, self.town_a2)
        self.county_b = area("320613", "崇川区", 2, self.city)
        self.town_b1 = area("320613001", "城东街道", 3, self.county_b)
        self.village_b1 = area("320613001001", "城东社区", 4, self.town_b1)
        self.grid_b1 = area("320613001001001", "第1网格", 5, self.village_b1)

        def org(name, kind, place, parent=None):
            return Organisation.objects.create(name=name, kind=kind, area=place,
                                               area_code=place.code, parent=parent)

        self.city_centre = org("南通市社会治理现代化指挥中心", "centre", self.city)
        self.police_a = org("通州公安分局", "department", self.county_a)
        self.justice_a = org("通州区司法局", "department", self.county_a)
        self.centre_a1 = org("金沙街道综治中心", "centre", self.town_a1)
        self.centre_a2 = org("兴东街道综治中心", "centre", self.town_a2)
        self.centre_b1 = org("城东街道综治中心", "centre", self.town_b1)
        self.courier = org("顺丰速运南通分公司", "courier", self.city)
        self.outlet_a1 = org("顺丰金沙营业部", "outlet", self.town_a1, parent=self.courier)

        roles = {r.code: r for r in Role.objects.all()}
        self.roles = roles
        self.personas: dict[str, Persona] = {}

        def persona(key, role=None, place=None, organisation=None, superuser=False):
            user = User.objects.create_user(username=f"p.{key}", password=self.PASSWORD,
                                            display_name=f"Persona {key}",
                                            is_superuser=superuser, is_staff=superuser)
            if role:
                Position.objects.create(user=user, role=roles[role], area=place,
                                        area_code=place.code, org=organisation)
            self.personas[key] = Persona(key, user, place, organisation,
                                         roles.get(role) if role else None,
                                         role_perms(roles[role]) if role else frozenset())

        persona("superuser", superuser=True)
        persona("city_dispatcher", "dispatcher", self.city, self.city_centre)
        persona("district_admin", "area_admin", self.county_a)
        persona("town_admin", "area_admin", self.town_a1)
        persona("grid_worker", "grid_worker", self.grid_a1)
        persona("sibling_admin", "area_admin", self.town_a2)
        persona("org_staff", "handler", self.county_a, self.police_a)
        persona("outsider")

    def area_inside(self, persona: Persona):
        """An area the persona reaches: its own area (deepest for superusers)."""
        if persona.superuser:
            return self.grid_a1
        return persona.area

    def area_outside(self, persona: Persona):
        """An area outside the persona's subtree, found by walking parents (not by codes)."""
        if persona.superuser:
            return None
        if persona.area is None:
            return self.grid_b1
        for candidate in (self.grid_b1, self.grid_a1b, self.village_a2, self.grid_a1):
            if not self.descends(candidate, persona.area):
                return candidate
        return None

    @staticmethod
    def descends(area, ancestor) -> bool:
        node = area
        while node is not None:
            if node.pk == ancestor.pk:
                return True
            node = node.parent
        return False

    def org_inside(self, persona: Persona, marker: str):
        from zhili.orgs.models import Organisation

        if persona.org_scoped:
            return Organisation.objects.create(name=f"{marker} sub-unit", kind="other",
                                               area=persona.org.area,
                                               area_code=persona.org.area_code,
                                               parent=persona.org)
        place = self.area_inside(persona)
        if place is None:
            return None
        return Organisation.objects.create(name=f"{marker} unit", kind="other", area=place,
                                           area_code=place.code)

    def org_outside(self, persona: Persona, marker: str):
        from zhili.orgs.models import Organisation

        if persona.org_scoped:
            place = persona.org.area  # same area, another organisation: still out of reach
        else:
            place = self.area_outside(persona)
        if place is None:
            return None
        return Organisation.objects.create(name=f"{marker} unit", kind="other", area=place,
                                           area_code=place.code)


@battery_factory(AuditLog)
def make_audit_row(world, persona, inside: bool, marker: str):
    from zhili.core import audit

    place = world.area_inside(persona) if inside else world.area_outside(persona)
    if place is None:
        return None
    return audit.record(actor=None, actor_name=marker, action="battery.probe",
                        area_code=place.code, changes={"marker": marker})


@battery_factory(Job)
def make_job(world, persona, inside: bool, marker: str):
    from zhili.accounts.models import User

    if inside:
        owner = persona.user
    else:
        owner = User.objects.create_user(username=f"owner-{marker}", password=world.PASSWORD)
    from django.core.files.base import ContentFile

    job = Job(kind="battery", title=marker, created_by=owner, status="succeeded")
    job.output_file.save(f"{marker}.csv", ContentFile(b"a,b\n"), save=False)
    job.save()
    return job


@battery_factory(Notification)
def make_notification(world, persona, inside: bool, marker: str):
    from zhili.accounts.models import User

    owner = persona.user if inside else User.objects.create_user(
        username=f"n-{marker}", password=world.PASSWORD)
    return Notification.objects.create(user=owner, kind="battery", title=marker, url="/")
