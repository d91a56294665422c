"""Unmasking personal data with a stated purpose (DESIGN §3.5, PIPL 最小必要).

Personal data is shown masked everywhere by default. A user who needs a value in clear asks
for it on one record, names the fields and states a purpose; `grant_unmask` checks

- the permission `<app_label>.unmask_<model_name>` of the record's model (for a model without
  one of its own, e.g. a helper-team member, that of the record it belongs to: see
  `unmask_parent`), and
- that the record lies in the user's scope (`zhili.core.scoping.access`),

then writes an `UnmaskGrant` and the audit row ("pii.unmask": fields and purpose, never a
value) in one transaction. For `ZHILI_UNMASK_MINUTES` (default 15) the `{% pii %}` tag shows
those fields in clear to that user (`active_fields`); afterwards masked again.

Which fields can be unmasked (`unmaskable_fields`): the record's `EncryptedTextField`s and a
person's name columns, and the same fields of a record it points to whose model is itself
unmaskable, written as a path: a special-population record offers "person.id_number".
A grant on such a path also unmasks the field on the related record's own pages.

Bulk unmasking is not offered: one record per grant, and at most
`ZHILI_UNMASK_MAX_PER_HOUR` (default 120) grants per user per hour. Exports stay masked.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cache

from django.apps import apps
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import FieldDoesNotExist
from django.db import models, transaction
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from zhili.config.logs import mask_text
from zhili.core import audit, context
from zhili.core.models import UnmaskGrant, UnmaskPurpose
from zhili.core.pii.fields import EncryptedTextField
from zhili.core.pii.masking import field_kind
from zhili.core.scoping import access, get_scope, perm_name
from zhili.core.services import ServiceError, field_error

DEFAULT_MINUTES = 15
DEFAULT_MAX_PER_HOUR = 120
PURPOSE_MIN_LENGTH = 5
PURPOSE_MAX_LENGTH = 500
_CACHE_ATTR = "_zhili_unmask"


def grant_minutes() -> int:
    return int(getattr(settings, "ZHILI_UNMASK_MINUTES", DEFAULT_MINUTES))


# --- which models and fields ------------------------------------------------------------------


def has_own_unmask_permission(model) -> bool:
    codename = f"unmask_{model._meta.model_name}"
    return any(name == codename for name, _label in model._meta.permissions)


def _scoped(model) -> bool:
    return hasattr(model._default_manager.all(), "in_scope")


def _forward_relations(model):
    user_model = apps.get_model(settings.AUTH_USER_MODEL)
    for field in model._meta.get_fields():
        if (field.concrete and field.is_relation and (field.many_to_one or field.one_to_one)
                and field.related_model is not user_model):
            yield field


def unmask_parent(model) -> models.ForeignKey | None:
    """The relation through which a model without an unmask permission of its own takes the
    permission and the scope: `unmask_via = "<field>"` on the model, or else its first
    relation to a model that has one, if it holds personal data of its own (a helper-team
    member → its special-population record)."""
    via = getattr(model, "unmask_via", None)
    if via:
        return model._meta.get_field(via)
    if has_own_unmask_permission(model) or not _own_fields(model):
        return None
    for field in _forward_relations(model):
        if has_own_unmask_permission(field.related_model):
            return field
    return None


@cache
def authority_model(model):
    """The model whose `unmask_*` permission and scope govern unmasking `model`, or None."""
    if hasattr(model, "instance_type"):
        return None  # change-history copies (django-simple-history) are shown masked only
    if has_own_unmask_permission(model) and not getattr(model, "unmask_via", None):
        return model if _scoped(model) else None
    parent = unmask_parent(model)
    if parent is None:
        return None
    return authority_model(parent.related_model) if parent.related_model is not model else None


@cache
def _own_fields(model) -> tuple[str, ...]:
    names = []
    for field in model._meta.concrete_fields:
        if isinstance(field, EncryptedTextField):
            if field.formfield() is None:  # a JSON document, not a value to read out
                continue
            names.append(field.name)
        elif field_kind(model, field.name) is not None:
            names.append(field.name)
    return tuple(names)


@cache
def unmaskable_fields(model) -> tuple[str, ...]:
    """Field names (or one-step paths) of `model` that a grant may name, in display order."""
    names = list(_own_fields(model))
    for relation in _forward_relations(model):
        target = relation.related_model
        if has_own_unmask_permission(target) and target is not model:
            names += [f"{relation.name}.{name}" for name in _own_fields(target)]
    return tuple(names)


def field_label(model, path: str) -> str:
    """"ID number", or "person → ID number" for a path."""
    labels = []
    for part in path.split("."):
        try:
            field = model._meta.get_field(part)
        except FieldDoesNotExist:  # a grant older than a schema change
            return path
        labels.append(str(field.verbose_name))
        model = field.related_model or model
    return " → ".join(labels)


def resolve_model(app_label: str, model_name: str):
    """The model named in a URL or API body, if it can be unmasked at all; else Http404."""
    try:
        model = apps.get_model(app_label, model_name)
    except (LookupError, ValueError):
        raise Http404 from None
    if authority_model(model) is None or not unmaskable_fields(model):
        raise Http404
    return model


def authorise(user, model, pk):
    """Fetch the record to unmask: 404 when missing or out of scope, 403 without the
    permission (of the model, or of the record it belongs to)."""
    authority = authority_model(model)
    if authority is None:
        raise Http404
    if authority is model:
        return access(user, model, pk, "unmask")
    try:
        obj = model._default_manager.get(pk=pk)
    except (model.DoesNotExist, ValueError, TypeError):
        raise Http404 from None
    parent = _authority_object(obj)
    if parent is None:
        raise Http404
    access(user, authority, parent.pk, "unmask")
    return obj


def _authority_object(obj):
    """The record whose permission and scope govern unmasking `obj` (itself, or the record
    it belongs to); None when that link is empty."""
    authority = authority_model(type(obj))
    node = obj
    while node is not None and type(node) is not authority:
        node = getattr(node, unmask_parent(type(node)).name)
    return node


def read(obj, path: str):
    """The plaintext at `path` ("phone", "person.id_number") of `obj`, or None."""
    value = obj
    for part in path.split("."):
        if value is None:
            return None
        value = getattr(value, part, None)
    return value


# --- granting -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Granted:
    grant: UnmaskGrant
    obj: models.Model

    @property
    def expires_at(self) -> dt.datetime:
        return self.grant.expires_at

    def values(self) -> dict[str, str | None]:
        """The plaintext of the granted fields (for the API answer; never logged)."""
        result = {}
        for path in self.grant.fields:
            value = read(self.obj, path)
            result[path] = None if value is None else str(value)
        return result


def _key(obj) -> str:
    return f"{obj._meta.label_lower}:{obj.pk}"


def _covers(obj, fields: list[str]) -> list[str]:
    covers = [f"{_key(obj)}:{path}" for path in fields]
    for path in fields:
        head, _sep, rest = path.partition(".")
        if rest:
            related = getattr(obj, head, None)
            if related is not None:
                covers.append(f"{_key(related)}:{rest}")
    return sorted(set(covers))


def _check_fields(model, fields) -> list[str]:
    offered = unmaskable_fields(model)
    chosen = []
    for name in fields or []:
        if not isinstance(name, str) or name not in offered:
            raise field_error("fields", _("“%(name)s” is not personal data of this record that "
                                          "can be unmasked.") % {"name": name})
        if name not in chosen:
            chosen.append(name)
    if not chosen:
        raise field_error("fields", _("Choose at least one field to show."))
    return [name for name in offered if name in chosen]


def _check_purpose(purpose, category) -> tuple[str, str]:
    text = " ".join(str(purpose or "").split())
    errors: dict[str, list] = {}
    if len(text) < PURPOSE_MIN_LENGTH:
        errors["purpose"] = [_("State what you need the data for, in at least %(count)d "
                               "characters.") % {"count": PURPOSE_MIN_LENGTH}]
    elif len(text) > PURPOSE_MAX_LENGTH:
        errors["purpose"] = [_("Keep the purpose under %(count)d characters.")
                             % {"count": PURPOSE_MAX_LENGTH}]
    if category not in UnmaskPurpose.values:
        errors["purpose_category"] = [_("Choose the kind of purpose.")]
    if errors:
        raise ServiceError("invalid", field_messages=errors)
    # An ID or phone number typed into the purpose is kept masked: the audit log holds no value.
    return mask_text(text), category


def _throttle(actor) -> None:
    limit = int(getattr(settings, "ZHILI_UNMASK_MAX_PER_HOUR", DEFAULT_MAX_PER_HOUR))
    since = timezone.now() - dt.timedelta(hours=1)
    if UnmaskGrant.objects.filter(user=actor, granted_at__gte=since).count() >= limit:
        raise ServiceError("throttled", _(
            "You have unmasked personal data %(count)d times in the last hour, the most "
            "allowed. Personal data cannot be unmasked in bulk.") % {"count": limit},
            status=429)


class _AuditTarget:
    """The record as the audit row names it: type and id, never `str(obj)` (for a person that
    is the name, itself one of the fields a grant unmasks)."""

    def __init__(self, obj):
        self._meta, self.pk = obj._meta, obj.pk
        self.area_code = getattr(obj, "area_code", None)

    def __str__(self):
        return f"{self._meta.verbose_name} #{self.pk}"


def grant_unmask(*, actor, obj, fields, purpose, category=UnmaskPurpose.OTHER,
                 minutes: int | None = None) -> Granted:
    """Let `actor` see `fields` of `obj` in clear for a while, for `purpose`.

    Raises Http404 (record out of the actor's scope), PermissionDenied (no unmask
    permission) or ServiceError (fields, purpose, too many unmasks). Writes the grant and the
    audit row in one transaction. `minutes` may shorten the period, never extend it.
    """
    model = type(obj)
    authorise(actor, model, obj.pk)  # re-checked here: the service is the gate, not the view
    chosen = _check_fields(model, fields)
    text, category = _check_purpose(purpose, category)
    _throttle(actor)
    period = grant_minutes() if minutes is None else max(1, min(int(minutes), grant_minutes()))
    info = context.current()
    now = timezone.now()
    authority = _authority_object(obj)
    area_code = getattr(obj, "area_code", None) or getattr(authority, "area_code", "") or ""
    with transaction.atomic():
        grant = UnmaskGrant.objects.create(
            user=actor, content_type=ContentType.objects.get_for_model(model),
            object_id=str(obj.pk), fields=chosen, covers=_covers(obj, chosen),
            purpose_category=category, purpose=text, granted_at=now,
            expires_at=now + dt.timedelta(minutes=period), area_code=area_code,
            request_id=info.request_id, ip=info.ip, channel=info.channel)
        audit.record(actor=actor, action="pii.unmask", target=_AuditTarget(obj),
                     area_code=area_code or None,
                     changes={"fields": chosen, "purpose_category": category, "purpose": text,
                              "expires_at": grant.expires_at, "grant": grant.pk})
    forget(actor)
    return Granted(grant, obj)


# --- reading --------------------------------------------------------------------------------------


def forget(user) -> None:
    """Drop the per-request cache of the user's grants (after granting)."""
    if user is not None and hasattr(user, _CACHE_ATTR):
        delattr(user, _CACHE_ATTR)


def _grants(user) -> dict[str, list[tuple[str, str, dt.datetime]]]:
    """{"app.model:pk": [(field, permission needed, expires_at)]}, read once per request."""
    cached = getattr(user, _CACHE_ATTR, None)
    if cached is not None:
        return cached
    index: dict[str, list[tuple[str, str, dt.datetime]]] = {}
    rows = UnmaskGrant.objects.filter(user=user, expires_at__gt=timezone.now()).values_list(
        "content_type_id", "covers", "expires_at")
    for content_type_id, covers, expires_at in rows:
        target = ContentType.objects.get_for_id(content_type_id).model_class()
        authority = authority_model(target) if target is not None else None
        if authority is None:
            continue
        needed = perm_name(authority, "unmask")
        for entry in covers:
            key, _sep, name = entry.rpartition(":")
            index.setdefault(key, []).append((name, needed, expires_at))
    setattr(user, _CACHE_ATTR, index)
    return index


def active_fields(user, obj) -> set[str]:
    """Names of `obj`'s fields (or paths) that `user` may currently see unmasked.

    A grant counts while it has not expired and the user's current position still holds the
    permission it was given under (switching to a position without it masks again).
    """
    if (obj is None or getattr(obj, "pk", None) is None or user is None
            or not getattr(user, "is_authenticated", False)):
        return set()
    entries = _grants(user).get(_key(obj))
    if not entries:
        return set()
    now = timezone.now()
    scope = get_scope(user)
    return {name for name, needed, expires_at in entries
            if expires_at > now and scope.can(needed)}


def can_unmask(user, obj) -> bool:
    """Whether to offer the unmask form for `obj` (permission only: the form checks scope)."""
    if obj is None or user is None or not getattr(user, "is_authenticated", False):
        return False
    authority = authority_model(type(obj))
    return authority is not None and bool(unmaskable_fields(type(obj))) and \
        get_scope(user).can(perm_name(authority, "unmask"))

