"""The workflow toolkit: state machines (django-fsm-2), a transition log, deadline columns and
the per-minute sweep that warns, marks overdue and escalates.

Events use it first; disputes, rectification orders, handovers and alerts reuse it unchanged:

- a model inherits `DeadlineMixin` (deadline columns + an optimistic `version`) and declares its
  state with an `FSMField` and `@transition` methods;
- its log model inherits `TransitionLogBase`;
- services call `locked()` → `fire()` → `set_deadline()`/`clear_deadline()` → `save()` →
  `log` in one transaction;
- `sweep(Model)` runs every minute. The model answers three hooks with what each means in its
  domain: `on_deadline_warning(ids, now)`, `on_overdue(ids, now)`,
  `on_escalation(ids, step, now)`.

Concurrency: every transition locks the row (SELECT … FOR UPDATE; SQLite serialises writers)
and, when the caller says which version it saw, refuses a stale one with 409. The sweep only
flips deadline flags, skips rows a transition holds, and never bumps the version, so a user's
action is not refused merely because a deadline passed while they were typing.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.conf import settings
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_fsm import can_proceed

from zhili.core.services import Conflict
from zhili.workdays import clock

logger = logging.getLogger(__name__)


class DeadlineMixin(models.Model):
    """Deadline columns of one step at a time, and an optimistic-lock version."""

    version = models.PositiveIntegerField(default=0)
    deadline_step = models.CharField(max_length=20, blank=True)
    deadline_unit = models.CharField(max_length=12, blank=True)
    step_started_at = models.DateTimeField(null=True, blank=True)
    deadline_at = models.DateTimeField(gettext_lazy("deadline"), null=True, blank=True)
    warn_at = models.DateTimeField(null=True, blank=True)
    warned = models.BooleanField(default=False)
    overdue = models.BooleanField(gettext_lazy("overdue"), default=False)
    ever_overdue = models.BooleanField(default=False)
    escalation_level = models.PositiveSmallIntegerField(default=0)
    paused_at = models.DateTimeField(null=True, blank=True)
    paused_remaining = models.JSONField(null=True, blank=True)

    workflow_label = ""  # e.g. "events.event": names the escalation ladder

    class Meta:
        abstract = True

    # Hooks the sweep calls (inside its transaction) — override in the model's module.
    @classmethod
    def on_deadline_warning(cls, ids: list[int], now) -> None:
        pass

    @classmethod
    def on_overdue(cls, ids: list[int], now) -> None:
        pass

    @classmethod
    def on_escalation(cls, ids: list[int], step, now) -> None:
        pass

    @property
    def is_paused(self) -> bool:
        return self.paused_at is not None


class TransitionLogBase(models.Model):
    """Who moved what from which state to which, why, and how the deadline changed.

    It is both the timeline users read and the base of the statistics (times per step)."""

    action = models.CharField(gettext_lazy("action"), max_length=30)
    from_state = models.CharField(max_length=20, blank=True)
    to_state = models.CharField(max_length=20, blank=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                              on_delete=models.SET_NULL, related_name="+")
    actor_name = models.CharField(gettext_lazy("by"), max_length=150, blank=True)
    reason = models.TextField(gettext_lazy("reason / note"), blank=True)
    data = models.JSONField(default=dict, blank=True)
    deadline_before = models.DateTimeField(null=True, blank=True)
    deadline_after = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    subject_field = ""  # name of the foreign key to the object the log belongs to

    class Meta:
        abstract = True
        ordering = ["created_at", "id"]


class InvalidTransition(Conflict):
    """The action does not apply in the object's current state."""


def locked(model, pk, *, expected_version: int | None = None, queryset=None):
    """Fetch the row for update; refuse (409) if someone changed it since the caller looked."""
    base = queryset if queryset is not None else model._default_manager
    obj = base.select_for_update().get(pk=pk)
    if expected_version is not None and obj.version != expected_version:
        raise Conflict("stale", _("Someone else changed this item a moment ago; it has been "
                                  "reloaded — check it and try again."))
    return obj


def fire(obj, action: str, *args, **kwargs):
    """Run the FSM transition named `action`, or refuse with a message naming the state."""
    method = getattr(obj, action, None)
    if method is None or not hasattr(method, "_django_fsm"):
        raise InvalidTransition("invalid_transition", _("Unknown action."))
    if not can_proceed(method):
        raise InvalidTransition(
            "invalid_transition",
            _("This cannot be done while the item is “%(state)s”.")
            % {"state": obj.get_state_display()},
        )
    return method(*args, **kwargs)


def set_deadline(obj: DeadlineMixin, *, step: str, start: dt.datetime, amount: float,
                 unit: str, warn_fraction: float = 0.8) -> None:
    """Start the clock of `step`: deadline by the working-day calendar; a warning at 80 %."""
    obj.deadline_step = step
    obj.deadline_unit = unit
    obj.step_started_at = start
    obj.deadline_at = clock.deadline(start, amount, unit)
    obj.warn_at = start + (obj.deadline_at - start) * warn_fraction
    obj.warned = False
    obj.overdue = False
    obj.escalation_level = 0
    obj.paused_at = None
    obj.paused_remaining = None


def extend_deadline(obj: DeadlineMixin, *, amount: float, unit: str) -> None:
    """Move the current deadline later (an approved extension); clears the overdue flags."""
    base = max(obj.deadline_at or timezone.now(), timezone.now())
    obj.deadline_at = clock.deadline(base, amount, unit)
    obj.warn_at = obj.deadline_at - (obj.deadline_at - base) * 0.2
    obj.warned = False
    obj.overdue = False
    obj.escalation_level = 0


def clear_deadline(obj: DeadlineMixin) -> None:
    obj.deadline_step = ""
    obj.deadline_unit = ""
    obj.step_started_at = None
    obj.deadline_at = None
    obj.warn_at = None
    obj.warned = False
    obj.overdue = False
    obj.escalation_level = 0
    obj.paused_at = None
    obj.paused_remaining = None


def pause(obj: DeadlineMixin, now: dt.datetime) -> None:
    """Stop the clock (waiting for the citizen): remember what was left."""
    if obj.deadline_at is None or obj.paused_at is not None:
        return
    left = clock.remaining(now, obj.deadline_at, obj.deadline_unit)
    obj.paused_remaining = {"kind": left.kind, "seconds": left.seconds}
    obj.paused_at = now
    obj.deadline_at = None
    obj.warn_at = None


def resume(obj: DeadlineMixin, now: dt.datetime) -> None:
    """Restart the clock with the time that was left when it stopped."""
    if obj.paused_at is None:
        return
    left = obj.paused_remaining or {"kind": "calendar", "seconds": 0}
    obj.deadline_at = clock.resume(now, clock.Remaining(kind=left["kind"],
                                                        seconds=left["seconds"]))
    obj.warn_at = now + (obj.deadline_at - now) * 0.8
    obj.paused_at = None
    obj.paused_remaining = None


def log(obj, log_model, *, action: str, from_state: str, actor, reason: str = "",
        deadline_before=None, data: dict | None = None, **fields):
    return log_model.objects.create(
        **{log_model.subject_field: obj},
        action=action, from_state=from_state, to_state=obj.state, actor=actor,
        actor_name=getattr(actor, "username", "") if actor else "", reason=reason or "",
        data=data or {}, deadline_before=deadline_before, deadline_after=obj.deadline_at,
        **fields,
    )


def _claim(model, condition: models.Q, updates: dict, batch: int) -> list[int]:
    """Flip flags on up to `batch` rows still matching `condition`; returns their ids.

    Rows held by a running transition are skipped (PostgreSQL SKIP LOCKED) and caught next
    minute; SQLite has one writer at a time, so nothing is held there."""
    qs = model._default_manager.filter(condition).order_by("pk")
    if qs.db and transaction.get_connection(qs.db).features.has_select_for_update_skip_locked:
        qs = qs.select_for_update(skip_locked=True)
    ids = list(qs.values_list("pk", flat=True)[:batch])
    if ids:
        if any(f.name == "updated_at" for f in model._meta.concrete_fields):
            updates = {**updates, "updated_at": timezone.now()}  # what changed, for rollups
        model._default_manager.filter(condition, pk__in=ids).update(**updates)
    return ids


def sweep(model, now: dt.datetime | None = None, *, batch: int = 5000) -> dict[str, int]:
    """One pass over the open items of `model`: warnings, overdue marks, escalation rungs."""
    from zhili.core.models import EscalationStep

    now = now or timezone.now()
    counts = {"warned": 0, "overdue": 0, "escalated": 0}
    running = models.Q(deadline_at__isnull=False)
    while True:
        with transaction.atomic():
            ids = _claim(model, running & models.Q(warned=False, warn_at__lte=now,
                                                   deadline_at__gt=now),
                         {"warned": True}, batch)
            if ids:
                model.on_deadline_warning(ids, now)
        counts["warned"] += len(ids)
        if len(ids) < batch:
            break
    while True:
        with transaction.atomic():
            ids = _claim(model, running & models.Q(overdue=False, deadline_at__lte=now),
                         {"overdue": True, "ever_overdue": True, "warned": True}, batch)
            if ids:
                model.on_overdue(ids, now)
        counts["overdue"] += len(ids)
        if len(ids) < batch:
            break
    for step in EscalationStep.objects.filter(workflow=model.workflow_label).order_by("level"):
        cutoff = now - dt.timedelta(minutes=step.after_minutes)
        while True:
            with transaction.atomic():
                ids = _claim(model, running & models.Q(overdue=True,
                                                       escalation_level=step.level - 1,
                                                       deadline_at__lte=cutoff),
                             {"escalation_level": step.level}, batch)
                if ids:
                    model.on_escalation(ids, step, now)
            counts["escalated"] += len(ids)
            if len(ids) < batch:
                break
    return counts
