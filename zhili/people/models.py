"""People and places (一标三实): buildings, houses, the resident population and units.

Field names follow GB/T 31000-2015 (the common person block 1–19 of T12–T22, T9 楼栋, T16 出租房,
T23/T24 units). ID numbers, phone numbers and detailed addresses are `EncryptedTextField`s with a
blind index where they must be found exactly; services write them with `pii.assign()`.
Coded fields hold the codes of `codes.py` (the labels are translated where they are shown).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from simple_history.models import HistoricalRecords

from zhili.core.codes import CODE_WIDTH
from zhili.core.pii import EncryptedTextField, blind_index_field
from zhili.people import codes
from zhili.people.choices import HouseRelation, InactiveReason, ResidencyKind, UnitKind
from zhili.people.fields import EncryptedJSONField
from zhili.people.querysets import (
    BuildingQuerySet,
    HouseQuerySet,
    PersonQuerySet,
    ResidencyQuerySet,
    UnitQuerySet,
)


def _coords():
    return (
        models.DecimalField(_("longitude"), max_digits=11, decimal_places=7, null=True,
                            blank=True),
        models.DecimalField(_("latitude"), max_digits=10, decimal_places=7, null=True,
                            blank=True),
    )


class Building(models.Model):
    """A residential or mixed building (楼栋) and its building leader (楼栋长), GB/T 31000 T9."""

    estate = models.CharField(_("estate or unit"), max_length=100,
                              help_text=_("The residential estate (小区) or unit it belongs to."))
    name = models.CharField(_("building"), max_length=50)
    area = models.ForeignKey("areas.Area", verbose_name=_("area"), on_delete=models.PROTECT,
                             related_name="+")
    area_code = models.CharField(max_length=CODE_WIDTH, editable=False)
    address = models.CharField(_("address"), max_length=200, blank=True)
    floor_area = models.DecimalField(_("floor area (m²)"), max_digits=10, decimal_places=2,
                                     null=True, blank=True)
    floors = models.PositiveSmallIntegerField(_("floors"))
    units = models.PositiveSmallIntegerField(_("entrances (units)"), default=1)
    households = models.PositiveIntegerField(_("households"), null=True, blank=True)
    leader_name = models.CharField(_("building leader"), max_length=50, blank=True)
    leader_phone = EncryptedTextField(_("building leader's phone"), kind="phone", blank=True,
                                      null=True)
    lng, lat = _coords()
    is_active = models.BooleanField(_("active"), default=True)
    note = models.TextField(_("note"), blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = BuildingQuerySet.as_manager()
    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        ordering = ["area_code", "estate", "name", "id"]
        verbose_name = _("building")
        verbose_name_plural = _("buildings")
        indexes = [models.Index(fields=["area_code", "estate"], name="building_area_estate")]

    def __str__(self):
        return f"{self.estate} {self.name}"

    def get_absolute_url(self):
        return reverse("people:building_detail", args=[self.pk])


class House(models.Model):
    """A dwelling or premises (房屋); a rental one (出租房, T16) carries its owner and use.

    Its tenants are the persons linked to it with the relation "tenant"."""

    number = models.CharField(_("house number"), max_length=50,
                              help_text=_("E.g. 3-2-501 (building-entrance-room)."))
    address = EncryptedTextField(_("address"), kind="address", blank=True, null=True)
    building = models.ForeignKey(Building, verbose_name=_("building"), null=True, blank=True,
                                 on_delete=models.SET_NULL, related_name="houses")
    area = models.ForeignKey("areas.Area", verbose_name=_("area"), on_delete=models.PROTECT,
                             related_name="+")
    area_code = models.CharField(max_length=CODE_WIDTH, editable=False)
    use = models.CharField(_("use"), max_length=2, blank=True, choices=codes.BuildingUse.choices)
    floor_area = models.DecimalField(_("floor area (m²)"), max_digits=10, decimal_places=2,
                                     null=True, blank=True)
    is_rental = models.BooleanField(_("rented out"), default=False)
    owner_name = models.CharField(_("owner"), max_length=50, blank=True)
    owner_id_type = models.CharField(_("owner's ID document type"), max_length=3, blank=True,
                                     choices=codes.IdType.choices)
    owner_id_number = EncryptedTextField(_("owner's ID number"), kind="id_number", blank=True,
                                         null=True)
    owner_id_number_bidx = blind_index_field()
    owner_phone = EncryptedTextField(_("owner's phone"), kind="phone", blank=True, null=True)
    owner_address = EncryptedTextField(_("owner's address"), kind="address", blank=True,
                                       null=True)
    rental_use = models.CharField(_("rental use"), max_length=2, blank=True,
                                  choices=codes.RentalUse.choices)
    hazard = models.CharField(_("hazard"), max_length=2, blank=True,
                              choices=codes.RentalHazard.choices)
    lng, lat = _coords()
    is_active = models.BooleanField(_("active"), default=True)
    note = models.TextField(_("note"), blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = HouseQuerySet.as_manager()
    history = HistoricalRecords(excluded_fields=["updated_at", "owner_id_number_bidx"])

    class Meta:
        ordering = ["area_code", "number", "id"]
        verbose_name = _("house")
        verbose_name_plural = _("houses")
        indexes = [
            models.Index(fields=["area_code", "number"], name="house_area_number"),
            models.Index(fields=["owner_id_number_bidx"], name="house_owner_bidx"),
            models.Index(fields=["area_code", "is_rental"], name="house_area_rental"),
        ]

    def __str__(self):
        if self.building_id:
            return f"{self.building} {self.number}"
        return self.number

    def get_absolute_url(self):
        return reverse("people:house_detail", args=[self.pk])


class Person(models.Model):
    """One natural person known to the registry (实有人口), keyed by ID number when known.

    The common block of GB/T 31000 (fields 1–19); residency facts (户籍/流动/留守/境外) and
    special-population management live in their own tables and point here."""

    # 1 公民身份号码 (GB 11643), encrypted; found through its blind index. Foreigners (T15) may
    # carry another document instead: id_type (GA/T 517) says which.
    id_type = models.CharField(_("ID document type"), max_length=3, default="111",
                               choices=codes.IdType.choices)
    id_number = EncryptedTextField(_("ID number"), kind="id_number", blank=True, null=True)
    id_number_bidx = blind_index_field()
    name = models.CharField(_("name"), max_length=50)  # 2
    former_name = models.CharField(_("former name"), max_length=50, blank=True)  # 3
    sex = models.CharField(_("sex"), max_length=1, blank=True,
                           choices=codes.Sex.choices)  # 4 GB/T 2261.1
    birth_date = models.DateField(_("birth date"), null=True, blank=True)  # 5
    ethnicity = models.CharField(_("ethnicity"), max_length=2, blank=True,
                                 choices=codes.Ethnicity.choices)  # 6 GB/T 3304
    native_place = models.CharField(_("native place"), max_length=6, blank=True)  # 7 GB/T 2260
    marital_status = models.CharField(_("marital status"), max_length=2, blank=True,
                                      choices=codes.MaritalStatus.choices)  # 8
    political_status = models.CharField(_("political status"), max_length=2, blank=True,
                                        choices=codes.PoliticalStatus.choices)  # 9
    education = models.CharField(_("education"), max_length=2, blank=True,
                                 choices=codes.Education.choices)  # 10 GB/T 4658
    religion = models.CharField(_("religion"), max_length=2, blank=True,
                                choices=codes.Religion.choices)  # 11 GA 214.12
    occupation_class = models.CharField(_("occupation class"), max_length=5, blank=True)  # 12
    occupation = models.CharField(_("occupation"), max_length=30, blank=True)  # 13
    workplace = models.CharField(_("workplace"), max_length=100, blank=True)  # 14 服务处所
    phone = EncryptedTextField(_("contact phone"), kind="phone", blank=True, null=True)  # 15
    phone_bidx = blind_index_field()
    registered_place = models.CharField(_("registered place"), max_length=6, blank=True)  # 16
    registered_address = EncryptedTextField(_("registered address"), kind="address",
                                            blank=True, null=True)  # 17
    # 18/19 现住地: the area tree gives the place (down to the grid); the detail is encrypted.
    area = models.ForeignKey("areas.Area", verbose_name=_("current residence area"),
                             on_delete=models.PROTECT, related_name="+")
    area_code = models.CharField(max_length=CODE_WIDTH, editable=False)
    current_address = EncryptedTextField(_("current address"), kind="address", blank=True,
                                         null=True)  # 19
    house = models.ForeignKey(House, verbose_name=_("house"), null=True, blank=True,
                              on_delete=models.SET_NULL, related_name="residents")
    house_relation = models.CharField(_("lives there as"), max_length=10, blank=True,
                                      choices=HouseRelation.choices)
    lng = models.DecimalField(_("longitude"), max_digits=11, decimal_places=7, null=True,
                              blank=True)
    lat = models.DecimalField(_("latitude"), max_digits=10, decimal_places=7, null=True,
                              blank=True)
    is_active = models.BooleanField(_("active"), default=True,
                                    help_text=_("Cleared when the person moves away or dies."))
    inactive_reason = models.CharField(_("reason"), max_length=12, blank=True,
                                       choices=InactiveReason.choices)
    inactive_on = models.DateField(_("since"), null=True, blank=True)
    note = models.TextField(_("note"), blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = PersonQuerySet.as_manager()
    history = HistoricalRecords(excluded_fields=["updated_at", "id_number_bidx", "phone_bidx"])

    class Meta:
        ordering = ["area_code", "name", "id"]
        verbose_name = _("person")
        verbose_name_plural = _("persons")
        permissions = [("unmask_person", "Can unmask personal data of persons"),
                       ("import_person", "Can import persons"),
                       ("export_person", "Can export persons")]
        indexes = [
            models.Index(fields=["id_number_bidx"], name="person_id_bidx"),
            models.Index(fields=["phone_bidx"], name="person_phone_bidx"),
            models.Index(fields=["area_code", "name"], name="person_area_name"),
        ]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("people:person_detail", args=[self.pk])


class Residency(models.Model):
    """One residency fact of a person (GB/T 31000 T12 户籍, T13 流动, T14 留守, T15 境外).

    A person has at most one of each kind. What is searched or counted is a column; the rest
    is the kind's `details` (see `details.RESIDENCY`), encrypted as one document. The fields
    used by a kind are listed there; the others stay empty."""

    person = models.ForeignKey(Person, verbose_name=_("person"), on_delete=models.CASCADE,
                               related_name="residencies")
    kind = models.CharField(_("kind"), max_length=12, choices=ResidencyKind.choices)
    # A copy of the person's area code, kept in step when the person moves (scoping).
    area_code = models.CharField(max_length=CODE_WIDTH, editable=False)
    household_match = models.CharField(_("living at the registered address"), max_length=2,
                                       blank=True, choices=codes.HouseholdMatch.choices)
    relation = models.CharField(_("relationship"), max_length=2, blank=True,
                                choices=codes.Relationship.choices)
    related_name = models.CharField(_("related person"), max_length=50, blank=True)
    related_id_number = EncryptedTextField(_("related person's ID number"), kind="id_number",
                                           blank=True, null=True)
    related_id_number_bidx = blind_index_field()
    related_phone = EncryptedTextField(_("related person's phone"), kind="phone", blank=True,
                                       null=True)
    inflow_reason = models.CharField(_("reason for moving here"), max_length=2, blank=True,
                                     choices=codes.InflowReason.choices)
    permit_type = models.CharField(_("residence permit type"), max_length=2, blank=True,
                                   choices=codes.PermitType.choices)
    document_type = models.CharField(_("document type"), max_length=3, blank=True,
                                     choices=codes.IdType.choices)
    document_number = EncryptedTextField(_("document number"), kind="document", blank=True,
                                         null=True)
    document_number_bidx = blind_index_field()
    registered_on = models.DateField(_("registered or arrived on"), null=True, blank=True)
    document_expires_on = models.DateField(_("document expires on"), null=True, blank=True)
    leaves_on = models.DateField(_("expected to leave on"), null=True, blank=True)
    residence_type = models.CharField(_("type of residence"), max_length=2, blank=True,
                                      choices=codes.ResidenceType.choices)
    is_key_person = models.BooleanField(_("needs attention"), default=False)
    left_behind_type = models.CharField(_("left-behind group"), max_length=2, blank=True,
                                        choices=codes.LeftBehindType.choices)
    health = models.CharField(_("health"), max_length=2, blank=True,
                              choices=codes.Health.choices)
    nationality = models.CharField(_("nationality"), max_length=3, blank=True)
    visit_purpose = models.CharField(_("purpose of stay"), max_length=2, blank=True,
                                     choices=codes.VisitPurpose.choices)
    details = EncryptedJSONField(_("details"))
    is_active = models.BooleanField(_("current"), default=True)
    ended_on = models.DateField(_("ended on"), null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ResidencyQuerySet.as_manager()
    history = HistoricalRecords(excluded_fields=["updated_at", "related_id_number_bidx",
                                                 "document_number_bidx"])

    class Meta:
        ordering = ["person_id", "kind"]
        verbose_name = _("residency fact")
        verbose_name_plural = _("residency facts")
        constraints = [models.UniqueConstraint(fields=["person", "kind"],
                                               name="residency_person_kind_uniq")]
        indexes = [
            models.Index(fields=["area_code", "kind"], name="residency_area_kind"),
            models.Index(fields=["document_number_bidx"], name="residency_document_bidx"),
        ]

    def __str__(self):
        return f"{self.person} · {self.get_kind_display()}"

    def get_absolute_url(self):
        return reverse("people:person_detail", args=[self.person_id])


class Unit(models.Model):
    """A non-public enterprise (非公有制经济组织, T23) or a social organisation (社会组织, T24)."""

    kind = models.CharField(_("kind"), max_length=12, choices=UnitKind.choices)
    uscc = models.CharField(_("unified social credit code"), max_length=18, blank=True)
    name = models.CharField(_("name"), max_length=200)
    area = models.ForeignKey("areas.Area", verbose_name=_("area"), on_delete=models.PROTECT,
                             related_name="+")
    area_code = models.CharField(max_length=CODE_WIDTH, editable=False)
    address = models.CharField(_("address"), max_length=200)
    phone = models.CharField(_("phone"), max_length=50, blank=True)
    employees = models.PositiveIntegerField(_("employees"), null=True, blank=True)
    legal_rep_name = models.CharField(_("legal representative"), max_length=80)
    legal_rep_id_type = models.CharField(_("legal representative's ID document type"),
                                         max_length=3, default="111",
                                         choices=codes.IdType.choices)
    legal_rep_id_number = EncryptedTextField(_("legal representative's ID number"),
                                             kind="id_number", blank=True, null=True)
    legal_rep_id_number_bidx = blind_index_field()
    legal_rep_phone = EncryptedTextField(_("legal representative's phone"), kind="phone",
                                         blank=True, null=True)
    security_name = models.CharField(_("security officer"), max_length=50, blank=True)
    security_phone = EncryptedTextField(_("security officer's phone"), kind="phone",
                                        blank=True, null=True)
    category = models.CharField(_("type"), max_length=2, blank=True)  # 5.44 or 5.47 by kind
    is_hazardous_chemicals = models.BooleanField(_("handles hazardous chemicals"),
                                                 default=False)
    hazard = models.CharField(_("safety hazard"), max_length=2, blank=True,
                              choices=codes.SafetyHazard.choices)
    attention = models.CharField(_("attention level"), max_length=2,
                                 choices=codes.Attention.choices, default="03")
    has_party_org = models.BooleanField(_("has a CPC organisation"), default=False)
    details = models.JSONField(_("details"), default=dict, blank=True)
    lng, lat = _coords()
    is_active = models.BooleanField(_("active"), default=True)
    note = models.TextField(_("note"), blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = UnitQuerySet.as_manager()
    history = HistoricalRecords(excluded_fields=["updated_at", "legal_rep_id_number_bidx"])

    class Meta:
        ordering = ["area_code", "name", "id"]
        verbose_name = pgettext_lazy("organisation", "unit")
        verbose_name_plural = pgettext_lazy("organisation", "units")
        constraints = [models.UniqueConstraint(fields=["uscc"], condition=~Q(uscc=""),
                                               name="unit_uscc_uniq")]
        indexes = [models.Index(fields=["area_code", "kind"], name="unit_area_kind"),
                   models.Index(fields=["legal_rep_id_number_bidx"], name="unit_rep_bidx")]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("people:unit_detail", args=[self.pk])

    def category_label(self) -> str:
        table = codes.EnterpriseType if self.kind == UnitKind.ENTERPRISE else codes.SocialOrgType
        return table.label(self.category)
