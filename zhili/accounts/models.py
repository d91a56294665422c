"""Users, roles, positions and API keys."""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser, Group, UserManager
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from zhili.accounts.querysets import ApiKeyQuerySet, PositionQuerySet, UserQuerySet
from zhili.core import codes
from zhili.core.memo import ttl_cache
from zhili.core.scoping import AREA, ORG, Scope


class ZhiliUserManager(UserManager.from_queryset(UserQuerySet)):
    pass


class User(AbstractUser):
    """A person who logs in, or the service account behind an API key (`is_service`)."""

    display_name = models.CharField(_("full name"), max_length=60, blank=True)
    is_service = models.BooleanField(_("service account"), default=False)
    failed_logins = models.PositiveSmallIntegerField(default=0)
    locked_until = models.DateTimeField(null=True, blank=True)
    password_changed_at = models.DateTimeField(null=True, blank=True)

    objects = ZhiliUserManager()

    class Meta:
        ordering = ["username"]
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self):
        return self.display_name or self.username

    def get_absolute_url(self):
        return reverse("accounts:user_detail", args=[self.pk])

    @property
    def active_position(self) -> Position | None:
        """The position the user currently acts in: the one chosen in this session, else the
        first held. Cached per request (see `zhili.core.scoping.forget_scope`)."""
        if not hasattr(self, "_active_position"):
            positions = Position.objects.active().filter(user=self).select_related(
                "role", "area", "org"
            ).order_by("id")
            chosen = getattr(self, "_chosen_position_id", None)
            position = positions.filter(pk=chosen).first() if chosen else None
            self._active_position = position or positions.first()
        return self._active_position

    @property
    def is_locked(self) -> bool:
        return bool(self.locked_until and self.locked_until > timezone.now())


class Role(models.Model):
    """A named set of permissions (a Django group) and how far its holders reach."""

    SCOPE_CHOICES = [(AREA, _("Area subtree")), (ORG, _("Own organisation"))]

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=60)
    scope_kind = models.CharField(_("reach"), max_length=8, choices=SCOPE_CHOICES, default=AREA)
    group = models.OneToOneField(Group, on_delete=models.PROTECT, related_name="role")
    grants = models.ManyToManyField("self", symmetrical=False, blank=True,
                                    related_name="granted_by",
                                    verbose_name=_("may grant the roles"))
    sort = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["sort", "code"]
        verbose_name = _("role")
        verbose_name_plural = _("roles")

    def __str__(self):
        # Seeded names are English msgids; show them in the user's language.
        from django.utils.translation import gettext

        return gettext(self.name)

    def permission_names(self) -> frozenset[str]:
        return role_permissions(self.group_id)


@ttl_cache(30)
def role_permissions(group_id: int) -> frozenset[str]:
    """A role's permissions, read once per process and half-minute (every request needs them)."""
    return frozenset(
        f"{app}.{codename}" for app, codename in Group.objects.filter(pk=group_id).values_list(
            "permissions__content_type__app_label", "permissions__codename")
        if codename
    )


class Position(models.Model):
    """(user, role, area, organisation): one hat a user wears. A user may hold several."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="positions")
    role = models.ForeignKey(Role, verbose_name=_("role"), on_delete=models.PROTECT)
    area = models.ForeignKey("areas.Area", verbose_name=_("area"), on_delete=models.PROTECT,
                             related_name="positions")
    area_code = models.CharField(max_length=codes.CODE_WIDTH, editable=False)
    org = models.ForeignKey("orgs.Organisation", verbose_name=_("organisation"), null=True,
                            blank=True, on_delete=models.PROTECT, related_name="positions")
    title = models.CharField(_("title"), max_length=60, blank=True,
                             help_text=_("e.g. 总网格长, 片区网格长, 专职网格员"))
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    ended_at = models.DateTimeField(null=True, blank=True)

    objects = PositionQuerySet.as_manager()

    class Meta:
        ordering = ["user", "id"]
        verbose_name = _("position")
        verbose_name_plural = _("positions")
        indexes = [models.Index(fields=["area_code"])]

    def __str__(self):
        parts = [str(self.role), self.area.name]
        if self.org_id:
            parts.append(self.org.name)
        return " · ".join(parts)

    def scope(self) -> Scope:
        org_ids = frozenset()
        if self.role.scope_kind == ORG and self.org_id:
            org_ids = frozenset(self.org.descendant_ids())
        return Scope(
            user_id=self.user_id,
            prefix=self.area.prefix,
            kind=self.role.scope_kind,
            org_ids=org_ids,
            perms=self.role.permission_names(),
        )


class ApiKey(models.Model):
    """A machine client's credential. It belongs to an organisation, acts through a service
    account holding one position, is shown once and stored only as a hash."""

    name = models.CharField(_("name"), max_length=100)
    org = models.ForeignKey("orgs.Organisation", verbose_name=_("organisation"),
                            on_delete=models.PROTECT, related_name="api_keys")
    area_code = models.CharField(max_length=codes.CODE_WIDTH, editable=False)
    role = models.ForeignKey(Role, verbose_name=_("role"), on_delete=models.PROTECT)
    service_user = models.OneToOneField(User, on_delete=models.PROTECT, related_name="api_key")
    prefix = models.CharField(_("key prefix"), max_length=16, unique=True)
    key_hash = models.CharField(max_length=64)
    created_by = models.ForeignKey(User, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = ApiKeyQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("API key")
        verbose_name_plural = _("API keys")
        indexes = [models.Index(fields=["area_code"])]

    def __str__(self):
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None
