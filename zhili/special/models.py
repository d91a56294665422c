"""Special populations under management (回归工程, GB/T 31000 T17–T22 plus local categories).

A `Supervision` (列管) puts one `people.Person` under management in one `SpecialCategory`,
with the category's GB/T 31000 fields in `details`, a management level deciding how often the
person is visited, a risk level changed only with a reason (`RiskChange`), a helper team
(`HelperMember`), visits (`Visit`), handovers to other areas (`Handover`, 衔接) and release
(解除列管). The next visit due is the record's deadline (`DeadlineMixin`), swept every minute
like any other workflow deadline.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import FSMField, transition

from zhili.core.codes import CODE_WIDTH
from zhili.core.pii import EncryptedTextField
from zhili.core.workflow import DeadlineMixin, TransitionLogBase
from zhili.special.choices import (
    HandoverState,
    HelperRole,
    ManagementLevel,
    ReleaseReason,
    RiskScale,
    SupervisionState,
    VisitMethod,
)
from zhili.special.querysets import (
    CategoryQuerySet,
    CoverageQuerySet,
    HandoverQuerySet,
    SupervisionQuerySet,
    VisitPhotoQuerySet,
    VisitQuerySet,
)
from zhili.workdays.clock import Unit

S = SupervisionState
H = HandoverState
VISIT_UNITS = [(Unit.DAYS.value, Unit.DAYS.label), (Unit.WORK_DAYS.value, Unit.WORK_DAYS.label)]


class SpecialCategory(models.Model):
    """A kind of special population: the six built-in ones of 回归工程 with their GB/T 31000
    fields, or one defined locally by an administrator (the standard's "X" extensions)."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=60)
    builtin = models.BooleanField(_("built in"), default=False, editable=False)
    gbt_table = models.CharField(_("GB/T 31000 table"), max_length=4, blank=True,
                                 help_text=_("e.g. T19; empty for a local category."))
    risk_scale = models.CharField(_("risk scale"), max_length=8, choices=RiskScale.choices,
                                  default=RiskScale.HML)
    # {management level: days between visits}
    visit_days = models.JSONField(_("days between visits"), default=dict)
    visit_unit = models.CharField(_("counted in"), max_length=12, choices=VISIT_UNITS,
                                  default=Unit.DAYS)
    # Helper-team roles a record should have (the 四个一 for mental disorder patients).
    team_roles = models.JSONField(_("expected helper team"), default=list, blank=True)
    field_definitions = models.JSONField(_("field definitions"), default=list, blank=True)
    description = models.CharField(_("description"), max_length=300, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    sort = models.PositiveSmallIntegerField(_("order"), default=100)
    updated_at = models.DateTimeField(auto_now=True)

    objects = CategoryQuerySet.as_manager()

    class Meta:
        ordering = ["sort", "code"]
        verbose_name = _("special-population category")
        verbose_name_plural = _("special-population categories")

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("special:category_edit", args=[self.pk])

    def field_defs(self):
        from zhili.special.fields import definitions_of

        return definitions_of(self)

    def risk_choices(self) -> list[tuple[str, str]]:
        from zhili.special.choices import RISK_LEVELS

        return [(k, str(v)) for k, v in RISK_LEVELS[RiskScale(self.risk_scale)]]

    def visit_interval(self, level: str) -> int:
        """Days (or working days) between visits at this management level."""
        days = (self.visit_days or {}).get(level)
        return int(days) if days else 30


class Supervision(DeadlineMixin, models.Model):
    """列管: one person under management in one category. The deadline is the next visit."""

    person = models.ForeignKey("people.Person", verbose_name=_("person"),
                               on_delete=models.PROTECT, related_name="supervisions")
    category = models.ForeignKey(SpecialCategory, verbose_name=_("category"),
                                 on_delete=models.PROTECT, related_name="supervisions")
    state = FSMField(_("status"), max_length=14, choices=SupervisionState.choices,
                     default=S.ACTIVE, protected=False)
    level = models.CharField(_("management level"), max_length=8,
                             choices=ManagementLevel.choices)
    risk_level = models.CharField(_("risk level"), max_length=8)
    proposed_risk = models.CharField(_("proposed risk level"), max_length=8, blank=True)
    details = models.JSONField(_("details"), default=dict, blank=True)
    # The responsible area: the person's residence when put under management, moved only by
    # an accepted handover.
    area = models.ForeignKey("areas.Area", verbose_name=_("responsible area"),
                             on_delete=models.PROTECT, related_name="+")
    area_code = models.CharField(max_length=CODE_WIDTH, editable=False)
    # The receiving area while a handover is open ("" otherwise): seen there too meanwhile.
    pending_area_code = models.CharField(max_length=CODE_WIDTH, blank=True, editable=False)
    started_on = models.DateField(_("under management since"), default=timezone.localdate)
    released_on = models.DateField(_("released on"), null=True, blank=True)
    release_reason = models.CharField(_("release reason"), max_length=14,
                                      choices=ReleaseReason.choices, blank=True)
    release_note = models.TextField(_("release note"), blank=True)
    lost_contact = models.BooleanField(_("lost contact"), default=False)
    lost_contact_since = models.DateTimeField(_("lost contact since"), null=True, blank=True)
    last_visit_at = models.DateTimeField(_("last visit"), null=True, blank=True)
    note = models.TextField(_("note"), blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    workflow_label = "special.supervision"
    objects = SupervisionQuerySet.as_manager()

    class Meta:
        ordering = ["area_code", "id"]
        verbose_name = _("special-population record")
        verbose_name_plural = _("special-population records")
        permissions = [
            ("release_supervision", _("Can release persons from management")),
            ("handover_supervision", _("Can propose, accept and dispute handovers")),
            ("unmask_supervision", _("Can unmask personal data of persons under management")),
        ]
        constraints = [
            # One open record per person and category: a second intake is refused.
            models.UniqueConstraint(fields=["person", "category"],
                                    condition=~models.Q(state="released"),
                                    name="special_one_open_per_category"),
        ]
        indexes = [
            # Lists and the coverage page: the open records of a subtree as one range, grouped
            # by category and risk without reading the table (PostgreSQL index-only scans).
            models.Index(fields=["area_code", "category", "risk_level"],
                         name="special_sup_open_area", condition=~models.Q(state="released"),
                         include=["level", "overdue", "lost_contact", "deadline_at"]),
            models.Index(fields=["pending_area_code"], name="special_sup_pending"),
            # The per-minute sweep: only records with a visit planned.
            models.Index(fields=["deadline_at"], name="special_sup_deadline",
                         condition=models.Q(deadline_at__isnull=False)),
        ]

    def __str__(self):
        return f"{self.category} #{self.pk}"

    def get_absolute_url(self):
        return reverse("special:detail", args=[self.pk])

    @property
    def is_open(self) -> bool:
        return self.state != S.RELEASED

    def risk_display(self) -> str:
        return dict(self.category.risk_choices()).get(self.risk_level, self.risk_level)

    # -- transitions (rules live in the services; these only move the state) ------------------
    @transition(field=state, source=S.ACTIVE, target=S.HANDING_OVER)
    def start_handover(self):
        pass

    @transition(field=state, source=S.HANDING_OVER, target=S.ACTIVE)
    def end_handover(self):
        pass

    @transition(field=state, source=S.ACTIVE, target=S.RELEASED)
    def release(self):
        pass

    # -- sweep hooks ----------------------------------------------------------------------------
    @classmethod
    def on_deadline_warning(cls, ids, now):
        from zhili.special.deadlines import visit_warning

        visit_warning(ids)

    @classmethod
    def on_overdue(cls, ids, now):
        from zhili.special.deadlines import visit_overdue

        visit_overdue(ids)

    @classmethod
    def on_escalation(cls, ids, step, now):
        from zhili.special.deadlines import visit_escalation

        visit_escalation(ids, step)


class Coverage(Supervision):
    """The coverage figures (counts per area and category, no person shown): their own
    permission `special.view_coverage`, so leaders see them without listing anybody."""

    objects = CoverageQuerySet.as_manager()

    class Meta:
        proxy = True
        default_permissions = ("view",)
        verbose_name = _("special-population coverage")
        verbose_name_plural = _("special-population coverage")


class SupervisionTransition(TransitionLogBase):
    supervision = models.ForeignKey(Supervision, on_delete=models.CASCADE,
                                    related_name="transitions")
    subject_field = "supervision"

    class Meta(TransitionLogBase.Meta):
        verbose_name = _("record history entry")
        verbose_name_plural = _("record history")
        indexes = [models.Index(fields=["supervision", "created_at"])]

    def __str__(self):
        return f"{self.supervision_id}: {self.action}"


class HelperMember(models.Model):
    """A member of the helper team (帮扶小组). The standard's contact people (guardian,
    controller, helper) are kept here, their ID number, phone and address encrypted."""

    supervision = models.ForeignKey(Supervision, on_delete=models.CASCADE,
                                    related_name="helpers")
    role = models.CharField(_("role"), max_length=14, choices=HelperRole.choices)
    name = models.CharField(_("name"), max_length=50)
    phone = EncryptedTextField(_("phone"), kind="phone", blank=True, null=True)
    id_number = EncryptedTextField(_("ID number"), kind="id_number", blank=True, null=True)
    address = EncryptedTextField(_("address"), kind="address", blank=True, null=True)
    relation = models.CharField(_("relation to the person"), max_length=20, blank=True)
    org = models.CharField(_("workplace"), max_length=100, blank=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("user account"),
                             null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    is_active = models.BooleanField(_("active"), default=True)
    added_at = models.DateTimeField(default=timezone.now)
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["role", "id"]
        verbose_name = _("helper-team member")
        verbose_name_plural = _("helper-team members")
        indexes = [models.Index(fields=["supervision", "is_active"])]

    def __str__(self):
        return f"{self.get_role_display()} {self.name}"


class Visit(models.Model):
    """走访/随访: who saw the person, when, where, how, what they found."""

    supervision = models.ForeignKey(Supervision, on_delete=models.PROTECT, related_name="visits")
    # Copied from the record at the time: coverage counts the visit for the area responsible
    # then, and groups by category without a join.
    category = models.ForeignKey(SpecialCategory, on_delete=models.PROTECT, related_name="+")
    area_code = models.CharField(max_length=CODE_WIDTH, editable=False)
    visitor = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("visitor"), null=True,
                                blank=True, on_delete=models.SET_NULL, related_name="+")
    visitor_name = models.CharField(_("visitor"), max_length=150, blank=True)
    visited_at = models.DateTimeField(_("visited at"), default=timezone.now)
    method = models.CharField(_("method"), max_length=8, choices=VisitMethod.choices)
    place = models.CharField(_("place"), max_length=200, blank=True)
    lat = models.DecimalField(_("latitude"), max_digits=9, decimal_places=6, null=True,
                              blank=True)
    lng = models.DecimalField(_("longitude"), max_digits=9, decimal_places=6, null=True,
                              blank=True)
    contact_made = models.BooleanField(_("met / reached the person"), default=True)
    findings = models.TextField(_("findings"))
    risk_proposed = models.CharField(_("proposed risk level"), max_length=8, blank=True)
    next_due_at = models.DateTimeField(_("next visit due"), null=True, blank=True)
    client_uuid = models.UUIDField(null=True, blank=True, unique=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects = VisitQuerySet.as_manager()

    class Meta:
        ordering = ["-visited_at", "-id"]
        verbose_name = _("visit")
        verbose_name_plural = _("visits")
        indexes = [
            models.Index(fields=["supervision", "visited_at"]),
            # Coverage: the visits of a period, grouped by area and category, from the index.
            models.Index(fields=["visited_at", "area_code", "category", "supervision"],
                         name="special_visit_period"),
        ]

    def __str__(self):
        return f"visit {self.pk} of {self.supervision_id}"


def photo_path(instance, filename):
    return f"special/{timezone.now():%Y/%m}/{uuid.uuid4().hex}.{instance.extension}"


class VisitPhoto(models.Model):
    """A visit photo, stored without its metadata; where and when it was taken kept here."""

    visit = models.ForeignKey(Visit, on_delete=models.CASCADE, related_name="photos")
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
    created_at = models.DateTimeField(default=timezone.now)

    objects = VisitPhotoQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("visit photo")
        verbose_name_plural = _("visit photos")

    def __str__(self):
        return f"photo {self.pk} of visit {self.visit_id}"

    def get_absolute_url(self):
        return reverse("special:photo", args=[self.pk])


class RiskChange(models.Model):
    """A change of the risk level, always with its reason (and the visit that prompted it)."""

    supervision = models.ForeignKey(Supervision, on_delete=models.CASCADE,
                                    related_name="risk_changes")
    from_level = models.CharField(_("from"), max_length=8, blank=True)
    to_level = models.CharField(_("new risk level"), max_length=8)
    reason = models.TextField(_("reason"))
    visit = models.ForeignKey(Visit, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="+")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                              on_delete=models.SET_NULL, related_name="+")
    actor_name = models.CharField(_("by"), max_length=150, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("risk change")
        verbose_name_plural = _("risk changes")
        indexes = [models.Index(fields=["supervision", "created_at"])]

    def __str__(self):
        return f"{self.supervision_id}: {self.from_level}→{self.to_level}"


class Handover(DeadlineMixin, models.Model):
    """衔接: the responsible area proposes to hand a person over to the area they moved to; the
    receiving area accepts (the record moves) or disputes (the common upper level arbitrates).
    Until it is settled the record is visible on both sides and the sender stays responsible.
    """

    supervision = models.ForeignKey(Supervision, on_delete=models.PROTECT,
                                    related_name="handovers")
    state = FSMField(_("status"), max_length=10, choices=HandoverState.choices,
                     default=H.PENDING, protected=False)
    from_area = models.ForeignKey("areas.Area", verbose_name=_("sending area"),
                                  on_delete=models.PROTECT, related_name="+")
    from_area_code = models.CharField(max_length=CODE_WIDTH, editable=False)
    to_area = models.ForeignKey("areas.Area", verbose_name=_("receiving area"),
                                on_delete=models.PROTECT,
                                related_name="+")
    to_area_code = models.CharField(max_length=CODE_WIDTH, editable=False)
    arbiter_area = models.ForeignKey("areas.Area", verbose_name=_("arbitrated by"),
                                     on_delete=models.PROTECT, related_name="+")
    reason = models.TextField(_("reason"))
    proposed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="+")
    proposed_at = models.DateTimeField(default=timezone.now)
    answered_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="+")
    answered_at = models.DateTimeField(null=True, blank=True)
    answer_note = models.TextField(_("answer"), blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.TextField(_("arbitration"), blank=True)

    workflow_label = "special.handover"
    objects = HandoverQuerySet.as_manager()

    class Meta:
        ordering = ["-proposed_at", "-id"]
        verbose_name = _("handover")
        verbose_name_plural = _("handovers")
        indexes = [
            models.Index(fields=["from_area_code", "state"]),
            models.Index(fields=["to_area_code", "state"]),
            models.Index(fields=["deadline_at"], name="special_handover_deadline",
                         condition=models.Q(deadline_at__isnull=False)),
        ]

    def __str__(self):
        return f"handover #{self.pk} ({self.supervision_id})"

    def get_absolute_url(self):
        return reverse("special:handover", args=[self.pk])

    @property
    def is_open(self) -> bool:
        return self.state in (H.PENDING, H.DISPUTED)

    @transition(field=state, source=H.PENDING, target=H.ACCEPTED)
    def accept(self):
        pass

    @transition(field=state, source=H.PENDING, target=H.DISPUTED)
    def dispute(self):
        pass

    @transition(field=state, source=H.DISPUTED, target=H.ACCEPTED)
    def assign(self):
        pass

    @transition(field=state, source=H.DISPUTED, target=H.RETURNED)
    def send_back(self):
        pass

    @transition(field=state, source=[H.PENDING, H.DISPUTED], target=H.CANCELLED)
    def withdraw(self):
        pass

    @classmethod
    def on_deadline_warning(cls, ids, now):
        from zhili.special.deadlines import handover_warning

        handover_warning(ids)

    @classmethod
    def on_overdue(cls, ids, now):
        from zhili.special.deadlines import handover_overdue

        handover_overdue(ids)

    @classmethod
    def on_escalation(cls, ids, step, now):
        from zhili.special.deadlines import handover_escalation

        handover_escalation(ids, step)


class HandoverTransition(TransitionLogBase):
    handover = models.ForeignKey(Handover, on_delete=models.CASCADE, related_name="transitions")
    subject_field = "handover"

    class Meta(TransitionLogBase.Meta):
        verbose_name = _("handover history entry")
        verbose_name_plural = _("handover history")
        indexes = [models.Index(fields=["handover", "created_at"])]

    def __str__(self):
        return f"{self.handover_id}: {self.action}"
