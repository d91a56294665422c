"""The area tree: city → county → town → village/community → grid."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from zhili.areas.choices import (
    AreaChangeKind,
    AreaLevel,
    AreaStatus,
    CommunityType,
    UrbanRural,
)
from zhili.areas.querysets import AreaQuerySet
from zhili.core import codes


class Area(models.Model):
    """One node of the division tree (统计用区划), or a grid under a village/community.

    `code` is the 15-character padded code; every scoped row elsewhere copies it into its own
    indexed `area_code`, so subtree filters never join this table.
    """

    code = models.CharField(_("code"), max_length=codes.CODE_WIDTH)
    name = models.CharField(_("name"), max_length=100)
    level = models.PositiveSmallIntegerField(_("level"), choices=AreaLevel.choices)
    parent = models.ForeignKey(
        "self", verbose_name=_("parent"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="children",
    )
    urban_rural = models.CharField(
        _("urban-rural class"), max_length=3, choices=UrbanRural.choices, blank=True
    )
    community_type = models.CharField(
        _("community type"), max_length=20, choices=CommunityType.choices, blank=True
    )
    polygon = models.JSONField(_("boundary (GeoJSON)"), null=True, blank=True)
    center_lng = models.DecimalField(
        _("centre longitude"), max_digits=9, decimal_places=6, null=True, blank=True
    )
    center_lat = models.DecimalField(
        _("centre latitude"), max_digits=9, decimal_places=6, null=True, blank=True
    )
    # Bounding box of the polygon: a cheap index filter before the exact point-in-polygon test.
    bbox_west = models.FloatField(null=True, blank=True, editable=False)
    bbox_south = models.FloatField(null=True, blank=True, editable=False)
    bbox_east = models.FloatField(null=True, blank=True, editable=False)
    bbox_north = models.FloatField(null=True, blank=True, editable=False)
    geometry_synthetic = models.BooleanField(
        _("synthetic geometry"), default=False,
        help_text=_("The boundary was generated for demonstration, not surveyed."),
    )
    status = models.CharField(
        _("status"), max_length=10, choices=AreaStatus.choices, default=AreaStatus.ACTIVE
    )
    valid_from = models.DateField(_("valid from"), default=timezone.localdate)
    valid_to = models.DateField(_("valid to"), null=True, blank=True)
    successor = models.ForeignKey(
        "self", verbose_name=_("successor"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="predecessors",
        help_text=_("For a merged area: the area it was merged into."),
    )
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords(excluded_fields=["polygon", "updated_at", "bbox_west",
                                                 "bbox_south", "bbox_east", "bbox_north"])
    objects = AreaQuerySet.as_manager()

    class Meta:
        ordering = ["code"]
        verbose_name = _("area")
        verbose_name_plural = _("areas")
        permissions = [
            ("merge_area", _("Can merge, split and retire areas")),
            ("import_area", _("Can import and export the area tree")),
        ]
        # A constraint rather than unique=True: on PostgreSQL, unique=True also builds a
        # varchar_pattern_ops index for LIKE, which subtree ranges never use (docs/benchmarks.md).
        constraints = [models.UniqueConstraint(fields=["code"], name="areas_area_code_uniq")]
        indexes = [models.Index(fields=["level", "code"]), models.Index(fields=["name"]),
                   models.Index(fields=["level", "bbox_west", "bbox_east"])]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("areas:detail", args=[self.pk])

    @property
    def prefix(self) -> str:
        return codes.prefix_of(self.code, self.level)

    @property
    def short_code(self) -> str:
        return codes.display(self.code, self.level)

    @property
    def is_active(self) -> bool:
        return self.status == AreaStatus.ACTIVE

    @property
    def area_code(self) -> str:
        # Lets the audit and scoping helpers treat an area like any other scoped row.
        return self.code

    def ancestors(self) -> list[Area]:
        """Parent chain from the root, fetched in one query by code prefixes."""
        prefixes = [codes.pad(codes.prefix_of(self.code, rank)) for rank in range(self.level)]
        return list(Area.objects.filter(code__in=prefixes).order_by("level"))

    def set_polygon(self, polygon: dict | None) -> None:
        """Set the boundary and its bounding box together."""
        from zhili.areas.geo import bbox

        self.polygon = polygon
        self.bbox_west, self.bbox_south, self.bbox_east, self.bbox_north = \
            bbox(polygon) if polygon else (None, None, None, None)

    @property
    def is_community(self) -> bool:
        return self.level == AreaLevel.VILLAGE and codes.is_residents_committee(self.code)


class AreaChange(models.Model):
    """A dated boundary change (区划调整) people can look back on: what became what, when."""

    area = models.ForeignKey(Area, on_delete=models.PROTECT, related_name="changes")
    kind = models.CharField(max_length=16, choices=AreaChangeKind.choices)
    effective_on = models.DateField(_("effective on"))
    old_code = models.CharField(max_length=codes.CODE_WIDTH, blank=True)
    new_code = models.CharField(max_length=codes.CODE_WIDTH, blank=True)
    related = models.ForeignKey(
        Area, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    note = models.CharField(_("note"), max_length=500, blank=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("boundary change")
        verbose_name_plural = _("boundary changes")

    def __str__(self):
        return f"{self.get_kind_display()} {self.old_code}→{self.new_code}"


class Rezoning(models.Model):
    """A pending or finished rewrite of live rows from one code prefix to another."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    change = models.ForeignKey(AreaChange, on_delete=models.PROTECT, related_name="rezonings")
    old_prefix = models.CharField(max_length=codes.CODE_WIDTH)
    new_prefix = models.CharField(max_length=codes.CODE_WIDTH)
    old_area_id = models.BigIntegerField(null=True, blank=True)
    new_area_id = models.BigIntegerField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    rows_moved = models.PositiveBigIntegerField(default=0)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]

    def __str__(self):
        return f"{self.old_prefix}→{self.new_prefix} ({self.status})"
