"""Grid events (网格事件): the closed loop from report to evaluation."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from django_fsm import FSMField, transition

from zhili.core.codes import CODE_WIDTH
from zhili.core.pii import EncryptedTextField
from zhili.core.scoping import ScopedQuerySet
from zhili.core.workflow import DeadlineMixin, TransitionLogBase
from zhili.events.choices import (
    AssignmentRole,
    Channel,
    EventState,
    ExtensionState,
    PhotoStage,
    Satisfaction,
    Step,
    SupervisionState,
    Urgency,
)
from zhili.events.querysets import EventQuerySet, RoutingRuleQuerySet, SupervisionQuerySet
from zhili.workdays.clock import Unit

S = EventState


class CategoryQuerySet(ScopedQuerySet):
    """The category list is shared by the whole city: everyone signed in may read it."""

    scope_area_field = None
    rezone = False

    def in_scope(self, user):
        return self.all() if getattr(user, "is_authenticated", False) else self.none()

    def active(self):
        """Categories offered for new reports."""
        return self.filter(is_active=True)


class EventCategory(models.Model):
    """What an event is about (two levels), with its time limits, duplicate window, the
    level that dispatches it first, and keywords for suggesting it from text."""

    code = models.SlugField(_("code"), max_length=40, unique=True,
                            help_text=_("Also the Open311 service_code."))
    name = models.CharField(_("name"), max_length=60)
    parent = models.ForeignKey("self", verbose_name=_("group"), null=True, blank=True,
                               on_delete=models.PROTECT, related_name="children")
    description = models.CharField(_("description"), max_length=300, blank=True)
    keywords = models.TextField(_("keywords"), blank=True,
                                help_text=_("Words that suggest this category, separated by "
                                            "spaces or commas."))
    default_urgency = models.CharField(_("default urgency"), max_length=10,
                                       choices=Urgency.choices, default=Urgency.NORMAL)
    handling_level = models.PositiveSmallIntegerField(
        _("dispatched first by"), default=3,
        help_text=_("Area level whose governance centre dispatches it first (3 = town)."))
    is_public = models.BooleanField(_("open to public reports"), default=True)
    is_active = models.BooleanField(_("active"), default=True)
    dup_radius_m = models.PositiveIntegerField(_("duplicate radius (m)"), default=100)
    dup_hours = models.PositiveIntegerField(_("duplicate window (hours)"), default=72)
    sort = models.PositiveSmallIntegerField(default=0)

    objects = CategoryQuerySet.as_manager()

    class Meta:
        ordering = ["sort", "code"]
        verbose_name = _("event category")
        verbose_name_plural = _("event categories")

    def __str__(self):
        return self.name

    def keyword_list(self) -> list[str]:
        return [w for w in self.keywords.replace("，", ",").replace(",", " ").split() if w]


class SLARule(models.Model):
    """A time limit: for a step, optionally only for a category and/or an urgency.

    The most specific rule wins (category + urgency, then category, then urgency, then the
    default row with neither)."""

    category = models.ForeignKey(EventCategory, verbose_name=_("category"), null=True,
                                 blank=True, on_delete=models.CASCADE, related_name="sla_rules")
    urgency = models.CharField(_("urgency"), max_length=10, choices=Urgency.choices, blank=True)
    step = models.CharField(_("step"), max_length=20, choices=Step.choices)
    amount = models.DecimalField(_("time limit"), max_digits=7, decimal_places=2)
    unit = models.CharField(_("unit"), max_length=12, choices=Unit.choices)

    objects = CategoryQuerySet.as_manager()

    class Meta:
        ordering = ["step", "category", "urgency"]
        verbose_name = _("time limit")
        verbose_name_plural = _("time limits")
        # One rule per (category, urgency, step) is kept by the service: SQLite cannot
        # enforce uniqueness where the category is NULL (the default rows).
        indexes = [models.Index(fields=["step", "category", "urgency"])]

    def __str__(self):
        return f"{self.get_step_display()}: {self.amount} {self.get_unit_display()}"


class RoutingRule(models.Model):
    """Area × category → the responsible organisation (lead, assisting) and dispatching level.

    The rule of the deepest area containing the event wins, a category rule over a catch-all."""

    area = models.ForeignKey("areas.Area", verbose_name=_("area"), on_delete=models.PROTECT)
    area_code = models.CharField(max_length=CODE_WIDTH, editable=False)
    category = models.ForeignKey(EventCategory, verbose_name=_("category"), null=True,
                                 blank=True, on_delete=models.CASCADE,
                                 help_text=_("Empty: every category without its own rule."))
    lead_org = models.ForeignKey("orgs.Organisation", verbose_name=_("lead organisation"),
                                 on_delete=models.PROTECT, related_name="+")
    assist_orgs = models.ManyToManyField("orgs.Organisation", blank=True, related_name="+",
                                         verbose_name=_("assisting organisations"))
    note = models.CharField(_("note"), max_length=200, blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    objects = RoutingRuleQuerySet.as_manager()

    class Meta:
        ordering = ["area_code", "category"]
        verbose_name = _("routing rule")
        verbose_name_plural = _("routing rules")
        indexes = [models.Index(fields=["area_code"])]

    def __str__(self):
        return f"{self.area} · {self.category or _('any category')} → {self.lead_org}"


class Event(DeadlineMixin, models.Model):
    """One reported problem and everything that happened to it."""

    number = models.CharField(_("number"), max_length=24, unique=True, null=True, blank=True)
    title = models.CharField(pgettext_lazy("event", "title"), max_length=120)
    description = models.TextField(_("description"), blank=True)
    category = models.ForeignKey(EventCategory, verbose_name=_("category"),
                                 on_delete=models.PROTECT, related_name="events")
    suggested_category = models.ForeignKey(EventCategory, null=True, blank=True,
                                           on_delete=models.SET_NULL, related_name="+")
    category_confirmed = models.BooleanField(default=False)
    urgency = models.CharField(_("urgency"), max_length=10, choices=Urgency.choices,
                               default=Urgency.NORMAL)
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    state = FSMField(_("state"), max_length=20, choices=EventState.choices, default=S.REPORTED,
                     protected=False)
    area = models.ForeignKey("areas.Area", verbose_name=_("area"), on_delete=models.PROTECT,
                             related_name="events")
    area_code = models.CharField(max_length=CODE_WIDTH, editable=False)
    lat = models.DecimalField(_("latitude"), max_digits=9, decimal_places=6, null=True,
                              blank=True)
    lng = models.DecimalField(_("longitude"), max_digits=9, decimal_places=6, null=True,
                              blank=True)
    address = models.CharField(_("address"), max_length=200, blank=True)
    owner_level = models.PositiveSmallIntegerField(_("dispatching level"), default=3)
    reporter = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("reporter"),
                                 null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="reported_events")
    reporter_name = models.CharField(_("reporter name"), max_length=60, blank=True)
    reporter_contact = EncryptedTextField(kind="contact", blank=True, null=True)
    solved_on_spot = models.BooleanField(_("solved on the spot"), default=False)
    lead_org = models.ForeignKey("orgs.Organisation", verbose_name=_("lead organisation"),
                                 null=True, blank=True, on_delete=models.PROTECT,
                                 related_name="led_events")
    duplicate_of = models.ForeignKey("self", verbose_name=_("duplicate of"), null=True,
                                     blank=True, on_delete=models.PROTECT,
                                     related_name="duplicates")
    client_uuid = models.UUIDField(null=True, blank=True, unique=True)
    external_id = models.CharField(_("external ticket number"), max_length=64, blank=True)
    public_token = models.CharField(max_length=40, unique=True, null=True, blank=True)
    reported_at = models.DateTimeField(_("reported at"), default=timezone.now)
    accepted_at = models.DateTimeField(null=True, blank=True)
    dispatched_at = models.DateTimeField(null=True, blank=True)
    signed_at = models.DateTimeField(null=True, blank=True)
    handled_at = models.DateTimeField(null=True, blank=True)
    verified_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    evaluated_at = models.DateTimeField(null=True, blank=True)
    satisfaction = models.CharField(_("satisfaction"), max_length=12,
                                    choices=Satisfaction.choices, blank=True)
    evaluation_note = models.CharField(_("evaluation note"), max_length=500, blank=True)
    return_count = models.PositiveSmallIntegerField(default=0)
    rework_count = models.PositiveSmallIntegerField(default=0)
    reopen_count = models.PositiveSmallIntegerField(default=0)
    extension_count = models.PositiveSmallIntegerField(default=0)
    # Seconds spent in each step, accumulated as the event leaves it (statistics).
    step_seconds = models.JSONField(default=dict, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    workflow_label = "events.event"
    objects = EventQuerySet.as_manager()

    class Meta:
        ordering = ["-reported_at", "-id"]
        verbose_name = _("event")
        verbose_name_plural = _("events")
        permissions = [
            ("dispatch_event", _("Can accept, dispatch, arbitrate and close events")),
            ("handle_event", _("Can sign for, handle and return events")),
            ("verify_event", _("Can verify events on site")),
            ("evaluate_event", _("Can record the reporter's evaluation")),
            ("supervise_event", _("Can issue and answer supervision orders")),
            ("export_event", _("Can export events")),
        ]
        indexes = [
            models.Index(fields=["area_code", "reported_at"]),
            models.Index(fields=["state", "area_code"]),
            models.Index(fields=["lead_org", "state"]),
            models.Index(fields=["deadline_at"], name="event_open_deadline",
                         condition=models.Q(deadline_at__isnull=False)),
            # With the area code last, the scope's subtree range of a category-and-period list
            # (and of the duplicate search) is checked in the index, not on the table rows.
            models.Index(fields=["category", "reported_at", "area_code"]),
            # Newest first (Meta.ordering), walked backwards: the first page of an "all" list
            # without sorting everything in reach, and one month as a range for the statistics
            # rollup (stats.rebuild_month), which otherwise scans the table.
            models.Index(fields=["reported_at", "id"], name="event_reported_at_id"),
            # "Overdue only" (inbox, API), alone or with a category: the few overdue rows of a
            # subtree as one small range; otherwise the planner ANDs whole-subtree and
            # whole-category bitmaps.
            models.Index(fields=["area_code", "category"], name="event_overdue_area",
                         condition=models.Q(overdue=True)),
            # What changed since the last statistics rollup (stats.rebuild_dirty).
            models.Index(fields=["updated_at"], name="event_updated_at"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["channel", "external_id"],
                                    condition=~models.Q(external_id=""),
                                    name="uniq_event_external_id"),
        ]

    def __str__(self):
        return f"{self.number or '—'} {self.title}"

    def get_absolute_url(self):
        return reverse("events:detail", args=[self.pk])

    # -- transitions (business rules live in services; these only move the state) -------------
    @transition(field=state, source=S.REPORTED, target=S.ACCEPTED)
    def accept(self):
        pass

    @transition(field=state, source=S.REPORTED, target=S.REJECTED)
    def reject(self):
        pass

    @transition(field=state, source=[S.REPORTED, S.ACCEPTED], target=S.MERGED)
    def merge(self):
        pass

    @transition(field=state, source=S.REPORTED, target=S.CLOSED)
    def solve_on_spot(self):
        pass

    @transition(field=state, source=[S.ACCEPTED, S.RETURNED], target=S.ACCEPTED)
    def escalate(self):
        pass

    @transition(field=state, source=[S.ACCEPTED, S.RETURNED], target=S.DISPATCHED)
    def dispatch(self):
        pass

    @transition(field=state, source=S.DISPATCHED, target=S.HANDLING)
    def sign(self):
        pass

    @transition(field=state, source=[S.DISPATCHED, S.HANDLING], target=S.RETURNED)
    def send_back(self):
        pass

    @transition(field=state, source=S.HANDLING, target=S.HANDLING)
    def progress(self):
        pass

    @transition(field=state, source=S.HANDLING, target=S.WAITING)
    def wait_for_citizen(self):
        pass

    @transition(field=state, source=S.WAITING, target=S.HANDLING)
    def resume_work(self):
        pass

    @transition(field=state, source=S.HANDLING, target=S.HANDLED)
    def finish(self):
        pass

    @transition(field=state, source=S.HANDLED, target=S.VERIFIED)
    def verify_ok(self):
        pass

    @transition(field=state, source=S.HANDLED, target=S.HANDLING)
    def verify_fail(self):
        pass

    @transition(field=state, source=S.VERIFIED, target=S.CLOSED)
    def close(self):
        pass

    @transition(field=state, source=S.CLOSED, target=S.CLOSED)
    def evaluate(self):
        pass

    @transition(field=state, source=S.CLOSED, target=S.HANDLING)
    def reopen(self):
        pass

    @property
    def is_open(self) -> bool:
        return self.state not in (S.CLOSED, S.REJECTED, S.MERGED)

    @property
    def on_time(self) -> bool:
        return not self.ever_overdue

    # -- sweep hooks ----------------------------------------------------------------------------
    @classmethod
    def on_deadline_warning(cls, ids, now):
        from zhili.events.deadlines import warn

        warn(ids)

    @classmethod
    def on_overdue(cls, ids, now):
        from zhili.events.deadlines import mark_overdue

        mark_overdue(ids)

    @classmethod
    def on_escalation(cls, ids, step, now):
        from zhili.events.deadlines import escalate

        escalate(ids, step, now)


class EventTransition(TransitionLogBase):
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="transitions")
    subject_field = "event"
    org = models.ForeignKey("orgs.Organisation", null=True, blank=True,
                            on_delete=models.SET_NULL, related_name="+")

    class Meta(TransitionLogBase.Meta):
        verbose_name = _("event transition")
        verbose_name_plural = _("event transitions")
        indexes = [models.Index(fields=["event", "created_at"]),
                   models.Index(fields=["actor", "created_at"])]

    def __str__(self):
        return f"{self.event_id}: {self.action}"


class EventAssignment(models.Model):
    """An organisation working on an event: the lead (主办) or an assisting one (协办)."""

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="assignments")
    org = models.ForeignKey("orgs.Organisation", verbose_name=_("organisation"),
                            on_delete=models.PROTECT, related_name="event_assignments")
    role = models.CharField(_("role"), max_length=8, choices=AssignmentRole.choices)
    assigned_at = models.DateTimeField(default=timezone.now)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["role", "id"]
        indexes = [models.Index(fields=["org", "is_active"])]

    def __str__(self):
        return f"{self.event_id} {self.role} {self.org_id}"


def photo_path(instance, filename):
    return f"events/{timezone.now():%Y/%m}/{uuid.uuid4().hex}.{instance.extension}"


class PhotoQuerySet(ScopedQuerySet):
    """A photo is visible to whoever may see its event."""

    scope_area_field = None
    rezone = False

    def scope_q(self, scope):
        inner = EventQuerySet(model=Event).scope_q(scope)
        if inner is None:
            return None
        return models.Q(event__in=Event.objects.filter(inner).values("pk"))


class EventPhoto(models.Model):
    """A photo, stored without its metadata; where it was taken is kept here instead."""

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="photos")
    stage = models.CharField(_("stage"), max_length=10, choices=PhotoStage.choices)
    file = models.FileField(upload_to=photo_path)
    extension = models.CharField(max_length=5)
    content_type = models.CharField(max_length=20)
    size = models.PositiveIntegerField()
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    gps_lat = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    gps_lng = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    taken_at = models.DateTimeField(null=True, blank=True)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    objects = PhotoQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self):
        return f"photo {self.pk} of event {self.event_id}"

    def get_absolute_url(self):
        return reverse("events:photo", args=[self.pk])


class EventPerson(models.Model):
    """Someone involved (a party, a witness): name and contact, the contact encrypted."""

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="people")
    name = models.CharField(_("name"), max_length=60)
    contact = EncryptedTextField(kind="contact", blank=True, null=True)
    note = models.CharField(_("note"), max_length=200, blank=True)

    def __str__(self):
        return self.name


class ExtensionRequest(models.Model):
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="extensions")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True,
                                     on_delete=models.SET_NULL, related_name="+")
    amount = models.DecimalField(_("extra time"), max_digits=7, decimal_places=2)
    unit = models.CharField(_("unit"), max_length=12, choices=Unit.choices)
    reason = models.CharField(_("reason"), max_length=500)
    state = models.CharField(max_length=10, choices=ExtensionState.choices,
                             default=ExtensionState.PENDING)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"extension {self.pk} of {self.event_id}"


class SupervisionOrder(DeadlineMixin, models.Model):
    """督办单: an upper level's written order to the holder of an overdue event, which must be
    answered in its own time limit (and escalates again when it is not)."""

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="supervisions")
    area_code = models.CharField(max_length=CODE_WIDTH, editable=False)
    level = models.PositiveSmallIntegerField(_("escalation level"))
    issuer_area = models.ForeignKey("areas.Area", verbose_name=_("issued by (level)"),
                                    on_delete=models.PROTECT, related_name="+")
    issued_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                  on_delete=models.SET_NULL, related_name="+")
    to_org = models.ForeignKey("orgs.Organisation", verbose_name=_("to"), null=True, blank=True,
                               on_delete=models.PROTECT, related_name="supervisions")
    message = models.TextField(_("instruction"))
    state = FSMField(max_length=10, choices=SupervisionState.choices,
                     default=SupervisionState.ISSUED, protected=False)
    answer = models.TextField(_("answer"), blank=True)
    answered_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="+")
    answered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    workflow_label = "events.supervision"
    objects = SupervisionQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("supervision order")
        verbose_name_plural = _("supervision orders")

    def __str__(self):
        return f"督办 #{self.pk} ({self.event_id})"

    def get_absolute_url(self):
        return reverse("events:detail", args=[self.event_id]) + f"#supervision-{self.pk}"

    @transition(field=state, source=SupervisionState.ISSUED, target=SupervisionState.ANSWERED)
    def answer_order(self):
        pass

    @transition(field=state, source=[SupervisionState.ISSUED, SupervisionState.ANSWERED],
                target=SupervisionState.CLOSED)
    def close_order(self):
        pass

    @classmethod
    def on_overdue(cls, ids, now):
        from zhili.events.deadlines import supervision_overdue

        supervision_overdue(ids)


class ClassifierState(models.Model):
    """The trained category classifier, shared by every process (loaded when its version
    changes). Our own data, written only by our own training task."""

    name = models.CharField(max_length=40, unique=True)
    version = models.PositiveIntegerField(default=0)
    data = models.BinaryField()
    n_samples = models.PositiveIntegerField(default=0)
    trained_at = models.DateTimeField(default=timezone.now)

    def __str__(self):
        return f"{self.name} v{self.version}"


SATISFIED = (Satisfaction.SATISFIED, Satisfaction.BASICALLY)


class StatQuerySet(ScopedQuerySet):
    scope_area_field = "area_code"
    rezone = False  # rebuilt from events, which are rezoned themselves


class StatDimension(models.TextChoices):
    AREA = "area", _("Area")
    CATEGORY = "category", _("Category")
    CHANNEL = "channel", _("Channel")
    ORG = "org", _("Lead organisation")
    STEP = "step", _("Step")


class EventStat(models.Model):
    """Monthly rollup of the events reported in a month, one narrow table per breakdown: by
    village ("area", which also gives totals and the trend), and by town × category, channel
    or lead organisation. A year of a million events is a few tens of thousands of rows, so the
    city's statistics page sums small ranges. Rebuilt for months whose events changed.

    "step" rows (town × step) hold the time spent in a step: `reported` counts the events that
    went through it and `close_seconds` sums their seconds, so the database sums step times
    like every other counter."""

    month = models.DateField()  # the first day of the month
    area_code = models.CharField(max_length=CODE_WIDTH)  # village (area) or town (others)
    dim = models.CharField(max_length=8, choices=StatDimension.choices)
    key = models.CharField(max_length=40, blank=True)  # category id, channel or org id
    reported = models.PositiveIntegerField(default=0)
    closed = models.PositiveIntegerField(default=0)
    closed_on_time = models.PositiveIntegerField(default=0)
    overdue = models.PositiveIntegerField(default=0)
    returned = models.PositiveIntegerField(default=0)
    reopened = models.PositiveIntegerField(default=0)
    solved_on_spot = models.PositiveIntegerField(default=0)
    evaluated = models.PositiveIntegerField(default=0)
    satisfied = models.PositiveIntegerField(default=0)
    close_seconds = models.BigIntegerField(default=0)  # area rows: reported → closed; steps

    objects = StatQuerySet.as_manager()

    class Meta:
        indexes = [models.Index(fields=["dim", "area_code", "month"]),
                   models.Index(fields=["month"])]

    def __str__(self):
        return f"{self.month:%Y-%m} {self.area_code} {self.dim}={self.key}"


class EventStatDirty(models.Model):
    """A month whose events changed since its rollup rows were built."""

    month = models.DateField(unique=True)

    def __str__(self):
        return f"{self.month:%Y-%m}"


class RollupState(models.Model):
    name = models.CharField(max_length=40, unique=True)
    refreshed_at = models.DateTimeField()

    def __str__(self):
        return f"{self.name} @ {self.refreshed_at}"
