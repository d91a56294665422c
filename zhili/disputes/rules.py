"""Lookups the dispute services need: time limits, which body a case should go to, and who
must act now."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings

from zhili.accounts.models import User
from zhili.areas.models import Area
from zhili.core import codes
from zhili.disputes import codetables
from zhili.disputes.choices import DisputeState, Step
from zhili.disputes.models import Dispute, MediationBody
from zhili.events.rules import _holders

S = DisputeState
# Steps whose limit is not the body's own: (amount, unit).
LIMITS = {Step.ROUTE: (1, "work_days"), Step.SIGN: (5, "work_days")}
# After the performance deadline, the follow-up visit is due within this many days.
FOLLOW_UP_GRACE_DAYS = 7
# While the agreement is being performed, a follow-up at least this often.
FOLLOW_UP_EVERY_DAYS = 30


def group_threshold() -> int:
    """People involved from which a dispute counts as a group dispute (群体性)."""
    return int(getattr(settings, "ZHILI_DISPUTE_GROUP_SIZE", 5))


def major_group_threshold() -> int:
    return int(getattr(settings, "ZHILI_DISPUTE_MAJOR_GROUP_SIZE", 50))


def scale_of(people_count: int) -> str:
    """GB/T 31000 5.55 from the number of people involved."""
    if people_count >= major_group_threshold():
        return "03"
    return "02" if people_count >= group_threshold() else "01"


def time_limit(dispute: Dispute, step: str) -> tuple[float, str]:
    body = dispute.body
    if step == Step.ACCEPT:
        return (body.accept_days if body else 3), "work_days"
    if step == Step.MEDIATE:
        return (body.mediate_days if body else 30), "days"
    return LIMITS.get(step, (1, "work_days"))


# --- routing ----------------------------------------------------------------------------------

@dataclass
class Candidate:
    body: MediationBody
    specificity: int  # 4: the type's item, 2: its group, 0: a body taking every type
    depth: int  # level of the body's area: a closer body is deeper
    full: bool

    @property
    def reason(self) -> str:
        from django.utils.translation import gettext as _

        if self.specificity:
            return _("specialises in this type")
        return _("takes every type in its area")


def candidates(type_code: str, area: Area) -> list[Candidate]:
    """Bodies that serve the type in the area, best first: the most specific in type, then the
    closest, then the least loaded (a full body is listed last, not hidden)."""
    prefixes = [codes.pad(area.code[:level.digits]) for level in codes.LEVELS
                if level.digits <= len(area.prefix)]
    found = []
    for body in MediationBody.objects.active().filter(area_code__in=prefixes).select_related(
            "org", "org__area"):
        if not codetables.serves_type(body.type_codes, type_code):
            continue
        specificity = max((len(p) for p in body.type_codes if type_code.startswith(p)),
                          default=0)
        found.append(Candidate(body, specificity, body.org.area.level,
                               body.open_cases >= body.capacity > 0))
    found.sort(key=lambda c: (c.full, -c.specificity, -c.depth, c.body.load, c.body.pk))
    return found


def propose(type_code: str, area: Area) -> MediationBody | None:
    found = candidates(type_code, area)
    return found[0].body if found else None


# --- who must act -----------------------------------------------------------------------------

def routing_area(dispute: Dispute) -> Area:
    """The area whose centre routes the case now (the town by default; higher when escalated)."""
    level = max(1, min(dispute.owner_level, dispute.area.level))
    return Area.objects.get(code=codes.pad(codes.prefix_of(dispute.area_code, level)))


def dispatchers(dispute: Dispute, *, level_up: int = 0) -> list[User]:
    centre = routing_area(dispute)
    level = max(1, centre.level - level_up)
    return _holders("disputes.route_dispute",
                    area_code=codes.pad(codes.prefix_of(dispute.area_code, level)))


def mediators(dispute: Dispute) -> list[User]:
    if not dispute.body_id:
        return []
    return _holders("disputes.mediate_dispute", org_ids=[dispute.body.org_id])


def holders(dispute: Dispute) -> list[User]:
    if dispute.state == S.REGISTERED:
        return dispatchers(dispute)
    if dispute.state in (S.ASSIGNED, S.MEDIATING, S.AGREED, S.PERFORMING):
        return mediators(dispute)
    return []


def supervisors(dispute: Dispute) -> list[User]:
    """The routing centre oversees a body; the level above oversees the centre."""
    if dispute.state == S.REGISTERED:
        return dispatchers(dispute, level_up=1)
    return dispatchers(dispute)
