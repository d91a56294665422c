"""Disputes (矛盾纠纷, 大调解 "一综多专"): cases taken in once from any channel, routed to the
comprehensive centre or a professional mediation body, mediated, closed with an agreement that
holds (司法确认, 履行回访), and watched for risk. GB/T 31000 T30 fields are noted by number."""

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
from zhili.core.pii import EncryptedTextField, blind_index_field
from zhili.core.workflow import DeadlineMixin, TransitionLogBase
from zhili.disputes import codetables
from zhili.disputes.choices import (
    AgreementForm,
    AlertKind,
    AlertState,
    BodyKind,
    Channel,
    ConfirmationResult,
    DisputeState,
    FileKind,
    FollowUpMethod,
    Fulfilment,
    Guidance,
    Outcome,
    PartyKind,
    PartySide,
    Satisfaction,
    SupervisionState,
)
from zhili.disputes.querysets import (
    AlertQuerySet,
    BodyQuerySet,
    ChildQuerySet,
    DisputeQuerySet,
    MediatorQuerySet,
    StatQuerySet,
)

S = DisputeState


class MediationBody(models.Model):
    """A body of the 一综多专 registry: a comprehensive centre or a professional body (医患,
    交通事故 …), the dispute types (5.56 groups or items) and the area it serves, its capacity
    and time limits, and the Word template of its agreements."""

    org = models.OneToOneField("orgs.Organisation", verbose_name=_("organisation"),
                               on_delete=models.PROTECT, related_name="mediation_body")
    kind = models.CharField(_("kind"), max_length=16, choices=BodyKind.choices)
    # The body serves the subtree of its organisation's area.
    area_code = models.CharField(max_length=CODE_WIDTH, editable=False)
    type_codes = models.JSONField(_("dispute types served"), default=list, blank=True,
                                  help_text=_("5.56 groups or items; empty: every type."))
    capacity = models.PositiveIntegerField(_("capacity (open cases)"), default=50)
    accept_days = models.PositiveSmallIntegerField(
        _("days to accept (working days)"), default=3)
    mediate_days = models.PositiveSmallIntegerField(
        _("days to conclude (calendar days)"), default=30,
        help_text=_("People's mediation is normally concluded within one month."))
    number_prefix = models.CharField(_("agreement number prefix"), max_length=20, blank=True,
                                     help_text=_("e.g. 通州医调"))
    agreement_template = models.FileField(_("agreement template (.docx)"),
                                          upload_to="disputes/templates/", blank=True)
    phone = models.CharField(_("office phone"), max_length=40, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    open_cases = models.PositiveIntegerField(default=0, editable=False)

    objects = BodyQuerySet.as_manager()

    class Meta:
        ordering = ["area_code", "kind", "id"]
        verbose_name = _("mediation body")
        verbose_name_plural = _("mediation bodies")
        indexes = [models.Index(fields=["area_code"])]

    def __str__(self):
        return self.org.name

    def get_absolute_url(self):
        return reverse("disputes:body", args=[self.pk])

    @property
    def load(self) -> float:
        return self.open_cases / self.capacity if self.capacity else 1.0

    def serves(self, type_code: str, area_code: str) -> bool:
        from zhili.core import codes

        prefix = self.org.area.prefix
        return codes.in_subtree(area_code, prefix) and codetables.serves_type(
            self.type_codes, type_code)

    def type_names(self) -> list[str]:
        return [codetables.type_name(code) for code in self.type_codes]


class Mediator(models.Model):
    """A mediator of a body (a user when they work in the system, or a name only)."""

    body = models.ForeignKey(MediationBody, verbose_name=_("body"), on_delete=models.CASCADE,
                             related_name="mediators")
    area_code = models.CharField(max_length=CODE_WIDTH, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("user"), null=True,
                             blank=True, on_delete=models.SET_NULL, related_name="+")
    name = models.CharField(_("name"), max_length=50)
    phone = EncryptedTextField(_("phone"), kind="phone", blank=True, null=True)
    full_time = models.BooleanField(_("full-time"), default=False)
    speciality = models.CharField(_("speciality"), max_length=100, blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    objects = MediatorQuerySet.as_manager()

    class Meta:
        ordering = ["body", "name"]
        verbose_name = _("mediator")
        verbose_name_plural = _("mediators")

    def __str__(self):
        return self.name


class Dispute(DeadlineMixin, models.Model):
    """One dispute case (T30) and everything that happened to it."""

    number = models.CharField(_("number"), max_length=24, unique=True, null=True, blank=True)
    title = models.CharField(pgettext_lazy("dispute", "title"), max_length=100)  # T30 1
    occurred_on = models.DateField(_("occurred on"))  # 2
    place = models.CharField(_("place"), max_length=100)  # 3
    area = models.ForeignKey("areas.Area", verbose_name=_("area"), on_delete=models.PROTECT,
                             related_name="+")
    area_code = models.CharField(max_length=CODE_WIDTH, editable=False)
    lat = models.DecimalField(_("latitude"), max_digits=9, decimal_places=6, null=True,
                              blank=True)  # 27
    lng = models.DecimalField(_("longitude"), max_digits=9, decimal_places=6, null=True,
                              blank=True)  # 26
    scale = models.CharField(_("scale"), max_length=2, choices=codetables.scale_choices,
                             default="01")  # 4 → 5.55
    type_code = models.CharField(_("dispute type"), max_length=4,
                                 choices=codetables.type_choices)  # 5 → 5.56
    stat_class = models.CharField(_("statistics class"), max_length=12,
                                  choices=codetables.stat_class_choices)
    people_count = models.PositiveIntegerField(_("people involved"), default=2)  # 6
    description = models.TextField(_("description"))  # 7
    involved_units = models.CharField(_("units involved"), max_length=100, blank=True)  # 8
    amount = models.DecimalField(_("amount involved (yuan)"), max_digits=14, decimal_places=2,
                                 null=True, blank=True)
    is_group = models.BooleanField(_("group dispute"), default=False)
    may_intensify = models.BooleanField(_("may intensify"), default=False)
    stability_risk = models.BooleanField(_("stability risk"), default=False)
    channel = models.CharField(_("channel"), max_length=12, choices=Channel.choices)
    external_ref = models.CharField(_("referral number"), max_length=64, blank=True)
    source_event = models.OneToOneField("events.Event", verbose_name=_("from event"),
                                        null=True, blank=True, on_delete=models.SET_NULL,
                                        related_name="dispute")
    state = FSMField(_("state"), max_length=12, choices=DisputeState.choices,
                     default=S.REGISTERED, protected=False)
    owner_level = models.PositiveSmallIntegerField(_("routing level"), default=3)
    proposed_body = models.ForeignKey(MediationBody, null=True, blank=True,
                                      on_delete=models.SET_NULL, related_name="+")
    body = models.ForeignKey(MediationBody, verbose_name=_("mediation body"), null=True,
                             blank=True, on_delete=models.PROTECT, related_name="cases")
    mediators = models.ManyToManyField(Mediator, blank=True, related_name="cases",
                                       verbose_name=_("mediators"))
    lead_mediator = models.ForeignKey(Mediator, verbose_name=_("lead mediator"), null=True,
                                      blank=True, on_delete=models.SET_NULL,
                                      related_name="led_cases")  # 20
    method = models.CharField(_("resolution method"), max_length=4,
                              choices=codetables.method_choices,
                              default=codetables.PEOPLES_MEDIATION)  # 18 → 5.58
    resolve_by = models.DateField(_("to be resolved by"), null=True, blank=True)  # 17
    outcome = models.CharField(_("outcome"), max_length=10, choices=Outcome.choices,
                               blank=True)  # 22
    outcome_note = models.TextField(_("how it was resolved"), blank=True)  # 23
    guidance = models.CharField(_("parties directed to"), max_length=16,
                                choices=Guidance.choices, blank=True)
    satisfaction = models.CharField(_("satisfaction"), max_length=12,
                                    choices=Satisfaction.choices, blank=True)
    evaluation = models.TextField(_("evaluation"), blank=True)  # 25
    evaluated_on = models.DateField(_("evaluated on"), null=True, blank=True)  # 24
    supervised = models.BooleanField(_("supervised (督办)"), default=False)
    registered_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                      on_delete=models.SET_NULL, related_name="+")
    registered_at = models.DateTimeField(_("registered at"), default=timezone.now)
    routed_at = models.DateTimeField(null=True, blank=True)
    accepted_at = models.DateTimeField(null=True, blank=True)
    concluded_at = models.DateTimeField(_("concluded at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    follow_up_due = models.DateField(_("next follow-up due"), null=True, blank=True)
    decline_count = models.PositiveSmallIntegerField(default=0)
    extension_count = models.PositiveSmallIntegerField(default=0)
    remediation_count = models.PositiveSmallIntegerField(default=0)
    client_uuid = models.UUIDField(null=True, blank=True, unique=True)
    updated_at = models.DateTimeField(auto_now=True)

    workflow_label = "disputes.dispute"
    objects = DisputeQuerySet.as_manager()

    class Meta:
        ordering = ["-registered_at", "-id"]
        verbose_name = _("dispute")
        verbose_name_plural = _("disputes")
        permissions = [
            ("route_dispute", _("Can route disputes to mediation bodies")),
            ("mediate_dispute", _("Can accept and mediate disputes")),
            ("supervise_dispute", _("Can supervise disputes")),
            ("export_dispute", _("Can export disputes")),
            ("unmask_dispute", _("Can unmask personal data of dispute parties")),
        ]
        indexes = [
            models.Index(fields=["area_code", "registered_at"]),
            models.Index(fields=["state", "area_code"]),
            # A body's case list, newest first (its p99 is a benchmark target).
            models.Index(fields=["body", "registered_at", "id"], name="dispute_body_list"),
            models.Index(fields=["registered_at", "id"], name="dispute_registered"),
            models.Index(fields=["deadline_at"], name="dispute_open_deadline",
                         condition=models.Q(deadline_at__isnull=False)),
            models.Index(fields=["updated_at"], name="dispute_updated_at"),
            models.Index(fields=["area_code", "place"], name="dispute_place"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["channel", "external_ref"],
                                    condition=~models.Q(external_ref=""),
                                    name="uniq_dispute_referral"),
        ]

    def __str__(self):
        return f"{self.number or '—'} {self.title}"

    def get_absolute_url(self):
        return reverse("disputes:detail", args=[self.pk])

    @property
    def is_open(self) -> bool:
        return self.state not in (S.CLOSED, S.REJECTED)

    def type_display(self) -> str:
        return codetables.type_name(self.type_code)

    def current_agreement(self) -> Agreement | None:
        return self.agreements.filter(is_current=True).first()

    # -- transitions (rules live in services; these only move the state) ----------------------
    @transition(field=state, source=S.REGISTERED, target=S.ASSIGNED)
    def route(self):
        pass

    @transition(field=state, source=S.REGISTERED, target=S.REJECTED)
    def reject(self):
        pass

    @transition(field=state, source=[S.REGISTERED, S.ASSIGNED], target=S.REGISTERED)
    def escalate(self):
        pass

    @transition(field=state, source=S.ASSIGNED, target=S.REGISTERED)
    def decline(self):
        pass

    @transition(field=state, source=S.ASSIGNED, target=S.MEDIATING)
    def accept(self):
        pass

    @transition(field=state, source=S.MEDIATING, target=S.MEDIATING)
    def record_session(self):
        pass

    @transition(field=state, source=S.MEDIATING, target=S.MEDIATING)
    def extend(self):
        pass

    @transition(field=state, source=S.MEDIATING, target=S.AGREED)
    def agree(self):
        pass

    @transition(field=state, source=S.MEDIATING, target=S.PERFORMING)
    def agree_orally(self):
        pass

    @transition(field=state, source=S.MEDIATING, target=S.CLOSED)
    def fail(self):
        pass

    @transition(field=state, source=[S.REGISTERED, S.ASSIGNED, S.MEDIATING], target=S.CLOSED)
    def withdraw(self):
        pass

    @transition(field=state, source=S.AGREED, target=S.PERFORMING)
    def sign(self):
        pass

    @transition(field=state, source=S.PERFORMING, target=S.PERFORMING)
    def follow_up(self):
        pass

    @transition(field=state, source=S.PERFORMING, target=S.MEDIATING)
    def remediate(self):
        pass

    @transition(field=state, source=S.PERFORMING, target=S.CLOSED)
    def close(self):
        pass

    # -- sweep hooks ----------------------------------------------------------------------------
    @classmethod
    def on_deadline_warning(cls, ids, now):
        from zhili.disputes.deadlines import warn

        warn(ids)

    @classmethod
    def on_overdue(cls, ids, now):
        from zhili.disputes.deadlines import mark_overdue

        mark_overdue(ids)

    @classmethod
    def on_escalation(cls, ids, step, now):
        from zhili.disputes.deadlines import escalate

        escalate(ids, step, now)


class DisputeTransition(TransitionLogBase):
    dispute = models.ForeignKey(Dispute, on_delete=models.CASCADE, related_name="transitions")
    subject_field = "dispute"

    objects = ChildQuerySet.as_manager()

    class Meta(TransitionLogBase.Meta):
        verbose_name = _("dispute transition")
        verbose_name_plural = _("dispute transitions")
        indexes = [models.Index(fields=["dispute", "created_at"])]

    def __str__(self):
        return f"{self.dispute_id}: {self.action}"


class Party(models.Model):
    """A party (person or organisation; several per side). The main party's fields are T30
    9–16; ID numbers, phones and addresses are encrypted, with blind indexes to find repeated
    disputes between the same people."""

    dispute = models.ForeignKey(Dispute, on_delete=models.CASCADE, related_name="parties")
    side = models.CharField(_("side"), max_length=10, choices=PartySide.choices)
    kind = models.CharField(_("kind"), max_length=6, choices=PartyKind.choices,
                            default=PartyKind.PERSON)
    is_main = models.BooleanField(_("main party"), default=False)
    name = models.CharField(_("name"), max_length=80)
    id_type = models.CharField(_("ID document type"), max_length=3, blank=True)
    id_number = EncryptedTextField(_("ID number"), kind="id_number", blank=True, null=True)
    id_number_bidx = blind_index_field()
    uscc = models.CharField(_("unified social credit code"), max_length=18, blank=True)
    sex = models.CharField(_("sex"), max_length=1, blank=True)
    ethnicity = models.CharField(_("ethnicity"), max_length=2, blank=True)
    birth_date = models.DateField(_("birth date"), null=True, blank=True)
    party_class = models.CharField(_("party class"), max_length=4, blank=True,
                                   choices=codetables.party_class_choices)  # 15 → 5.57
    phone = EncryptedTextField(_("phone"), kind="phone", blank=True, null=True)
    address = EncryptedTextField(_("address"), kind="address", blank=True, null=True)  # 16
    representative = models.CharField(_("representative"), max_length=80, blank=True,
                                      help_text=_("Legal representative or agent."))
    person = models.ForeignKey("people.Person", verbose_name=_("registry person"), null=True,
                               blank=True, on_delete=models.SET_NULL, related_name="+")

    objects = ChildQuerySet.as_manager()

    class Meta:
        ordering = ["dispute", "side", "id"]
        verbose_name = _("party")
        verbose_name_plural = _("parties")
        indexes = [models.Index(fields=["id_number_bidx"], name="party_id_bidx"),
                   models.Index(fields=["uscc"], name="party_uscc")]

    def __str__(self):
        return self.name

    @property
    def side_title(self) -> str:
        from zhili.disputes.choices import SIDE_TITLES

        return SIDE_TITLES.get(self.side, self.side)


class MediationSession(models.Model):
    """A mediation session: when, where, who took part, and the record (笔录)."""

    dispute = models.ForeignKey(Dispute, on_delete=models.CASCADE, related_name="sessions")
    held_at = models.DateTimeField(_("held at"))
    place = models.CharField(_("place"), max_length=100)
    mediators = models.ManyToManyField(Mediator, blank=True, related_name="+",
                                       verbose_name=_("mediators"))
    participants = models.CharField(_("participants"), max_length=300)
    record = models.TextField(_("record"))
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    objects = ChildQuerySet.as_manager()

    class Meta:
        ordering = ["held_at", "id"]
        verbose_name = _("mediation session")
        verbose_name_plural = _("mediation sessions")

    def __str__(self):
        return f"{self.dispute_id} @ {self.held_at:%Y-%m-%d}"


def file_path(instance, filename):
    return f"disputes/{timezone.now():%Y/%m}/{uuid.uuid4().hex}.{instance.extension}"


class CaseFile(models.Model):
    """Evidence, records, the signed agreement, court rulings: the case's archive (立卷归档)."""

    dispute = models.ForeignKey(Dispute, on_delete=models.CASCADE, related_name="files")
    session = models.ForeignKey(MediationSession, null=True, blank=True,
                                on_delete=models.SET_NULL, related_name="files")
    kind = models.CharField(_("kind"), max_length=10, choices=FileKind.choices)
    file = models.FileField(upload_to=file_path)
    filename = models.CharField(_("file name"), max_length=200)
    extension = models.CharField(max_length=5)
    content_type = models.CharField(max_length=80)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    objects = ChildQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("case file")
        verbose_name_plural = _("case files")

    def __str__(self):
        return self.filename

    def get_absolute_url(self):
        return reverse("disputes:file", args=[self.pk])


class Agreement(models.Model):
    """调解协议书 (or an oral agreement recorded by the mediator): the contents the law requires
    (《人民调解法》第二十九条), signatures, and whether it is being kept."""

    dispute = models.ForeignKey(Dispute, on_delete=models.CASCADE, related_name="agreements")
    # A broken agreement mediated again is kept, superseded by the new one.
    is_current = models.BooleanField(default=True)
    form = models.CharField(_("form"), max_length=8, choices=AgreementForm.choices,
                            default=AgreementForm.WRITTEN)
    number = models.CharField(_("agreement number"), max_length=40, blank=True)
    facts = models.TextField(_("main facts"))
    issues = models.TextField(_("matters in dispute"))
    responsibilities = models.TextField(_("responsibilities of the parties"), blank=True)
    terms = models.JSONField(_("terms agreed"), default=list)
    performance_method = models.CharField(_("way of performance"), max_length=200)
    performance_place = models.CharField(_("place of performance"), max_length=100,
                                         blank=True)
    performance_due = models.DateField(_("performance due by"))
    place = models.CharField(_("place of mediation"), max_length=100, blank=True)
    copies = models.PositiveSmallIntegerField(_("copies"), default=3)
    drafted_at = models.DateTimeField(default=timezone.now)
    signatures = models.JSONField(_("signatures"), default=list, blank=True)
    effective_on = models.DateField(_("effective on"), null=True, blank=True)
    fulfilment = models.CharField(_("performance"), max_length=12, choices=Fulfilment.choices,
                                  default=Fulfilment.PENDING)
    fulfilled_on = models.DateField(_("fulfilled on"), null=True, blank=True)
    area_code = models.CharField(max_length=CODE_WIDTH, editable=False)

    objects = ChildQuerySet.as_manager()

    class Meta:
        ordering = ["drafted_at", "id"]
        verbose_name = _("mediation agreement")
        verbose_name_plural = _("mediation agreements")
        indexes = [models.Index(fields=["effective_on"])]
        constraints = [models.UniqueConstraint(fields=["dispute"],
                                               condition=models.Q(is_current=True),
                                               name="uniq_current_agreement")]

    def __str__(self):
        return self.number or f"agreement of {self.dispute_id}"

    @property
    def confirmation_deadline(self):
        """《人民调解法》第三十三条: apply within 30 days of the agreement taking effect."""
        import datetime as dt

        return self.effective_on + dt.timedelta(days=30) if self.effective_on else None


class JudicialConfirmation(models.Model):
    """司法确认: the joint application to a court and the court's ruling."""

    dispute = models.ForeignKey(Dispute, on_delete=models.CASCADE,
                                related_name="confirmations")
    court = models.CharField(_("court"), max_length=100)
    applied_on = models.DateField(_("applied on"))
    result = models.CharField(_("result"), max_length=10, choices=ConfirmationResult.choices,
                              default=ConfirmationResult.PENDING)
    ruled_on = models.DateField(_("ruled on"), null=True, blank=True)
    ruling_number = models.CharField(_("ruling number"), max_length=60, blank=True)
    note = models.CharField(_("note"), max_length=300, blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="+")

    objects = ChildQuerySet.as_manager()

    class Meta:
        ordering = ["applied_on", "id"]
        verbose_name = _("judicial confirmation")
        verbose_name_plural = _("judicial confirmations")

    def __str__(self):
        return f"{self.court} {self.applied_on}"


class FollowUp(models.Model):
    """回访: whether the agreement is being kept, and how satisfied the parties are."""

    dispute = models.ForeignKey(Dispute, on_delete=models.CASCADE, related_name="follow_ups")
    visited_on = models.DateField(_("visited on"))
    method = models.CharField(_("method"), max_length=8, choices=FollowUpMethod.choices)
    fulfilment = models.CharField(_("performance"), max_length=12, choices=Fulfilment.choices)
    satisfaction = models.CharField(_("satisfaction"), max_length=12,
                                    choices=Satisfaction.choices, blank=True)
    note = models.TextField(_("note"), blank=True)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                           on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    objects = ChildQuerySet.as_manager()

    class Meta:
        ordering = ["visited_on", "id"]
        verbose_name = _("follow-up")
        verbose_name_plural = _("follow-ups")

    def __str__(self):
        return f"{self.dispute_id} {self.visited_on}"


class DisputeAlert(models.Model):
    """A risk signal raised to the centre: group dispute, repeated parties or place,
    intensifying, overdue. One open alert per (case, kind)."""

    dispute = models.ForeignKey(Dispute, on_delete=models.CASCADE, related_name="alerts")
    area_code = models.CharField(max_length=CODE_WIDTH, editable=False)
    kind = models.CharField(_("kind"), max_length=16, choices=AlertKind.choices)
    message = models.CharField(_("message"), max_length=300)
    related = models.JSONField(default=list, blank=True)  # ids of the related cases
    state = models.CharField(_("state"), max_length=8, choices=AlertState.choices,
                             default=AlertState.OPEN)
    handled_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    handled_note = models.CharField(_("note"), max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects = AlertQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("dispute alert")
        verbose_name_plural = _("dispute alerts")
        indexes = [models.Index(fields=["area_code", "state"])]
        constraints = [models.UniqueConstraint(fields=["dispute", "kind"],
                                               condition=models.Q(state="open"),
                                               name="uniq_open_dispute_alert")]

    def __str__(self):
        return f"{self.get_kind_display()} ({self.dispute_id})"


class DisputeSupervision(DeadlineMixin, models.Model):
    """督办 of a high-risk or overdue case: an upper level's order to the body, answered in its
    own time limit (the sweep marks it overdue when not)."""

    dispute = models.ForeignKey(Dispute, on_delete=models.CASCADE,
                                related_name="supervisions")
    area_code = models.CharField(max_length=CODE_WIDTH, editable=False)
    issued_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                  on_delete=models.SET_NULL, related_name="+")
    message = models.TextField(_("instruction"))
    state = FSMField(max_length=10, choices=SupervisionState.choices,
                     default=SupervisionState.ISSUED, protected=False)
    answer = models.TextField(_("answer"), blank=True)
    answered_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="+")
    answered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    workflow_label = "disputes.supervision"
    objects = ChildQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("dispute supervision order")
        verbose_name_plural = _("dispute supervision orders")

    def __str__(self):
        return f"督办 #{self.pk} ({self.dispute_id})"

    @transition(field=state, source=SupervisionState.ISSUED, target=SupervisionState.ANSWERED)
    def answer_order(self):
        pass

    @transition(field=state, source=[SupervisionState.ISSUED, SupervisionState.ANSWERED],
                target=SupervisionState.CLOSED)
    def close_order(self):
        pass


class StatDimension(models.TextChoices):
    AREA = "area", _("Area")
    TYPE = "type", _("Dispute type")
    CHANNEL = "channel", _("Channel")
    BODY = "body", _("Mediation body")
    MEDIATOR = "mediator", _("Mediator")


class DisputeStat(models.Model):
    """Monthly rollup of the cases registered in a month: by village ("area", which also gives
    totals and the trend), and by town × statistics class or channel, and by body and lead
    mediator. The statistics page sums small ranges of it; rebuilt for months that changed."""

    month = models.DateField()
    area_code = models.CharField(max_length=CODE_WIDTH)
    dim = models.CharField(max_length=8, choices=StatDimension.choices)
    key = models.CharField(max_length=20, blank=True)
    cases = models.PositiveIntegerField(default=0)
    concluded = models.PositiveIntegerField(default=0)
    mediated = models.PositiveIntegerField(default=0)  # concluded with mediation attempted
    success = models.PositiveIntegerField(default=0)  # success or partial
    on_time = models.PositiveIntegerField(default=0)
    group = models.PositiveIntegerField(default=0)
    confirmations = models.PositiveIntegerField(default=0)
    confirmed_valid = models.PositiveIntegerField(default=0)
    days = models.PositiveIntegerField(default=0)  # registered → concluded, summed
    amount = models.DecimalField(max_digits=18, decimal_places=2, default=0)

    objects = StatQuerySet.as_manager()

    class Meta:
        indexes = [models.Index(fields=["dim", "area_code", "month"]),
                   models.Index(fields=["month"])]

    def __str__(self):
        return f"{self.month:%Y-%m} {self.area_code} {self.dim}={self.key}"


class DisputeStatDirty(models.Model):
    month = models.DateField(unique=True)

    def __str__(self):
        return f"{self.month:%Y-%m}"


