"""The registry's own choices (the standards' code tables are in `codes.py`)."""

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class ResidencyKind(models.TextChoices):
    """The four classes of the resident population (实有人口, GB/T 31000 T12–T15)."""

    REGISTERED = "registered", _("Registered resident")  # 户籍人口 T12
    FLOATING = "floating", _("Floating resident")  # 流动人口 T13
    LEFT_BEHIND = "left_behind", _("Left-behind")  # 留守人员 T14
    FOREIGN = "foreign", _("Foreign national")  # 境外人员 T15


class HouseRelation(models.TextChoices):
    """How a person lives in the house they are linked to (tenants are the 承租人 of T16)."""

    OWNER = "owner", _("Owner")
    FAMILY = "family", _("Owner's family")
    TENANT = "tenant", _("Tenant")
    OTHER = "other", pgettext_lazy("house relation", "Other")


class InactiveReason(models.TextChoices):
    MOVED_AWAY = "moved_away", _("Moved away")
    DECEASED = "deceased", _("Deceased")
    DUPLICATE = "duplicate", _("Registered twice")
    OTHER = "other", pgettext_lazy("inactive reason", "Other")


class UnitKind(models.TextChoices):
    ENTERPRISE = "enterprise", _("Non-public enterprise")  # 非公有制经济组织 T23
    SOCIAL_ORG = "social_org", _("Social organisation")  # 社会组织 T24
