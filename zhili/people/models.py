"""People and places (一标三实): buildings, houses, the resident population and units.

Field names follow GB/T 31000-2015 (the common person block 1–19 of T12–T22, T9 楼栋, T16 出租房,
T23/T24 units). ID numbers, phone numbers and detailed addresses are `EncryptedTextField`s with a
blind index where they must be found exactly; services write them with `pii.assign()`.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from zhili.core.codes import CODE_WIDTH
from zhili.core.pii import EncryptedTextField, blind_index_field
from zhili.core.scoping import ScopedQuerySet


class PersonQuerySet(ScopedQuerySet):
    """Persons are seen by the area subtree of their current residence (现住地)."""


class Person(models.Model):
    """One natural person known to the registry (实有人口), keyed by ID number when known.

    The common block of GB/T 31000 (fields 1–19); residency facts (户籍/流动/留守/境外) and
    special-population management live in their own tables and point here."""

    # 1 公民身份号码 (GB 11643), encrypted; found through its blind index. Foreigners (T15) may
    # carry another document instead: id_type (GA/T 517) says which.
    id_type = models.CharField(_("ID document type"), max_length=3, default="111")
    id_number = EncryptedTextField(_("ID number"), kind="id_number", blank=True, null=True)
    id_number_bidx = blind_index_field()
    name = models.CharField(_("name"), max_length=50)  # 2
    former_name = models.CharField(_("former name"), max_length=50, blank=True)  # 3
    sex = models.CharField(_("sex"), max_length=1, blank=True)  # 4 GB/T 2261.1
    birth_date = models.DateField(_("birth date"), null=True, blank=True)  # 5
    ethnicity = models.CharField(_("ethnicity"), max_length=2, blank=True)  # 6 GB/T 3304
    native_place = models.CharField(_("native place"), max_length=6, blank=True)  # 7 GB/T 2260
    marital_status = models.CharField(_("marital status"), max_length=2, blank=True)  # 8
    political_status = models.CharField(_("political status"), max_length=2, blank=True)  # 9
    education = models.CharField(_("education"), max_length=2, blank=True)  # 10 GB/T 4658
    religion = models.CharField(_("religion"), max_length=2, blank=True)  # 11 GA 214.12
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
    lng = models.DecimalField(_("longitude"), max_digits=11, decimal_places=7, null=True,
                              blank=True)
    lat = models.DecimalField(_("latitude"), max_digits=10, decimal_places=7, null=True,
                              blank=True)
    is_active = models.BooleanField(_("active"), default=True,
                                    help_text=_("Cleared when the person moves away or dies."))
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
                       ("import_person", "Can import persons")]
        indexes = [
            models.Index(fields=["id_number_bidx"], name="person_id_bidx"),
            models.Index(fields=["phone_bidx"], name="person_phone_bidx"),
            models.Index(fields=["area_code", "name"], name="person_area_name"),
        ]

    def __str__(self):
        return self.name
