"""Area codes: the national statistical division code, widened to 15 characters for grids.

A code is stored zero-padded to CODE_WIDTH so that lexical order is tree order and every subtree
is one contiguous range: the subtree of an area is `code >= p AND code < next(p)`, where `p` is
the area's significant prefix (2 digits for a province, 4 for a city, 6 for a county, 9 for a
town, 12 for a village or community, all 15 for a grid). One B-tree range works on SQLite and
PostgreSQL alike; `LIKE 'p%'` does not use the index on SQLite.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Q
from django.utils.translation import gettext_lazy as _

CODE_WIDTH = 15


@dataclass(frozen=True)
class Level:
    rank: int  # 0 = province … 5 = grid
    key: str
    label: str
    digits: int  # significant digits


LEVELS = (
    Level(0, "province", _("Province"), 2),
    Level(1, "city", _("City"), 4),
    Level(2, "county", _("County/district"), 6),
    Level(3, "town", _("Town/street"), 9),
    Level(4, "village", _("Village/community"), 12),
    Level(5, "grid", _("Grid"), 15),
)
LEVEL_BY_KEY = {level.key: level for level in LEVELS}
LEVEL_BY_RANK = {level.rank: level for level in LEVELS}


class CodeError(ValueError):
    """A code that cannot be an area code at the given place in the tree."""


def pad(code: str) -> str:
    return code.ljust(CODE_WIDTH, "0")


def prefix_of(code: str, rank: int) -> str:
    """The significant prefix of a padded code at the level `rank`."""
    return code[: LEVEL_BY_RANK[rank].digits]


def next_prefix(prefix: str) -> str | None:
    """The smallest prefix of the same length that sorts after every extension of `prefix`.

    Incrementing digits (instead of appending a sentinel such as '~') keeps the bound independent
    of the database collation. None means "no upper bound" (prefix was all nines).
    """
    if set(prefix) == {"9"}:
        return None
    return str(int(prefix) + 1).zfill(len(prefix))


def range_q(field: str, prefix: str) -> Q:
    """A Q selecting rows whose `field` lies in the subtree of `prefix` (one index range)."""
    upper = next_prefix(prefix)
    condition = Q(**{f"{field}__gte": prefix})
    if upper is not None:
        condition &= Q(**{f"{field}__lt": upper})
    return condition


def in_subtree(code: str, prefix: str) -> bool:
    return code.startswith(prefix)


def normalize(raw: str | int) -> str:
    """Strip a user-typed code and pad it to full width; reject anything but digits."""
    text = str(raw).strip()
    if not text.isdigit():
        raise CodeError(_("An area code may contain digits only."))
    if len(text) > CODE_WIDTH:
        raise CodeError(_("An area code has at most %(n)d digits.") % {"n": CODE_WIDTH})
    return pad(text)


def check_child_code(code: str, *, rank: int, parent_code: str | None, parent_rank: int | None):
    """Check that the padded `code` is a well-formed code for a node at `rank` under its parent.

    Raises CodeError with a message a clerk can act on.
    """
    level = LEVEL_BY_RANK[rank]
    significant, rest = code[: level.digits], code[level.digits :]
    if len(code) != CODE_WIDTH or not code.isdigit():
        raise CodeError(_("An area code may contain digits only."))
    if rest.strip("0"):
        raise CodeError(
            _("A %(level)s code has %(n)d significant digits; the digits after them must be 0.")
            % {"level": level.label, "n": level.digits}
        )
    if parent_code is None:
        return
    if parent_rank is None or parent_rank != rank - 1:
        raise CodeError(_("An area must sit exactly one level below its parent."))
    parent_prefix = prefix_of(parent_code, parent_rank)
    if not significant.startswith(parent_prefix):
        raise CodeError(
            _("Code %(code)s does not extend its parent's code %(parent)s.")
            % {"code": significant, "parent": parent_prefix}
        )
    own_part = significant[len(parent_prefix) :]
    if not own_part.strip("0"):
        raise CodeError(
            _("The digits this level adds to the parent's code (%(part)s) cannot all be 0.")
            % {"part": own_part}
        )


def village_class(code: str) -> str:
    """'community' or 'village' from the committee digits (10–12) of a village-level code.

    NBS rules: 001–199 residents' committees and 400–499 similar units are communities;
    200–399 villagers' committees and 500–599 similar units are villages.
    """
    part = int(code[9:12])
    return "community" if part < 200 or 400 <= part < 500 else "village"


def is_residents_committee(code: str) -> bool:
    return village_class(code) == "community"


def display(code: str, rank: int) -> str:
    """The code as offices write it: at least 6 digits, else the level's significant digits."""
    return code[: max(6, LEVEL_BY_RANK[rank].digits)]
