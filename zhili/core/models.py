"""Platform-wide models: the audit trail, background jobs and scheduler slots."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from zhili.core.scoping import ScopedQuerySet


class AuditLogQuerySet(ScopedQuerySet):
    scope_area_field = "area_code"
    # The audit trail records history as it happened: it is never rewritten.
    rezone = False


class AuditLog(models.Model):
    """One append-only, hash-chained row per security-relevant action (安全审计).

    Written only by `zhili.core.audit.record()`, from services, never from signals. Each row's
    `hash` covers its content and the previous row's hash, so deleting or editing a row breaks
    the chain and `zhili audit verify` finds it. The database also refuses UPDATE and DELETE.
    """

    seq = models.BigIntegerField(unique=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+", db_constraint=False,
    )
    actor_name = models.CharField(_("actor"), max_length=150, blank=True)
    role = models.CharField(_("role"), max_length=64, blank=True)
    ip = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    request_id = models.CharField(max_length=64, blank=True)
    channel = models.CharField(max_length=16, blank=True)
    action = models.CharField(_("action"), max_length=64, db_index=True)
    target_type = models.CharField(_("target type"), max_length=64, blank=True)
    target_id = models.CharField(max_length=64, blank=True)
    target_repr = models.CharField(_("target"), max_length=255, blank=True)
    area_code = models.CharField(max_length=15, blank=True)
    changes = models.JSONField(_("details"), default=dict, blank=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)

    objects = AuditLogQuerySet.as_manager()

    class Meta:
        ordering = ["-seq"]
        verbose_name = _("audit record")
        verbose_name_plural = _("audit log")
        indexes = [models.Index(fields=["area_code", "created_at"])]

    def __str__(self):
        return f"#{self.seq} {self.action} {self.target_repr}"


class AuditChainHead(models.Model):
    """A single row holding the chain's tip; locking it serialises appends to the chain."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    seq = models.BigIntegerField(default=0)
    hash = models.CharField(max_length=64, default="0" * 64)

    def __str__(self):
        return f"audit chain tip #{self.seq}"


class JobStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    SUCCEEDED = "succeeded", _("Succeeded")
    FAILED = "failed", _("Failed")


class JobQuerySet(ScopedQuerySet):
    scope_area_field = None

    def in_scope(self, user):
        # A job (an import, an export) is its creator's own work, even for a superuser: its
        # output may hold personal data exported under the creator's purpose.
        user_id = getattr(user, "pk", None)
        return self.filter(created_by_id=user_id) if user_id else self.none()


class Job(models.Model):
    """A user-visible background job (import, export, re-zoning) with progress and a result."""

    kind = models.CharField(_("kind"), max_length=64)
    title = models.CharField(_("title"), max_length=200)
    status = models.CharField(
        _("status"), max_length=16, choices=JobStatus.choices, default=JobStatus.QUEUED
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="jobs"
    )
    area_code = models.CharField(max_length=15, blank=True)
    params = models.JSONField(default=dict, blank=True)
    progress_done = models.PositiveIntegerField(default=0)
    progress_total = models.PositiveIntegerField(default=0)
    result = models.JSONField(default=dict, blank=True)
    message = models.TextField(blank=True)
    input_file = models.FileField(upload_to="jobs/in/%Y/%m", blank=True)
    output_file = models.FileField(upload_to="jobs/out/%Y/%m", blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    objects = JobQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("background job")
        verbose_name_plural = _("background jobs")

    def __str__(self):
        return self.title

    @property
    def percent(self) -> int:
        if self.status == JobStatus.SUCCEEDED:
            return 100
        if not self.progress_total:
            return 0
        return min(100, int(100 * self.progress_done / self.progress_total))

    @property
    def finished(self) -> bool:
        return self.status in (JobStatus.SUCCEEDED, JobStatus.FAILED)


class ScheduledRun(models.Model):
    """One row per (cron job, time slot): the unique key makes each slot run exactly once,
    however many schedulers are running."""

    job = models.CharField(max_length=100)
    slot = models.DateTimeField()
    enqueued_at = models.DateTimeField(default=timezone.now)
    task_result_id = models.CharField(max_length=64, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["job", "slot"], name="uniq_job_slot")]

    def __str__(self):
        return f"{self.job} @ {self.slot:%Y-%m-%d %H:%M}"


class NotificationQuerySet(ScopedQuerySet):
    scope_area_field = None
    rezone = False

    def in_scope(self, user):
        # A notification is its recipient's alone.
        user_id = getattr(user, "pk", None)
        return self.filter(user_id=user_id) if user_id else self.none()

    def unread(self):
        """Not yet opened."""
        return self.filter(read_at__isnull=True)


class Notification(models.Model):
    """An in-app message: an assignment, a warning before a deadline, an escalation …"""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="notifications")
    kind = models.CharField(_("kind"), max_length=40)
    title = models.CharField(pgettext_lazy("notification", "title"), max_length=200)
    body = models.TextField(_("message"), blank=True)
    url = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)

    objects = NotificationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        indexes = [models.Index(fields=["user", "read_at", "created_at"])]

    def __str__(self):
        return self.title


class EscalationStep(models.Model):
    """One rung of an escalation ladder for a kind of workflow object (editable by admins).

    Once an item is overdue, each step fires when `after_minutes` have passed since its deadline:
    e.g. 0 → tell the handler's supervisor, 240 → the upper level issues a supervision order.
    """

    class Action(models.TextChoices):
        NOTIFY_HOLDER = "notify_holder", _("Remind the holder again")
        NOTIFY_SUPERVISOR = "notify_supervisor", _("Tell the holder's supervisor")
        SUPERVISE = "supervise", _("Upper level issues a supervision order (督办)")

    workflow = models.CharField(_("workflow"), max_length=60)  # model label, e.g. events.event
    level = models.PositiveSmallIntegerField(_("level"))
    after_minutes = models.PositiveIntegerField(_("minutes after the deadline"))
    action = models.CharField(_("action"), max_length=20, choices=Action.choices)

    class Meta:
        ordering = ["workflow", "level"]
        verbose_name = _("escalation step")
        verbose_name_plural = _("escalation ladder")
        constraints = [models.UniqueConstraint(fields=["workflow", "level"],
                                               name="uniq_escalation_level")]

    def __str__(self):
        return f"{self.workflow} #{self.level}: {self.get_action_display()}"


class UnmaskPurpose(models.TextChoices):
    VERIFICATION = "verification", _("Verification")
    VISIT = "visit", _("Home visit")
    CASE = "case", _("Case handling")
    OTHER = "other", _("Other")


class UnmaskGrant(models.Model):
    """One user's permission to see some personal-data fields of one record in clear, for a
    stated purpose, until `expires_at` (DESIGN §3.5). Written only by
    `zhili.core.unmask.grant_unmask`, which also writes the audit row; never holds a value.

    `covers` lists every (record, field) the grant shows, as "app.model:pk:field": the
    requested fields of the record itself, and for a path through a relation
    ("person.id_number" on a special-population record) the field of the related record too,
    so the value is unmasked whichever page shows it.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="+")
    content_type = models.ForeignKey("contenttypes.ContentType", on_delete=models.PROTECT,
                                     related_name="+")
    object_id = models.CharField(max_length=64)
    fields = models.JSONField(_("fields"), default=list)
    covers = models.JSONField(default=list, editable=False)
    purpose_category = models.CharField(_("purpose category"), max_length=16,
                                        choices=UnmaskPurpose.choices)
    purpose = models.TextField(_("purpose"))
    granted_at = models.DateTimeField(_("granted at"), default=timezone.now)
    expires_at = models.DateTimeField(_("expires at"))
    area_code = models.CharField(max_length=15, blank=True)
    request_id = models.CharField(max_length=64, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    channel = models.CharField(max_length=16, blank=True)

    class Meta:
        ordering = ["-granted_at", "-id"]
        verbose_name = _("unmask grant")
        verbose_name_plural = _("unmask grants")
        default_permissions = ("view",)
        # Every page view reads the user's unexpired grants: one short range scan.
        indexes = [models.Index(fields=["user", "expires_at"], name="core_unmask_user_exp")]

    def __str__(self):
        return f"{self.content_type_id}:{self.object_id} {','.join(self.fields)}"
