"""Writes for users, positions, sign-in and API keys."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from zhili.accounts.models import ApiKey, Position, Role, User
from zhili.core import audit
from zhili.core.memo import ttl_cache
from zhili.core.scoping import ORG, forget_scope, get_scope, require, require_code_in_scope
from zhili.core.services import ServiceError, field_error

API_KEY_PREFIX = "zk"


# --- sign-in ---------------------------------------------------------------------------------

class LoginRefused(Exception):
    def __init__(self, message: str):
        self.message = message
        super().__init__(message)


def sign_in(*, username: str, password: str) -> User:
    """Check a password with lockout after repeated failures; every attempt is audited.

    The failure count and the audit row are committed before the refusal is raised.
    """
    username = (username or "").strip()
    with transaction.atomic():
        user = User.objects.select_for_update().filter(username=username).first()
        refusal = _check_sign_in(user, username, password)
    if refusal:
        raise LoginRefused(refusal)
    return user


def _check_sign_in(user: User | None, username: str, password: str) -> str | None:
    """Record the attempt; return the message to show when it is refused."""
    wrong = _("Wrong user name or password.")
    if user is None or user.is_service:
        audit.record(actor=None, actor_name=username, action="auth.login_failed",
                     changes={"reason": "unknown user"})
        return wrong
    if user.is_locked:
        audit.record(actor=user, action="auth.login_locked", target=user)
        minutes = max(1, int((user.locked_until - timezone.now()).total_seconds() // 60) + 1)
        return _("Too many failed attempts: this account is locked for %(m)d more minutes.") % {
            "m": minutes}
    if not user.is_active or not user.check_password(password):
        user.failed_logins += 1
        changes = {"reason": "inactive" if not user.is_active else "bad password",
                   "failures": user.failed_logins}
        locked = user.failed_logins >= settings.ZHILI_LOGIN_MAX_FAILURES
        if locked:
            user.locked_until = timezone.now() + timedelta(
                minutes=settings.ZHILI_LOGIN_LOCKOUT_MINUTES)
            user.failed_logins = 0
            changes["locked_until"] = user.locked_until
        user.save(update_fields=["failed_logins", "locked_until"])
        audit.record(actor=user, action="auth.login_failed", target=user, changes=changes)
        if locked:
            return _("Too many failed attempts: this account is locked for %(m)d minutes.") % {
                "m": settings.ZHILI_LOGIN_LOCKOUT_MINUTES}
        return wrong
    user.failed_logins = 0
    user.locked_until = None
    user.last_login = timezone.now()
    user.save(update_fields=["failed_logins", "locked_until", "last_login"])
    audit.record(actor=user, action="auth.login", target=user)
    return None


def record_logout(*, user) -> None:
    if user is not None and user.is_authenticated:
        audit.record(actor=user, action="auth.logout", target=user)


def switch_position(*, user: User, position_id) -> Position:
    """Make one of the user's own positions the active one."""
    position = Position.objects.active().filter(user=user, pk=position_id).select_related(
        "role", "area", "org").first()
    if position is None:
        raise field_error("position", _("That is not one of your positions."))
    user._chosen_position_id = position.pk
    forget_scope(user)
    audit.record(actor=user, action="auth.switch_position", target=position,
                 area_code=position.area_code)
    return position


# --- users and positions -----------------------------------------------------------------------

def _require_role_grantable(actor, role: Role) -> None:
    """A role is handed out only by holders of a role allowed to grant it (Role.grants), so an
    area administrator can staff their area but cannot make administrators."""
    if get_scope(actor).unrestricted:
        return
    position = actor.active_position
    if position is None or not position.role.grants.filter(pk=role.pk).exists():
        raise field_error("role", _("Your position may not grant the role %(role)s.")
                          % {"role": role})


def require_user_manageable(actor, user: User) -> None:
    """A user can be changed only by someone whose reach covers all of the user's positions."""
    scope = get_scope(actor)
    if scope.unrestricted:
        return
    if user.is_superuser:
        raise ServiceError("forbidden", _("Only a system administrator can change this user."),
                           status=403)
    outside = [p for p in user.positions.active() if not scope.covers_code(p.area_code)]
    if outside:
        raise ServiceError(
            "forbidden", _("%(user)s also holds positions outside your area of responsibility; "
                           "ask an administrator above you.") % {"user": user}, status=403,
        )


def _clean_position(actor, *, role: Role, area, org, title: str) -> dict:
    if role is None:
        raise field_error("role", _("Choose a role."))
    if area is None:
        raise field_error("area", _("Choose the area of the position."))
    if not area.is_active:
        raise field_error("area", _("%(name)s is retired.") % {"name": area.name})
    require_code_in_scope(actor, area.code)
    _require_role_grantable(actor, role)
    if role.scope_kind == ORG and org is None:
        raise field_error("org", _("The role %(role)s works for an organisation: choose it.")
                          % {"role": role})
    if org is not None:
        require_code_in_scope(actor, org.area_code, field_name="org")
        if not org.is_active:
            raise field_error("org", _("%(name)s is closed.") % {"name": org.name})
    return {"role": role, "area": area, "area_code": area.code, "org": org,
            "title": (title or "").strip()}


def _validate_new_password(password: str, user: User | None = None, field: str = "password"):
    try:
        validate_password(password, user)
    except ValidationError as exc:
        raise ServiceError("invalid", field_messages={field: list(exc.messages)}) from None


@transaction.atomic
def create_user(*, actor, username: str, password: str, display_name: str = "", email: str = "",
                role: Role, area, org=None, title: str = "") -> User:
    """Create a user together with their first position (so they are never out of everyone's
    reach)."""
    require(actor, User, "add")
    require(actor, Position, "add")
    username = (username or "").strip()
    if not username:
        raise field_error("username", _("Choose a user name."))
    if User.objects.filter(username=username).exists():
        raise field_error("username", _("The user name %(name)s is taken.") % {"name": username})
    position_data = _clean_position(actor, role=role, area=area, org=org, title=title)
    user = User(username=username, display_name=(display_name or "").strip(),
                email=(email or "").strip())
    _validate_new_password(password, user)
    user.set_password(password)
    user.password_changed_at = timezone.now()
    try:
        with transaction.atomic():
            user.save()
    except IntegrityError:
        raise field_error("username", _("The user name %(name)s is taken.")
                          % {"name": username}) from None
    position = Position.objects.create(user=user, created_by=actor, **position_data)
    audit.record(actor=actor, action="user.create", target=user, area_code=position.area_code,
                 changes={"username": username, "position": str(position)})
    return user


@transaction.atomic
def update_user(*, actor, user: User, display_name: str | None = None,
                email: str | None = None) -> User:
    require(actor, User, "change")
    require_user_manageable(actor, user)
    before = audit.snapshot(user, ["display_name", "email"])
    if display_name is not None:
        user.display_name = display_name.strip()
    if email is not None:
        user.email = email.strip()
    changes = audit.diff(user, before, ["display_name", "email"])
    if changes:
        user.save(update_fields=list(changes))
        audit.record(actor=actor, action="user.update", target=user, changes=changes)
    return user


@transaction.atomic
def set_user_active(*, actor, user: User, active: bool) -> User:
    require(actor, User, "change")
    require_user_manageable(actor, user)
    if user.pk == actor.pk and not active:
        raise ServiceError("invalid", _("You cannot deactivate your own account."))
    if user.is_active != active:
        user.is_active = active
        if active:
            user.failed_logins, user.locked_until = 0, None
        user.save(update_fields=["is_active", "failed_logins", "locked_until"])
        audit.record(actor=actor, action="user.activate" if active else "user.deactivate",
                     target=user)
    return user


@transaction.atomic
def reset_password(*, actor, user: User, password: str) -> User:
    """An administrator sets a new password (and lifts a lockout)."""
    require(actor, User, "change")
    require_user_manageable(actor, user)
    _validate_new_password(password, user)
    user.set_password(password)
    user.password_changed_at = timezone.now()
    user.failed_logins, user.locked_until = 0, None
    user.save(update_fields=["password", "password_changed_at", "failed_logins", "locked_until"])
    audit.record(actor=actor, action="user.reset_password", target=user)
    return user


@transaction.atomic
def change_own_password(*, user: User, old_password: str, new_password: str) -> User:
    if not user.check_password(old_password):
        raise field_error("old_password", _("The current password is wrong."))
    _validate_new_password(new_password, user, field="new_password")
    user.set_password(new_password)
    user.password_changed_at = timezone.now()
    user.save(update_fields=["password", "password_changed_at"])
    audit.record(actor=user, action="user.change_password", target=user)
    return user


@transaction.atomic
def grant_position(*, actor, user: User, role: Role, area, org=None, title: str = "") -> Position:
    require(actor, Position, "add")
    data = _clean_position(actor, role=role, area=area, org=org, title=title)
    if Position.objects.active().filter(user=user, role=role, area=area, org=org).exists():
        raise field_error("role", _("%(user)s already holds this position.") % {"user": user})
    position = Position.objects.create(user=user, created_by=actor, **data)
    forget_scope(user)
    audit.record(actor=actor, action="position.grant", target=position,
                 changes={"user": user.username, "role": role.code, "area": area.code,
                          "org": org.pk if org else None})
    return position


@transaction.atomic
def end_position(*, actor, position: Position) -> Position:
    require(actor, Position, "change")
    require_code_in_scope(actor, position.area_code)
    if not position.is_active:
        return position
    if position.user_id == actor.pk and not get_scope(actor).unrestricted:
        raise ServiceError("invalid", _("You cannot end your own position."))
    position.is_active = False
    position.ended_at = timezone.now()
    position.save(update_fields=["is_active", "ended_at"])
    audit.record(actor=actor, action="position.end", target=position,
                 changes={"user": position.user.username, "role": position.role.code})
    return position


# --- API keys --------------------------------------------------------------------------------

def _hash_key(raw: str) -> str:
    # Keys carry 190+ bits of randomness, so a plain SHA-256 is enough (no slow KDF needed).
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


@transaction.atomic
def create_api_key(*, actor, org, name: str, role: Role | None = None) -> tuple[ApiKey, str]:
    """Create a key for `org`; returns the key and its plaintext, which is never stored."""
    require(actor, ApiKey, "add")
    name = (name or "").strip()
    if not name:
        raise field_error("name", _("Name the key after the system that will use it."))
    if org is None:
        raise field_error("org", _("Choose the organisation the key belongs to."))
    require_code_in_scope(actor, org.area_code, field_name="org")
    role = role or Role.objects.get(code="api_client")
    _require_role_grantable(actor, role)
    prefix = secrets.token_hex(5)
    raw = f"{API_KEY_PREFIX}_{prefix}_{secrets.token_urlsafe(32)}"
    service_user = User.objects.create(username=f"apikey-{prefix}", is_service=True,
                                       display_name=name[:60])
    service_user.set_unusable_password()
    service_user.save(update_fields=["password"])
    Position.objects.create(user=service_user, role=role, area=org.area, area_code=org.area_code,
                            org=org, created_by=actor, title=_("API key"))
    key = ApiKey.objects.create(name=name, org=org, area_code=org.area_code, role=role,
                                service_user=service_user, prefix=prefix,
                                key_hash=_hash_key(raw), created_by=actor)
    audit.record(actor=actor, action="apikey.create", target=key,
                 changes={"org": org.pk, "role": role.code})
    return key, raw


@transaction.atomic
def revoke_api_key(*, actor, key: ApiKey) -> ApiKey:
    require(actor, ApiKey, "change")
    require_code_in_scope(actor, key.area_code)
    key = ApiKey.objects.select_for_update().get(pk=key.pk)
    if key.revoked_at is None:
        key.revoked_at = timezone.now()
        key.save(update_fields=["revoked_at"])
        User.objects.filter(pk=key.service_user_id).update(is_active=False)
        audit.record(actor=actor, action="apikey.revoke", target=key)
        _key_principal.clear()  # harmless if this transaction rolls back
    return key


USE_AUDIT_INTERVAL = timedelta(hours=1)


class ApiKeyRefused(Exception):
    def __init__(self, message: str):
        self.message = message
        super().__init__(message)


KEY_CACHE_SECONDS = 30


@ttl_cache(KEY_CACHE_SECONDS)
def _key_principal(prefix: str) -> ApiKey | None:
    """The key with its service user, whose position and scope are resolved once.

    Feeds send thousands of requests a minute with the same key, and resolving the key, the
    service user, its position, organisation subtree and role permissions costs more than the
    report they carry. The cache lives in the process for KEY_CACHE_SECONDS: a revocation takes
    effect at once in the process that revoked it and within that time in the others (the
    revoke service also deactivates the service user). The user object is shared by the
    requests of this key and must not be changed by them."""
    key = ApiKey.objects.select_related("service_user").filter(prefix=prefix).first()
    if key is not None:
        get_scope(key.service_user)  # resolves and keeps the position and scope on the user
    return key


def authenticate_api_key(raw: str | None) -> User:
    """The service user behind a presented key; `ApiKeyRefused` says why not. Use is audited
    once an hour per key (not per request: feeds send thousands), refusals every time."""
    parts = (raw or "").strip().split("_", 2)  # the secret part may itself contain "_"
    if len(parts) != 3 or parts[0] != API_KEY_PREFIX:
        audit.record(actor=None, action="apikey.rejected", changes={"reason": "malformed"})
        raise ApiKeyRefused(_("The API key is malformed."))
    key = _key_principal(parts[1])
    if key is None or not hmac.compare_digest(key.key_hash, _hash_key(raw.strip())):
        audit.record(actor=None, action="apikey.rejected",
                     changes={"reason": "unknown", "prefix": parts[1][:16]})
        raise ApiKeyRefused(_("The API key is not valid."))
    if key.revoked_at is not None or not key.service_user.is_active:
        audit.record(actor=key.service_user, action="apikey.rejected", target=key,
                     changes={"reason": "revoked"})
        raise ApiKeyRefused(_("The API key has been revoked."))
    now = timezone.now()
    if key.last_used_at is None or now - key.last_used_at > USE_AUDIT_INTERVAL:
        key.last_used_at = now
        ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
        audit.record(actor=key.service_user, action="apikey.use", target=key)
    return key.service_user
