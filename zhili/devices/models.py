"""Devices: cameras (雪亮工程), X-ray screening machines, recorders and gates, each placed in an
area and usually at an organisation (a courier outlet, a community). The video and command
centre modules extend this registry; the courier module links scans and evidence to it."""

from __future__ import annotations

from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from zhili.core.codes import CODE_WIDTH
from zhili.core.scoping import ScopedQuerySet
from zhili.devices.choices import DeviceKind, DeviceStatus


class DeviceQuerySet(ScopedQuerySet):
    """Area users see the devices of their subtree; organisation staff those of their
    organisation (an outlet its own cameras and machines)."""

    scope_area_field = "area_code"
    scope_org_field = "org"


class Device(models.Model):
    kind = models.CharField(_("kind"), max_length=8, choices=DeviceKind.choices)
    code = models.CharField(_("device code"), max_length=40, unique=True,
                            help_text=_("GB/T 28181 20-digit code for cameras, recorders and "
                                        "gates; the maker's serial number for X-ray machines."))
    name = models.CharField(_("name"), max_length=100)
    org = models.ForeignKey("orgs.Organisation", verbose_name=_("organisation"), null=True,
                            blank=True, on_delete=models.PROTECT, related_name="devices")
    area = models.ForeignKey("areas.Area", verbose_name=_("area"), on_delete=models.PROTECT,
                             related_name="+")
    area_code = models.CharField(max_length=CODE_WIDTH, editable=False)
    parent = models.ForeignKey("self", verbose_name=_("recorder"), null=True, blank=True,
                               on_delete=models.SET_NULL, related_name="channels",
                               help_text=_("The recorder (NVR) a camera is a channel of."))
    manufacturer = models.CharField(_("manufacturer"), max_length=60, blank=True)
    model = models.CharField(_("model"), max_length=60, blank=True)
    address = models.CharField(_("installed at"), max_length=200, blank=True)
    lat = models.DecimalField(_("latitude"), max_digits=9, decimal_places=6, null=True,
                              blank=True)
    lng = models.DecimalField(_("longitude"), max_digits=9, decimal_places=6, null=True,
                              blank=True)
    status = models.CharField(_("status"), max_length=8, choices=DeviceStatus.choices,
                              default=DeviceStatus.ONLINE)
    last_seen_at = models.DateTimeField(_("last seen"), null=True, blank=True)
    installed_on = models.DateField(_("installed on"), null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    objects = DeviceQuerySet.as_manager()

    class Meta:
        ordering = ["area_code", "kind", "code"]
        verbose_name = _("device")
        verbose_name_plural = _("devices")
        indexes = [models.Index(fields=["area_code", "kind"]),
                   models.Index(fields=["org", "kind"])]

    def __str__(self):
        return f"{self.name} ({self.code})"

    def get_absolute_url(self):
        return reverse("devices:detail", args=[self.pk])
