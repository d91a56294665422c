from django.db import models
from django.utils.translation import gettext_lazy as _

from zhili.core.codes import LEVELS


class AreaLevel(models.IntegerChoices):
    PROVINCE = 0, _("Province")
    CITY = 1, _("City")
    COUNTY = 2, _("County/district")
    TOWN = 3, _("Town/street")
    VILLAGE = 4, _("Village/community")
    GRID = 5, _("Grid")


assert [level.rank for level in LEVELS] == list(AreaLevel.values)

LEVEL_KEYS = {level.rank: level.key for level in LEVELS}
LEVEL_BY_NAME = {level.key: level.rank for level in LEVELS}


class UrbanRural(models.TextChoices):
    """城乡分类代码 of the national statistical division codes."""

    MAIN_URBAN = "111", _("111 Main urban area")
    URBAN_FRINGE = "112", _("112 Urban-rural fringe")
    TOWN_CENTRE = "121", _("121 Town centre")
    TOWN_FRINGE = "122", _("122 Town-rural fringe")
    SPECIAL = "123", _("123 Special area")
    TOWNSHIP_CENTRE = "210", _("210 Township centre")
    VILLAGE = "220", _("220 Village")


class CommunityType(models.TextChoices):
    """四类社区 of the grid-governance practice, plus "other"."""

    NEW_ESTATE = "new_estate", _("New residential estate")
    OLD_ESTATE = "old_estate", _("Old residential estate")
    RESETTLEMENT = "resettlement", _("Resettlement estate")
    MIGRANT = "migrant", _("Migrant-worker concentrated area")
    OTHER = "other", _("Other")


class AreaStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    RETIRED = "retired", _("Retired")


class AreaChangeKind(models.TextChoices):
    CREATED = "created", _("Created")
    UPDATED = "updated", _("Updated")
    RECODED = "recoded", _("Code changed")
    MOVED = "moved", _("Moved to another parent")
    MERGED = "merged", _("Merged into another area")
    SPLIT = "split", _("Split")
    RETIRED = "retired", _("Retired")
