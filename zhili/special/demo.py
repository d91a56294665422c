"""Demo special populations: a realistic share of the demo city's persons under management in
the six categories, with helper teams (the 四个一 for mental disorder patients), a year of
visits (some records overdue now), risk changes, lost contacts, releases and a few handovers
waiting for an answer. Written in bulk (not through the services) so the demo builds in
seconds; the rows are the ones the services would have written.

Persons come from the people demo (`people.Person`); when there are none, a few hundred are
created in the demo town with valid ID numbers (GB 11643 check digit).
"""

from __future__ import annotations

import datetime as dt
import random

from django.db import transaction
from django.utils import timezone

from zhili.areas.choices import AreaLevel
from zhili.core import codes, pii, workflow
from zhili.core.pii.validation import id_check_digit
from zhili.core.services import ServiceError
from zhili.people.models import Person
from zhili.special.builtin import CATEGORIES
from zhili.special.choices import (
    HandoverState,
    HelperRole,
    ManagementLevel,
    ReleaseReason,
    RiskScale,
    SupervisionState,
)
from zhili.special.fields import FieldDef, clean_details, definitions_of
from zhili.special.handovers import common_ancestor
from zhili.special.models import (
    Handover,
    HandoverTransition,
    HelperMember,
    RiskChange,
    SpecialCategory,
    Supervision,
    SupervisionTransition,
    Visit,
)
from zhili.special.services import plan_next_visit

SEED = 31000
SHARE = 0.006  # people under management per resident (all six categories together)
CAPS = {"small": 2500, "city": 15000}
WEIGHTS = {"mental": 30, "released": 22, "drug": 18, "correction": 14, "youth": 11, "cult": 5}
DANGER = ([str(n) for n in range(6)], [28, 26, 20, 15, 8, 3])
HML = (["low", "medium", "high"], [60, 30, 10])
HOME_TOWN = "320612001"  # 金沙街道: where the demo users work
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾萧田董袁潘于蒋蔡"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华建国红玉兰海燕志文斌鹏宇浩然"
FINDINGS = {
    "mental": ["按时服药，情绪稳定，家属监护到位", "病情稳定，已提醒按时复诊",
               "近期睡眠差，已联系社区医生", "家属反映偶有言语冲动，加强看护",
               "拒绝服药，已联系监护人督促"],
    "youth": ["在校表现良好，与监护人沟通", "已介绍参加职业技能培训",
              "近期与不良青年来往，已谈心教育"],
    "drug": ["尿检阴性，按期报到", "工作稳定，家属配合", "未按时报到，电话督促"],
    "released": ["已找到工作，思想稳定", "生活困难，已协调临时救助", "按期参加帮教座谈"],
    "correction": ["按时报到，参加公益活动", "电子定位正常，无违规", "思想汇报按时提交"],
    "cult": ["思想稳定，未发现参与活动", "参加社区活动，转化巩固", "家属配合教育，情况平稳"],
}
# Text fields get a plausible value; optional ones not listed here stay empty (a "reason for
# absconding" without an absconding would read oddly).
TEXT = {"sentence": ["有期徒刑三年", "有期徒刑一年六个月", "有期徒刑五年", "拘役六个月"],
        "prison": ["江苏省南通监狱", "江苏省通州监狱", "南通市看守所"],
        "detention_place": ["南通市看守所", "南通市通州区看守所"],
        "crime": ["盗窃罪", "故意伤害罪", "危险驾驶罪", "诈骗罪"],
        "case_category": ["050100", "040100", "020600"],
        "hospital": ["南通市第四人民医院", "南通市安康医院", "如皋市第三人民医院"],
        "rehab_org": ["南通市残疾人康复中心", "社区康复站"],
        "organisation": ["某邪教组织"],
        "help": ["落实帮扶责任人，定期谈心", "协调就业岗位", "纳入临时救助"],
        "measures": ["定期谈心教育，家属配合", "组织参加社区活动"],
        "cause": ["好奇", "交友不慎"], "consequence": ["身体受损"]}


def _name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))


def _id_number(rng: random.Random, area_code: str, birth: dt.date, male: bool) -> str:
    seq = rng.randrange(0, 100) * 10 + rng.choice([1, 3, 5, 7, 9] if male else [0, 2, 4, 6, 8])
    body = f"{area_code[:6]}{birth:%Y%m%d}{seq:03d}"
    return body + id_check_digit(body)


def _phone(rng: random.Random) -> str:
    return rng.choice(["138", "139", "150", "151", "187", "189"]) + f"{rng.randrange(10**8):08d}"


def _persons(rng: random.Random, areas: dict, today: dt.date) -> list[Person]:
    """A few hundred residents of the demo town, when the people demo made none."""
    grids = sorted((a for a in areas.values() if a.level == AreaLevel.GRID and
                    a.code.startswith(HOME_TOWN)), key=lambda a: a.code) or \
        sorted((a for a in areas.values() if a.level >= AreaLevel.VILLAGE),
               key=lambda a: a.code)
    people = []
    for i in range(300):
        area = grids[i % len(grids)]
        male = rng.random() < 0.55
        birth = today - dt.timedelta(days=rng.randrange(14 * 365, 75 * 365))
        person = Person(name=_name(rng), sex="1" if male else "2", birth_date=birth, area=area,
                        area_code=area.code)
        pii.assign(person, "id_number", _id_number(rng, area.code, birth, male))
        pii.assign(person, "phone", _phone(rng))
        people.append(person)
    return Person.objects.bulk_create(people, batch_size=500)


def _value(rng: random.Random, d: FieldDef, today: dt.date, start: dt.date):
    if d.type == "text":
        if d.name == "correction_no":
            return f"320612{rng.randrange(10**10):010d}"
        if d.name not in TEXT:
            return "情况正常" if d.required else None
        return rng.choice(TEXT[d.name])[: d.max_length]
    if d.type == "date":
        if d.not_before:  # after its partner (set first: definitions list it earlier)
            return None
        return (start - dt.timedelta(days=rng.randrange(30, 3 * 365))).isoformat()
    if d.type == "bool":
        return rng.random() < 0.1
    if d.type == "int":
        return rng.randrange(0, 4)
    options = list(d.options())
    if d.type == "choice":
        return rng.choice(options)
    return rng.sample(options, min(len(options), rng.choice((1, 2))))


def _details(rng: random.Random, category: SpecialCategory, defs: list[FieldDef],
             today: dt.date, start: dt.date) -> dict:
    data = {}
    for d in defs:
        if d.required or rng.random() < 0.5:
            value = _value(rng, d, today, start)
            if value is not None:
                data[d.name] = value
    for d in defs:  # a date that cannot precede another comes after it
        if d.not_before and d.not_before in data and (d.required or rng.random() < 0.5):
            base = dt.date.fromisoformat(data[d.not_before])
            later = base + dt.timedelta(days=rng.randrange(1, 3 * 365))
            data[d.name] = min(later, today).isoformat() if d.past else later.isoformat()
    if category.code == "correction":  # the term runs around now
        begin = start - dt.timedelta(days=rng.randrange(0, 200))
        data["correction_start"] = begin.isoformat()
        data["correction_end"] = (begin + dt.timedelta(days=rng.randrange(365, 3 * 365))
                                  ).isoformat()
    try:
        return clean_details(defs, data, today=today)
    except ServiceError:
        return clean_details(defs, {k: v for k, v in data.items()
                                    if any(d.name == k and d.required for d in defs)},
                             today=today)


def _level_for(scale: str, risk: str) -> str:
    if scale == RiskScale.DANGER:
        n = int(risk)
        return ManagementLevel.STRICT if n >= 3 else ManagementLevel.KEY if n >= 1 else \
            ManagementLevel.GENERAL
    return {"high": ManagementLevel.STRICT, "medium": ManagementLevel.KEY}.get(
        risk, ManagementLevel.GENERAL)


def _moment(day: dt.date, rng: random.Random) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(rng.randrange(8, 18),
                                                                rng.randrange(60))))


def _team(rng: random.Random, record: Supervision, roles: list[str]) -> list[HelperMember]:
    members = []
    for role in roles or [HelperRole.CADRE]:
        member = HelperMember(supervision=record, role=role, name=_name(rng),
                              relation="父母" if role == HelperRole.GUARDIAN else "",
                              org={"doctor": "社区卫生服务中心", "police": "派出所",
                                   "judicial": "司法所"}.get(role, ""))
        pii.assign(member, "phone", _phone(rng))
        members.append(member)
    return members


@transaction.atomic
def build_special(*, scale: str, areas: dict, orgs: dict, today: dt.date) -> int:
    """Put a share of the demo persons under management; returns the records created."""
    if Supervision.objects.exists():
        return 0  # idempotent: generated once
    rng = random.Random(SEED)
    categories = {c.code: c for c in SpecialCategory.objects.filter(code__in=list(CATEGORIES))}
    if len(categories) < len(CATEGORIES):
        return 0
    defs = {code: definitions_of(c) for code, c in categories.items()}
    persons = list(Person.objects.filter(is_active=True).order_by("id").values_list(
        "id", "area_id", "area_code"))
    if not persons:
        persons = [(p.pk, p.area_id, p.area_code) for p in _persons(rng, areas, today)]
    target = min(CAPS.get(scale, CAPS["small"]), max(60, int(len(persons) * SHARE)))
    # The demo town gets a fifth of them, so its users' pages are lively — and the demo grid
    # worker's grid (the town's first) a handful.
    home = [p for p in persons if p[2].startswith(HOME_TOWN)]
    first_grid = min((p[2] for p in home), default="")
    grid = [p for p in home if p[2] == first_grid]
    chosen = rng.sample(grid, min(len(grid), 8))
    taken = {p[0] for p in chosen}
    home = [p for p in home if p[0] not in taken]
    chosen += rng.sample(home, min(len(home), max(0, target // 5 - len(chosen))))
    taken = {p[0] for p in chosen}
    rest = [p for p in persons if p[0] not in taken]
    chosen += rng.sample(rest, min(len(rest), target - len(chosen)))
    from zhili.accounts.models import Position

    visitors = {}
    for position in Position.objects.filter(role__code__in=["grid_worker", "grid_leader"],
                                            is_active=True).select_related("user"):
        visitors.setdefault(position.area_code, position.user)
    now = timezone.now()
    codes_, weights = zip(*WEIGHTS.items(), strict=True)
    records, plans = [], []
    for person_id, area_id, area_code in chosen:
        category = categories[rng.choices(codes_, weights)[0]]
        values, w = DANGER if category.risk_scale == RiskScale.DANGER else HML
        risk = rng.choices(values, w)[0]
        started = today - dt.timedelta(days=rng.randrange(20, 3 * 365))
        record = Supervision(person_id=person_id, category=category, area_id=area_id,
                             area_code=area_code, level=_level_for(category.risk_scale, risk),
                             risk_level=risk, started_on=started,
                             details=_details(rng, category, defs[category.code], today,
                                              started),
                             created_at=_moment(started, rng))
        records.append(record)
        plans.append(_plan(rng, record, today, now))
    _write(rng, records, plans, now, visitors, areas)
    return len(records)


def _plan(rng: random.Random, record: Supervision, today: dt.date, now) -> dict:
    """What happened to the record: its visits, a release, a lost contact, a risk change."""
    interval = record.category.visit_interval(record.level)
    released = rng.random() < 0.08
    end = today - dt.timedelta(days=rng.randrange(0, 300)) if released else today
    end = max(end, record.started_on + dt.timedelta(days=1))
    # One record in eight stopped being visited a while ago: it is overdue now.
    lapse = 0 if released or rng.random() > 0.12 else rng.randrange(interval, 3 * interval)
    day = max(record.started_on, today - dt.timedelta(days=365))
    visits = []
    while True:
        day += dt.timedelta(days=max(1, int(interval * rng.uniform(0.6, 1.0))))
        if day > end - dt.timedelta(days=lapse) or day > today:
            break
        at = _moment(day, rng)
        if at < now:
            visits.append(at)
    return {"visits": visits, "released": end if released else None,
            "lost": not released and rng.random() < 0.02,
            "risk_change": rng.random() < 0.15}


def _write(rng, records, plans, now, visitors, areas) -> None:
    from zhili.core.models import EscalationStep

    ladder = list(EscalationStep.objects.filter(workflow="special.supervision")
                  .order_by("level").values_list("after_minutes", flat=True))
    for record, plan in zip(records, plans, strict=True):
        if plan["released"]:
            record.state = SupervisionState.RELEASED
            record.released_on = plan["released"]
            record.release_reason = rng.choice([ReleaseReason.TERM_ENDED,
                                                ReleaseReason.RISK_CLEARED,
                                                ReleaseReason.CUSTODY])
            record.last_visit_at = plan["visits"][-1] if plan["visits"] else None
            continue
        record.last_visit_at = plan["visits"][-1] if plan["visits"] else None
        plan_next_visit(record, record.last_visit_at or record.created_at)
        if record.deadline_at <= now:
            record.overdue = record.ever_overdue = record.warned = True
            late = (now - record.deadline_at).total_seconds() / 60
            record.escalation_level = sum(1 for after in ladder if after <= late)
        elif record.warn_at <= now:
            record.warned = True
        if plan["lost"]:
            record.lost_contact = True
            record.lost_contact_since = now - dt.timedelta(days=rng.randrange(1, 40))
    Supervision.objects.bulk_create(records, batch_size=500)
    helpers, visits, transitions, risks = [], [], [], []
    for record, plan in zip(records, plans, strict=True):
        helpers += _team(rng, record, record.category.team_roles)
        risks.append(RiskChange(supervision=record, from_level="", to_level=record.risk_level,
                                reason="列管", actor_name="demo", created_at=record.created_at))
        transitions.append(SupervisionTransition(
            supervision=record, action="intake", from_state="", to_state="active",
            actor_name="demo", created_at=record.created_at))
        visitor = visitors.get(record.area_code)
        texts = FINDINGS.get(record.category.code, ["情况正常"])
        for at in plan["visits"]:
            method = rng.choices(["home", "phone", "video"], [70, 25, 5])[0]
            findings = rng.choice(texts)
            visits.append(Visit(supervision=record, category=record.category,
                                area_code=record.area_code, visitor=visitor,
                                visitor_name=visitor.display_name if visitor else
                                f"网格员{_name(rng)}", visited_at=at, method=method,
                                findings=findings, created_at=at))
            transitions.append(SupervisionTransition(
                supervision=record, action="visit", from_state="active", to_state="active",
                reason=findings, actor_name="demo", created_at=at))
        if plan["risk_change"] and plan["visits"]:
            choices = [k for k, _label in record.category.risk_choices()
                       if k != record.risk_level]
            old = rng.choice(choices)
            risks[-1].to_level = old  # it was assessed differently at intake
            at = plan["visits"][len(plan["visits"]) // 2]
            risks.append(RiskChange(supervision=record, from_level=old,
                                    to_level=record.risk_level, reason="随访评估调整",
                                    actor_name="demo", created_at=at))
            transitions.append(SupervisionTransition(
                supervision=record, action="risk", from_state="active", to_state="active",
                reason="随访评估调整", actor_name="demo", created_at=at,
                data={"from": old, "to": record.risk_level}))
        if record.lost_contact:
            transitions.append(SupervisionTransition(
                supervision=record, action="lost_contact", from_state="active",
                to_state="active", reason="多次上门未见，电话无法接通", actor_name="demo",
                created_at=record.lost_contact_since))
        if record.state == SupervisionState.RELEASED:
            transitions.append(SupervisionTransition(
                supervision=record, action="release", from_state="active", to_state="released",
                actor_name="demo", created_at=_moment(record.released_on, rng),
                data={"reason": record.release_reason}))
    HelperMember.objects.bulk_create(helpers, batch_size=1000)
    Visit.objects.bulk_create(visits, batch_size=2000)
    SupervisionTransition.objects.bulk_create(transitions, batch_size=2000)
    RiskChange.objects.bulk_create(risks, batch_size=2000)
    _handovers(rng, [r for r in records if r.state == SupervisionState.ACTIVE], areas, now)


def _handovers(rng, active: list[Supervision], areas: dict, now) -> None:
    """A few handovers waiting for an answer (some into the demo town), one disputed."""
    towns = sorted((a for a in areas.values() if a.level == AreaLevel.TOWN),
                   key=lambda a: a.code)
    home = next((a for a in towns if a.code == codes.pad(HOME_TOWN)), towns[0])
    villages = {}
    for area in areas.values():
        if area.level == AreaLevel.VILLAGE:
            villages.setdefault(area.code[:9], []).append(area)
    outside = [r for r in active if not r.area_code.startswith(HOME_TOWN)]
    inside = [r for r in active if r.area_code.startswith(HOME_TOWN)]
    picks = [(r, home) for r in rng.sample(outside, min(4, len(outside)))]
    picks += [(r, rng.choice(towns)) for r in rng.sample(inside, min(3, len(inside)))]
    for n, (record, town) in enumerate(picks):
        candidates = villages.get(town.code[:9]) or [town]
        target = rng.choice(candidates)
        if target.code == record.area_code:
            continue
        proposed = now - dt.timedelta(hours=rng.randrange(2, 96))
        handover = Handover(supervision=record, from_area_id=record.area_id,
                            from_area_code=record.area_code, to_area=target,
                            to_area_code=target.code,
                            arbiter_area=common_ancestor(record.area_code, target.code),
                            reason="本人已搬迁至新住址居住", proposed_at=proposed)
        workflow.set_deadline(handover, step="answer", start=proposed, amount=5,
                              unit="work_days")
        disputed = n == 0
        if disputed:
            handover.state = HandoverState.DISPUTED
            handover.answered_at, handover.answer_note = proposed + dt.timedelta(hours=1), \
                "经核实该人员未在本辖区居住"
            workflow.set_deadline(handover, step="arbitrate", start=handover.answered_at,
                                  amount=5, unit="work_days")
        handover.save()
        HandoverTransition.objects.create(handover=handover, action="propose", from_state="",
                                          to_state="pending", actor_name="demo",
                                          reason=handover.reason, created_at=proposed)
        if disputed:
            HandoverTransition.objects.create(handover=handover, action="dispute",
                                              from_state="pending", to_state="disputed",
                                              actor_name="demo", reason=handover.answer_note,
                                              created_at=handover.answered_at)
        Supervision.objects.filter(pk=record.pk).update(
            state=SupervisionState.HANDING_OVER, pending_area_code=target.code)
        SupervisionTransition.objects.create(
            supervision=record, action="handover_proposed", from_state="active",
            to_state="handing_over", actor_name="demo", reason=handover.reason,
            created_at=proposed, data={"handover": handover.pk, "to": target.code})
