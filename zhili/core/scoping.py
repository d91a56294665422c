"""The one scoping mechanism: who may see which rows, and do what with them.

A principal (a person, or the service account behind an API key) acts through one *active
position* (user, role, area, organisation). From it we resolve, once per request, a `Scope`:

- the area prefix of the position's area: rows whose area code lies in that subtree are visible;
- for roles scoped to their organisation (department handlers, mediators, outlet staff …), the
  organisation and its sub-organisations: rows belonging to them are visible;
- the role's Django permissions: which actions are allowed.

`ScopedQuerySet.restrict(user, action)` is the only way views, the API, exports, dashboards and
tasks read scoped data. Out of scope reads as missing (404); in scope without the action is 403.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied
from django.db import models
from django.db.models import Q
from django.http import Http404
from django.utils.translation import gettext_lazy as _

from zhili.core import codes

AREA = "area"
ORG = "org"


@dataclass(frozen=True)
class Scope:
    """What the active position of a principal covers."""

    user_id: int | None = None
    unrestricted: bool = False
    prefix: str | None = None  # area subtree prefix; None = no area reach
    kind: str = AREA
    org_ids: frozenset[int] = field(default_factory=frozenset)
    perms: frozenset[str] = field(default_factory=frozenset)

    def can(self, perm: str) -> bool:
        return self.unrestricted or perm in self.perms

    def covers_code(self, code: str | None) -> bool:
        """Whether a row with this area code lies inside the area reach of the scope."""
        if self.unrestricted:
            return True
        if not code or self.prefix is None:
            return False
        return codes.in_subtree(code, self.prefix)


EMPTY = Scope()


def perm_name(model: type[models.Model], action: str) -> str:
    return f"{model._meta.app_label}.{action}_{model._meta.model_name}"


def get_scope(user) -> Scope:
    """Resolve (and cache on the user object) the scope of the user's active position."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return EMPTY
    cached = getattr(user, "_zhili_scope", None)
    if cached is not None:
        return cached
    if user.is_superuser:
        scope = Scope(user_id=user.pk, unrestricted=True)
    else:
        position = user.active_position
        scope = position.scope() if position is not None else Scope(user_id=user.pk)
    user._zhili_scope = scope
    return scope


def forget_scope(user) -> None:
    """Drop the cached scope after the user's positions or active position change."""
    for attr in ("_zhili_scope", "_active_position"):
        if hasattr(user, attr):
            delattr(user, attr)


def can(user, model: type[models.Model], action: str) -> bool:
    return get_scope(user).can(perm_name(model, action))


class ScopedQuerySet(models.QuerySet):
    """Base queryset of every scoped model.

    Subclasses name the indexed area-code column (`scope_area_field`) and, when rows belong to an
    organisation, the organisation column (`scope_org_field`). Models whose visibility is not a
    plain column override `scope_q`.
    """

    scope_area_field: str | None = "area_code"
    scope_org_field: str | None = None

    def scope_q(self, scope: Scope) -> Q | None:
        """The filter for rows inside `scope`; None means nothing is visible."""
        if scope.kind == ORG and self.scope_org_field and scope.org_ids:
            return Q(**{f"{self.scope_org_field}__in": scope.org_ids})
        if scope.prefix is not None and self.scope_area_field:
            return codes.range_q(self.scope_area_field, scope.prefix)
        return None

    def in_scope(self, user) -> ScopedQuerySet:
        """Rows the user's active position reaches, whatever the action."""
        scope = get_scope(user)
        if scope.unrestricted:
            return self
        condition = self.scope_q(scope)
        return self.none() if condition is None else self.filter(condition)

    def restrict(self, user, action: str = "view") -> ScopedQuerySet:
        """Rows the user may `action`: in scope, and the role holds the permission."""
        if not can(user, self.model, action):
            return self.none()
        return self.in_scope(user)

    def dangerously_unscoped(self) -> ScopedQuerySet:
        """Every row, for system jobs that must see across areas (re-zoning). Never for users."""
        return self.all()


def access(user, model: type[models.Model], pk, action: str = "view", *, queryset=None):
    """Fetch one object for `action`: 404 when missing or out of scope, 403 when not allowed."""
    base = queryset if queryset is not None else model._default_manager.all()
    try:
        obj = base.in_scope(user).get(pk=pk)
    except (model.DoesNotExist, ValueError, TypeError):
        raise Http404 from None
    require(user, model, action)
    return obj


def require(user, model: type[models.Model], action: str) -> None:
    if not can(user, model, action):
        raise PermissionDenied


def require_code_in_scope(user, code: str | None, *, field_name: str = "area") -> None:
    """Refuse a write that would place a row outside the actor's reach."""
    from zhili.core.services import ServiceError

    if not get_scope(user).covers_code(code):
        raise ServiceError(
            "out_of_scope",
            field_messages={field_name: [_("This area is outside your area of responsibility.")]},
        )


def scoped_models() -> Iterable[type[models.Model]]:
    """Every installed model whose default manager is scoped (used by re-zoning and checks)."""
    from django.apps import apps

    for model in apps.get_models():
        if isinstance(model._default_manager.all(), ScopedQuerySet):
            yield model
