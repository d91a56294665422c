"""Courier safety "三台合一": the sector's registry (companies, outlets, staff), the parcel,
inspection and X-ray records the companies' systems push, the daily rollups that make the three
100 % rates (实名收寄, 开箱验视, 过机安检) readable at once, and the supervision that follows from
them (rectification orders, spot checks, penalties).

The three record tables are the high-volume ones (a city: 1–2 million parcels a day). On
PostgreSQL they are partitioned by month on `day` (see migrations/0002_partitions.py); the
natural key is (company, waybill, day), which is what makes a re-sent batch idempotent.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import FSMField, transition

from zhili.core.codes import CODE_WIDTH
from zhili.core.pii import EncryptedTextField, blind_index_field
from zhili.core.scoping import ScopedQuerySet, can
from zhili.core.workflow import DeadlineMixin, TransitionLogBase
from zhili.delivery.choices import (
    BatchState,
    FeedKind,
    InspectionResult,
    OrderState,
    SpotCheckResult,
    StaffDuty,
)


class CompanyQuerySet(ScopedQuerySet):
    scope_area_field = "area_code"
    scope_org_field = "org"


class BatchQuerySet(ScopedQuerySet):
    scope_area_field = "area_code"
    scope_org_field = "company__org"


class OutletQuerySet(ScopedQuerySet):
    """Area users see the outlets of their subtree; a company's staff and API key its own
    outlets (outlets sit under the company's organisation); outlet staff their outlet."""

    scope_area_field = "area_code"
    scope_org_field = "org"


class OutletChildQuerySet(ScopedQuerySet):
    """Rows of an outlet (staff, records, rollups, orders): area by the outlet's area code, and
    the organisation by the outlet's."""

    scope_area_field = "area_code"
    scope_org_field = "outlet__org"


class CourierCompany(models.Model):
    """A courier brand's company in the city (GB/T 31000 T29)."""

    org = models.OneToOneField("orgs.Organisation", verbose_name=_("organisation"),
                               on_delete=models.PROTECT, related_name="courier_company")
    area_code = models.CharField(max_length=CODE_WIDTH, editable=False)
    brand = models.CharField(_("service brand"), max_length=50)
    licence_no = models.CharField(_("courier business licence"), max_length=40, blank=True)
    registration_type = models.CharField(_("registration type"), max_length=3, blank=True)
    holding = models.CharField(_("holding"), max_length=3, blank=True)
    business_scope = models.JSONField(_("business scope"), default=list, blank=True)
    enterprise_type = models.CharField(_("enterprise type"), max_length=2, blank=True)
    person_in_charge = models.CharField(_("person in charge"), max_length=50, blank=True)
    phone = EncryptedTextField(_("contact phone"), kind="phone", blank=True, null=True)
    is_active = models.BooleanField(_("active"), default=True)

    objects = CompanyQuerySet.as_manager()

    class Meta:
        ordering = ["brand"]
        verbose_name = _("courier company")
        verbose_name_plural = _("courier companies")

    def __str__(self):
        return self.org.name

    def get_absolute_url(self):
        return reverse("delivery:company", args=[self.pk])


class Outlet(models.Model):
    """A courier outlet (网点): where parcels are taken in, inspected and screened."""

    org = models.OneToOneField("orgs.Organisation", verbose_name=_("organisation"),
                               on_delete=models.PROTECT, related_name="courier_outlet")
    company = models.ForeignKey(CourierCompany, verbose_name=_("company"),
                                on_delete=models.PROTECT, related_name="outlets")
    code = models.CharField(_("outlet code"), max_length=40,
                            help_text=_("The company's own code for the outlet, used in its "
                                        "data feeds."))
    area = models.ForeignKey("areas.Area", verbose_name=_("area"), on_delete=models.PROTECT,
                             related_name="+")
    area_code = models.CharField(max_length=CODE_WIDTH, editable=False)
    licence_no = models.CharField(_("licence or filing number"), max_length=40, blank=True)
    address = models.CharField(_("address"), max_length=200, blank=True)
    person_in_charge = models.CharField(_("person in charge"), max_length=50, blank=True)
    phone = EncryptedTextField(_("contact phone"), kind="phone", blank=True, null=True)
    lat = models.DecimalField(_("latitude"), max_digits=9, decimal_places=6, null=True,
                              blank=True)
    lng = models.DecimalField(_("longitude"), max_digits=9, decimal_places=6, null=True,
                              blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects = OutletQuerySet.as_manager()

    class Meta:
        ordering = ["area_code", "code"]
        verbose_name = _("courier outlet")
        verbose_name_plural = _("courier outlets")
        permissions = [("supervise_outlet", _("Can supervise courier outlets (orders, spot "
                                              "checks, penalties)")),
                       ("ingest_outlet", _("Can push courier data feeds"))]
        constraints = [models.UniqueConstraint(fields=["company", "code"],
                                               name="uniq_outlet_code")]
        indexes = [models.Index(fields=["area_code"])]

    def __str__(self):
        return self.org.name

    def get_absolute_url(self):
        return reverse("delivery:outlet", args=[self.pk])


class CourierStaff(models.Model):
    """收派员 and screeners: background check and training, as the rules require."""

    outlet = models.ForeignKey(Outlet, verbose_name=_("outlet"), on_delete=models.CASCADE,
                               related_name="staff")
    area_code = models.CharField(max_length=CODE_WIDTH, editable=False)
    name = models.CharField(_("name"), max_length=50)
    id_number = EncryptedTextField(_("ID number"), kind="id_number", blank=True, null=True)
    id_number_bidx = blind_index_field()
    phone = EncryptedTextField(_("phone"), kind="phone", blank=True, null=True)
    duty = models.CharField(_("duty"), max_length=8, choices=StaffDuty.choices)
    background_checked_on = models.DateField(_("background checked on"), null=True,
                                             blank=True)
    trained_on = models.DateField(_("trained on"), null=True, blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    objects = OutletChildQuerySet.as_manager()

    class Meta:
        ordering = ["outlet", "name"]
        verbose_name = _("courier staff member")
        verbose_name_plural = _("courier staff")
        indexes = [models.Index(fields=["id_number_bidx"], name="staff_id_bidx")]

    def __str__(self):
        return self.name


class IngestBatch(models.Model):
    """One pushed batch: who sent it, what came of it. (company, kind, key) makes a retried
    request return the first answer instead of being processed again."""

    company = models.ForeignKey(CourierCompany, on_delete=models.PROTECT,
                                related_name="batches")
    area_code = models.CharField(max_length=CODE_WIDTH, editable=False)
    kind = models.CharField(max_length=12, choices=FeedKind.choices)
    key = models.CharField(max_length=80)
    state = models.CharField(max_length=10, choices=BatchState.choices,
                             default=BatchState.RECEIVED)
    submitted = models.PositiveIntegerField(default=0)
    accepted = models.PositiveIntegerField(default=0)
    created = models.PositiveIntegerField(default=0)
    duplicates = models.PositiveIntegerField(default=0)
    rejected = models.PositiveIntegerField(default=0)
    errors = models.JSONField(default=list, blank=True)
    sha256 = models.CharField(max_length=64)
    received_at = models.DateTimeField(default=timezone.now)
    seconds = models.FloatField(default=0)

    objects = BatchQuerySet.as_manager()

    class Meta:
        ordering = ["-received_at"]
        constraints = [models.UniqueConstraint(fields=["company", "kind", "key"],
                                               name="uniq_batch_key")]

    def __str__(self):
        return f"{self.kind} {self.key}"

    def as_dict(self) -> dict:
        return {"batch": self.key, "kind": self.kind, "submitted": self.submitted,
                "accepted": self.accepted, "created": self.created,
                "duplicates": self.duplicates, "rejected": self.rejected,
                "errors": self.errors}


class RecordQuerySet(OutletChildQuerySet):
    rezone = False  # kept where the parcel was taken in


class Shipment(models.Model):
    """A parcel taken in (收寄), as the company's system reported it. The sender's name,
    document and phone are one encrypted value; the ID number also has a short blind index
    for exact search (8 bytes: 100 million rows must stay small)."""

    # No foreign-key constraint or index of their own on the record tables: ingestion checks
    # the outlet against the company's list, and the natural key leads with the company.
    company = models.ForeignKey(CourierCompany, on_delete=models.DO_NOTHING, related_name="+",
                                db_constraint=False, db_index=False)
    outlet = models.ForeignKey(Outlet, on_delete=models.DO_NOTHING, related_name="+",
                               db_constraint=False, db_index=False)
    area_code = models.CharField(max_length=CODE_WIDTH)
    waybill = models.CharField(_("waybill number"), max_length=40)
    day = models.DateField()  # local date of accepted_at: the partition key
    accepted_at = models.DateTimeField(_("taken in at"))
    sender = EncryptedTextField(_("sender"), kind="sender", blank=True, null=True)
    sender_id_type = models.CharField(max_length=3, blank=True)
    sender_id_bidx = models.BigIntegerField(null=True, blank=True)
    real_name = models.BooleanField(_("real-name"), default=False)
    id_problem = models.CharField(max_length=12, blank=True)  # "missing" | "invalid"
    goods = models.CharField(_("goods"), max_length=200, blank=True)
    goods_category = models.CharField(_("declared category"), max_length=40, blank=True)
    weight = models.DecimalField(_("weight (kg)"), max_digits=9, decimal_places=3, null=True,
                                 blank=True)
    flagged = models.BooleanField(_("flagged goods"), default=False)
    flag_terms = models.CharField(max_length=200, blank=True)
    inspected = models.BooleanField(_("inspected"), default=False)
    xrayed = models.BooleanField(_("X-rayed"), default=False)
    batch_id = models.BigIntegerField(null=True, blank=True)
    received_at = models.DateTimeField(default=timezone.now)

    objects = RecordQuerySet.as_manager()

    class Meta:
        verbose_name = _("parcel record")
        verbose_name_plural = _("parcel records")
        constraints = [models.UniqueConstraint(fields=["company", "waybill", "day"],
                                               name="uniq_shipment")]
        indexes = [models.Index(fields=["waybill"], name="shipment_waybill"),
                   models.Index(fields=["outlet", "day"], name="shipment_outlet_day"),
                   models.Index(fields=["sender_id_bidx"], name="shipment_sender",
                                condition=models.Q(sender_id_bidx__isnull=False))]

    def __str__(self):
        return self.waybill


class Inspection(models.Model):
    """开箱验视: who inspected the parcel, with what result, and the photo's reference."""

    # No foreign-key constraint or index of their own on the record tables: ingestion checks
    # the outlet against the company's list, and the natural key leads with the company.
    company = models.ForeignKey(CourierCompany, on_delete=models.DO_NOTHING, related_name="+",
                                db_constraint=False, db_index=False)
    outlet = models.ForeignKey(Outlet, on_delete=models.DO_NOTHING, related_name="+",
                               db_constraint=False, db_index=False)
    area_code = models.CharField(max_length=CODE_WIDTH)
    waybill = models.CharField(_("waybill number"), max_length=40)
    day = models.DateField()
    inspected_at = models.DateTimeField(_("inspected at"))
    inspector = models.CharField(_("inspector"), max_length=50)
    result = models.CharField(_("result"), max_length=10, choices=InspectionResult.choices)
    photo_ref = models.CharField(_("photo reference"), max_length=200, blank=True)
    source = models.CharField(max_length=8, default="feed")  # "feed" or "app"
    batch_id = models.BigIntegerField(null=True, blank=True)

    objects = RecordQuerySet.as_manager()

    class Meta:
        verbose_name = _("inspection record")
        verbose_name_plural = _("inspection records")
        constraints = [models.UniqueConstraint(fields=["company", "waybill", "day"],
                                               name="uniq_inspection")]
        indexes = [models.Index(fields=["waybill"], name="inspection_waybill")]

    def __str__(self):
        return self.waybill


class XRayScan(models.Model):
    """过机安检: a scan by a machine (the image stays on the company's system)."""

    # No foreign-key constraint or index of their own on the record tables: ingestion checks
    # the outlet against the company's list, and the natural key leads with the company.
    company = models.ForeignKey(CourierCompany, on_delete=models.DO_NOTHING, related_name="+",
                                db_constraint=False, db_index=False)
    outlet = models.ForeignKey(Outlet, on_delete=models.DO_NOTHING, related_name="+",
                               db_constraint=False, db_index=False)
    area_code = models.CharField(max_length=CODE_WIDTH)
    waybill = models.CharField(_("waybill number"), max_length=40)
    day = models.DateField()
    scanned_at = models.DateTimeField(_("scanned at"))
    machine = models.CharField(_("machine"), max_length=40)
    alarm = models.BooleanField(_("alarm"), default=False)
    image_ref = models.CharField(_("image reference"), max_length=200, blank=True)
    batch_id = models.BigIntegerField(null=True, blank=True)

    objects = RecordQuerySet.as_manager()

    class Meta:
        verbose_name = _("X-ray scan record")
        verbose_name_plural = _("X-ray scan records")
        constraints = [models.UniqueConstraint(fields=["company", "waybill", "day", "scanned_at"],
                                               name="uniq_scan")]
        indexes = [models.Index(fields=["waybill"], name="scan_waybill")]

    def __str__(self):
        return self.waybill


class Rollup(models.Model):
    """What every rollup row keeps (ingest.ROLLUP) for an outlet and a period: parcels and how
    many of them were registered, inspected, screened and flagged; inspection and scan
    records."""

    outlet = models.ForeignKey(Outlet, on_delete=models.CASCADE, related_name="+")
    company = models.ForeignKey(CourierCompany, on_delete=models.CASCADE, related_name="+")
    area_code = models.CharField(max_length=CODE_WIDTH)
    parcels = models.PositiveIntegerField(default=0)
    real_name = models.PositiveIntegerField(default=0)
    inspected = models.PositiveIntegerField(default=0)
    xrayed = models.PositiveIntegerField(default=0)
    flagged = models.PositiveIntegerField(default=0)
    inspections = models.PositiveIntegerField(default=0)  # inspection records of the period
    inspection_photos = models.PositiveIntegerField(default=0)  # … with a photo reference
    scans = models.PositiveIntegerField(default=0)
    alarms = models.PositiveIntegerField(default=0)

    objects = RecordQuerySet.as_manager()

    class Meta:
        abstract = True


class OutletDay(Rollup):
    """The daily rollup of an outlet, kept current by ingestion in the same transaction as the
    records (and rebuildable from them): the reports read these rows, never the records."""

    day = models.DateField()

    class Meta:
        verbose_name = _("outlet day")
        verbose_name_plural = _("outlet days")
        constraints = [models.UniqueConstraint(fields=["outlet", "day"],
                                               name="uniq_outlet_day")]
        indexes = [models.Index(fields=["day", "area_code"], name="outletday_day_area")]

    def __str__(self):
        return f"{self.outlet_id} {self.day}"


class MonthRollupQuerySet(RecordQuerySet):
    def restrict(self, user, action: str = "view") -> ScopedQuerySet:
        """Under the day rollups' permission: the same figures, summed by month."""
        if not can(user, OutletDay, action):
            return self.none()
        return self.in_scope(user)


class OutletMonth(Rollup):
    """The sums of an outlet's days in a month, kept by the same statements as OutletDay: a
    month's report reads one row per outlet instead of thirty. Readable by whoever may read
    the daily rollups (no permission of its own)."""

    month = models.DateField()  # the month's first day

    objects = MonthRollupQuerySet.as_manager()

    class Meta:
        verbose_name = _("outlet month")
        verbose_name_plural = _("outlet months")
        constraints = [models.UniqueConstraint(fields=["outlet", "month"],
                                               name="uniq_outlet_month")]
        indexes = [models.Index(fields=["month", "area_code"], name="outletmonth_month_area")]

    def __str__(self):
        return f"{self.outlet_id} {self.month:%Y-%m}"


class ProhibitedTerm(models.Model):
    """A word of the prohibited-goods screening list (editable by regulators)."""

    term = models.CharField(_("term"), max_length=40, unique=True)
    category = models.CharField(_("catalogue class"), max_length=40)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["category", "term"]
        verbose_name = _("prohibited-goods term")
        verbose_name_plural = _("prohibited-goods terms")

    def __str__(self):
        return self.term


class RectificationOrder(DeadlineMixin, models.Model):
    """整改通知书 to an outlet below 100 %: the figures that triggered it, what must be done by
    when; the outlet answers with evidence, the regulator re-checks and closes or escalates."""

    outlet = models.ForeignKey(Outlet, verbose_name=_("outlet"), on_delete=models.PROTECT,
                               related_name="orders")
    area_code = models.CharField(max_length=CODE_WIDTH, editable=False)
    number = models.CharField(_("number"), max_length=40, unique=True, null=True, blank=True)
    period_start = models.DateField(_("period from"))
    period_end = models.DateField(_("period to"))
    figures = models.JSONField(_("figures"), default=dict)
    findings = models.TextField(_("findings"))
    requirements = models.TextField(_("requirements"))
    state = FSMField(_("state"), max_length=10, choices=OrderState.choices,
                     default=OrderState.ISSUED, protected=False)
    issued_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                  on_delete=models.SET_NULL, related_name="+")
    issued_at = models.DateTimeField(default=timezone.now)
    answer = models.TextField(_("answer"), blank=True)
    answered_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="+")
    answered_at = models.DateTimeField(null=True, blank=True)
    recheck_note = models.TextField(_("re-check"), blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    workflow_label = "delivery.rectificationorder"
    objects = OutletChildQuerySet.as_manager()

    class Meta:
        ordering = ["-issued_at"]
        verbose_name = _("rectification order")
        verbose_name_plural = _("rectification orders")

    def __str__(self):
        return self.number or f"order {self.pk}"

    def get_absolute_url(self):
        return reverse("delivery:order", args=[self.pk])

    @transition(field=state, source=[OrderState.ISSUED, OrderState.ESCALATED],
                target=OrderState.ANSWERED)
    def answer_order(self):
        pass

    @transition(field=state, source=OrderState.ANSWERED, target=OrderState.CLOSED)
    def close(self):
        pass

    @transition(field=state, source=OrderState.ANSWERED, target=OrderState.ISSUED)
    def reject_answer(self):
        pass

    @transition(field=state, source=[OrderState.ISSUED, OrderState.ANSWERED],
                target=OrderState.ESCALATED)
    def escalate(self):
        pass

    @classmethod
    def on_overdue(cls, ids, now):
        from zhili.delivery.orders import order_overdue

        order_overdue(ids)

    @classmethod
    def on_escalation(cls, ids, step, now):
        from zhili.delivery.orders import order_escalated

        order_escalated(ids, step, now)


class OrderTransition(TransitionLogBase):
    order = models.ForeignKey(RectificationOrder, on_delete=models.CASCADE,
                              related_name="transitions")
    subject_field = "order"

    class Meta(TransitionLogBase.Meta):
        verbose_name = _("rectification order transition")
        verbose_name_plural = _("rectification order transitions")

    def __str__(self):
        return f"{self.order_id}: {self.action}"


def evidence_path(instance, filename):
    return f"delivery/{timezone.now():%Y/%m}/{instance.sha256[:32]}.{instance.extension}"


class Evidence(models.Model):
    """A photo or document attached to an order's answer or to a spot check."""

    order = models.ForeignKey(RectificationOrder, null=True, blank=True,
                              on_delete=models.CASCADE, related_name="evidence")
    spot_check = models.ForeignKey("SpotCheck", null=True, blank=True,
                                   on_delete=models.CASCADE, related_name="evidence")
    file = models.FileField(upload_to=evidence_path)
    filename = models.CharField(max_length=200)
    extension = models.CharField(max_length=5)
    content_type = models.CharField(max_length=80)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self):
        return self.filename


class SpotCheck(models.Model):
    """抽检: parcels sampled at random from an outlet's records, checked on site."""

    outlet = models.ForeignKey(Outlet, verbose_name=_("outlet"), on_delete=models.PROTECT,
                               related_name="spot_checks")
    area_code = models.CharField(max_length=CODE_WIDTH, editable=False)
    sampled = models.JSONField(_("sampled waybills"), default=list)
    findings = models.JSONField(_("findings"), default=list, blank=True)
    result = models.CharField(_("result"), max_length=10, choices=SpotCheckResult.choices,
                              blank=True)
    note = models.TextField(_("note"), blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    checked_at = models.DateTimeField(_("checked at"), null=True, blank=True)

    objects = OutletChildQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("spot check")
        verbose_name_plural = _("spot checks")

    def __str__(self):
        return f"spot check {self.pk}"


class Penalty(models.Model):
    """An administrative penalty decided against an outlet (or its company)."""

    outlet = models.ForeignKey(Outlet, verbose_name=_("outlet"), on_delete=models.PROTECT,
                               related_name="penalties")
    area_code = models.CharField(max_length=CODE_WIDTH, editable=False)
    decided_on = models.DateField(_("decided on"))
    decision_no = models.CharField(_("decision number"), max_length=60)
    basis = models.CharField(_("legal basis"), max_length=200)
    amount = models.DecimalField(_("fine (yuan)"), max_digits=12, decimal_places=2,
                                 null=True, blank=True)
    note = models.TextField(_("note"), blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="+")

    objects = OutletChildQuerySet.as_manager()

    class Meta:
        ordering = ["-decided_on"]
        verbose_name = _("penalty")
        verbose_name_plural = _("penalties")

    def __str__(self):
        return self.decision_no
