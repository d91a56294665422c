"""Organisations: governance centres, departments, police stations, mediation bodies, courier
companies and outlets … Each sits in one area; some sit under a parent organisation."""

from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from zhili.core.codes import CODE_WIDTH
from zhili.core.memo import ttl_cache
from zhili.orgs.choices import OrgKind
from zhili.orgs.querysets import OrganisationQuerySet


class Organisation(models.Model):
    name = models.CharField(_("name"), max_length=200)
    short_name = models.CharField(_("short name"), max_length=60, blank=True)
    kind = models.CharField(_("kind"), max_length=20, choices=OrgKind.choices)
    area = models.ForeignKey(
        "areas.Area", verbose_name=_("area"), on_delete=models.PROTECT, related_name="orgs"
    )
    area_code = models.CharField(max_length=CODE_WIDTH, editable=False)
    parent = models.ForeignKey(
        "self", verbose_name=_("parent organisation"), null=True, blank=True,
        on_delete=models.PROTECT, related_name="children",
    )
    uscc = models.CharField(
        _("unified social credit code"), max_length=18, blank=True,
        help_text=_("统一社会信用代码, 18 characters."),
    )
    address = models.CharField(_("address"), max_length=200, blank=True)
    phone = models.CharField(_("office phone"), max_length=40, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords(excluded_fields=["updated_at"])
    objects = OrganisationQuerySet.as_manager()

    class Meta:
        ordering = ["area_code", "kind", "name"]
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")
        indexes = [models.Index(fields=["area_code"]), models.Index(fields=["kind", "area_code"])]
        constraints = [
            models.UniqueConstraint(fields=["area", "name"], name="uniq_org_name_in_area"),
        ]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("orgs:detail", args=[self.pk])

    def descendant_ids(self) -> frozenset[int]:
        """This organisation and every organisation under it (read at most every 30 s: every
        request of organisation staff needs it)."""
        return organisation_subtree(self.pk)


@ttl_cache(30)
def organisation_subtree(org_id: int) -> frozenset[int]:
    found, frontier = {org_id}, [org_id]
    while frontier:  # breadth-first; organisation trees are a few levels deep
        frontier = list(Organisation.objects.filter(parent_id__in=frontier)
                        .exclude(pk__in=found).values_list("pk", flat=True))
        found.update(frontier)
    return frozenset(found)
