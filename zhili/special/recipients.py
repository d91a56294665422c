"""Who is told what: the visitors of a record, its governance centre, the sides of a handover.

People are found by the positions they hold at the record's area or its ancestors, and the
permission their role gives for the job (record visits, manage records, handle handovers).
"""

from __future__ import annotations

from collections.abc import Iterable

from zhili.accounts.models import Position, User
from zhili.core import codes

TOWN, COUNTY, CITY = 3, 2, 1


def rank_of(code: str) -> int:
    """The level of a padded area code: the deepest level whose own digits are not all 0."""
    for level in reversed(codes.LEVELS):
        previous = codes.LEVEL_BY_RANK.get(level.rank - 1)
        start = previous.digits if previous else 0
        if code[start:level.digits].strip("0"):
            return level.rank
    return 0


def ancestor_code(code: str, rank: int) -> str:
    return codes.pad(codes.prefix_of(code, rank))


def holders(perm: str, area_codes: Iterable[str]) -> list[User]:
    """Active users with a position exactly at one of `area_codes` whose role holds `perm`."""
    app, codename = perm.split(".")
    wanted = sorted(set(area_codes))
    if not wanted:
        return []
    positions = Position.objects.active().filter(
        area_code__in=wanted, role__group__permissions__codename=codename,
        role__group__permissions__content_type__app_label=app)
    return list(User.objects.filter(pk__in=positions.values("user_id"), is_active=True)
                .only("id", "is_active", "is_service", "username"))


def _up_from(code: str, start_rank: int, perm: str) -> list[User]:
    """The holders at `start_rank` above `code`, else the next level up, up to the city."""
    rank = min(start_rank, rank_of(code))
    while rank >= CITY:
        found = holders(perm, [ancestor_code(code, rank)])
        if found:
            return found
        rank -= 1
    return []


def visitors(supervision) -> list[User]:
    """Who visits: holders of `special.add_visit` at the record's area and the village above
    it (grid workers, grid leaders), plus helper-team members with an account."""
    code = supervision.area_code
    rank = rank_of(code)
    places = [code] + ([ancestor_code(code, 4)] if rank > 4 else [])
    users = holders("special.add_visit", places)
    helpers = User.objects.filter(pk__in=supervision.helpers.filter(
        is_active=True, user__isnull=False).values("user_id"), is_active=True)
    return [*users, *helpers]


def centre(code: str, *, level_up: int = 0) -> list[User]:
    """The governance centre responsible for `code`: those who manage records
    (`special.change_supervision`) at its town, or `level_up` levels above."""
    return _up_from(code, TOWN - level_up, "special.change_supervision")


def handover_side(code: str) -> list[User]:
    """Those who answer handovers for an area: at the area's town, else above."""
    return _up_from(code, TOWN, "special.handover_supervision")


def arbiters(area_code: str, *, level_up: int = 0) -> list[User]:
    """Handover holders at the arbitrating level (or above)."""
    return _up_from(area_code, rank_of(area_code) - level_up, "special.handover_supervision")
