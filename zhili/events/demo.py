"""A year of demo events across the city: seasonal categories, the channel mix, realistic
step times, a few returns, reworks, reopenings, overdue and supervised ones, duplicates, and a
set of open events in every inbox. Written in bulk (not through the services) so the demo
builds in seconds; the histories it writes are the ones the services would have written."""

from __future__ import annotations

import datetime as dt
import math
import random
from decimal import Decimal

from django.utils import timezone

from zhili.areas.choices import AreaLevel
from zhili.core import codes, workflow
from zhili.events import rules
from zhili.events.choices import Channel, EventState, Satisfaction, Step
from zhili.events.models import (
    Event,
    EventAssignment,
    EventCategory,
    EventTransition,
    RoutingRule,
)
from zhili.events.stats import rebuild_all

SEED = 3206
COUNTS = {"small": 6000, "city": 40000}
CHANNELS = [(Channel.GRID, 55), (Channel.HOTLINE, 20), (Channel.WEB, 10), (Channel.PUBLIC, 10),
            (Channel.DEVICE, 5)]
# category code → (weight, peak month), peak 0 = no season
WEIGHTS = {
    "street-vending": (9, 7), "illegal-building": (4, 0), "clutter": (8, 0),
    "illegal-ads": (4, 0), "garbage": (12, 7), "sewage": (4, 7), "noise": (7, 7),
    "burning": (2, 11), "road-damage": (5, 3), "manhole": (1, 0), "street-light": (4, 12),
    "utilities": (3, 1), "fire-hazard": (6, 1), "ebike-charging": (4, 1), "gas-hazard": (1, 1),
    "dangerous-building": (1, 7), "group-rental": (3, 0), "public-order": (3, 0),
    "neighbour-dispute": (6, 0), "family-dispute": (2, 2), "labour-dispute": (2, 1),
    "property-dispute": (4, 0), "assistance": (3, 1), "consultation": (2, 0),
}
TEXTS = {
    "street-vending": ["{p}路口有流动摊贩占道经营，影响通行", "{p}人行道被夜市摊位占用"],
    "illegal-building": ["{p}有住户在楼顶私自搭建彩钢棚", "{p}院内违章加盖房屋"],
    "clutter": ["{p}楼下乱堆建筑垃圾和杂物", "{p}绿化带里堆放大量杂物"],
    "illegal-ads": ["{p}墙面张贴大量小广告", "{p}电线杆上乱贴牛皮癣广告"],
    "garbage": ["{p}垃圾桶满溢无人清运，气味很大", "{p}生活垃圾堆积两天未清理"],
    "sewage": ["{p}下水道堵塞污水外溢", "{p}有商户向雨水管排放污水"],
    "noise": ["{p}夜间施工噪音扰民", "{p}广场舞音响声音太大影响休息"],
    "burning": ["{p}有人露天焚烧垃圾冒浓烟", "{p}农田焚烧秸秆"],
    "road-damage": ["{p}路面出现大坑，车辆通行危险", "{p}道路塌陷开裂"],
    "manhole": ["{p}窨井盖缺失，行人有跌落风险", "{p}井盖破损下陷"],
    "street-light": ["{p}一排路灯晚上不亮", "{p}路灯灯杆倾斜"],
    "utilities": ["{p}水管爆裂大量漏水", "{p}小区停电多时未恢复"],
    "fire-hazard": ["{p}楼道堆物堵塞消防通道", "{p}消防栓无水、灭火器过期"],
    "ebike-charging": ["{p}有住户从楼上飞线给电动车充电", "{p}楼道里给电动车充电"],
    "gas-hazard": ["{p}闻到明显煤气味，疑似泄漏", "{p}餐馆液化气罐摆放不规范"],
    "dangerous-building": ["{p}老房子外墙开裂有倒塌危险", "{p}围墙倾斜随时可能倒塌"],
    "group-rental": ["{p}一套房子隔成多间出租，人员复杂", "{p}疑似群租房，进出人员多"],
    "public-order": ["{p}夜间有人聚集斗殴", "{p}发现可疑人员多次撬车"],
    "neighbour-dispute": ["{p}楼上楼下因漏水发生纠纷", "{p}邻居占用公共过道引发争吵"],
    "family-dispute": ["{p}老人赡养问题子女发生争执", "{p}夫妻矛盾激烈需要调解"],
    "labour-dispute": ["{p}工地农民工讨要拖欠工资", "{p}公司拖欠员工三个月工资"],
    "property-dispute": ["{p}小区电梯长期故障物业不修", "{p}业主与物业因停车费纠纷"],
    "assistance": ["{p}独居老人生活困难需要帮扶", "{p}残疾人家庭申请救助"],
    "consultation": ["{p}居民咨询医保办理流程", "{p}群众咨询低保申请条件"],
}
PLACES = ["幸福路", "人民路", "青年路", "工农路", "长江路", "和平桥", "菜市场", "学校门口",
          "3号楼", "12栋", "公交站", "小区东门", "农贸市场", "文化广场", "河边"]
# category group → county department key (see DemoBuilder.COUNTY_DEPARTMENTS)
ROUTES = {"city": "urban", "environment": "ecology", "facilities": "housing",
          "safety": "emergency", "order": "police", "service": "civil"}
HOUR = 3600


def _routing(orgs, areas) -> None:
    """County rules per category group, town rules for disputes (司法所), labour to 人社局."""
    groups = {c.code: c for c in EventCategory.objects.filter(parent__isnull=True)}
    counties = [a for a in areas.values() if a.level == AreaLevel.COUNTY]
    rules_new = []
    for county in counties:
        for group, key in ROUTES.items():
            org = orgs.get(f"{county.code}.{key}")
            for category in groups[group].children.all():
                if org is not None:
                    rules_new.append(RoutingRule(area=county, area_code=county.code,
                                                 category=category, lead_org=org))
        labour = EventCategory.objects.get(code="labour-dispute")
        rules_new.append(RoutingRule(area=county, area_code=county.code, category=labour,
                                     lead_org=orgs[f"{county.code}.labour"]))
    for town in (a for a in areas.values() if a.level == AreaLevel.TOWN):
        rules_new.append(RoutingRule(area=town, area_code=town.code, category=None,
                                     lead_org=orgs[f"{town.code}.justice"],
                                     note="矛盾纠纷默认由司法所主办"))
    RoutingRule.objects.bulk_create(rules_new, batch_size=1000)


def _when(rng: random.Random, today: dt.date, peak: int) -> dt.datetime:
    while True:
        day = today - dt.timedelta(days=int(rng.random() ** 1.3 * 365))
        if peak and rng.random() > 0.55 + 0.45 * math.cos((day.month - peak) / 12 * 2 * math.pi):
            continue
        hour = rng.choices(range(24), weights=[1, 1, 1, 1, 1, 2, 4, 8, 12, 14, 13, 10, 8, 11,
                                               13, 12, 11, 9, 7, 6, 5, 3, 2, 1])[0]
        moment = timezone.make_aware(
            dt.datetime.combine(day, dt.time(hour, rng.randrange(60), rng.randrange(60))))
        return moment if moment < timezone.now() else moment - dt.timedelta(days=1)


def build_events(*, scale: str, areas: dict, orgs: dict, today: dt.date) -> int:
    if Event.objects.exists():
        return 0  # idempotent: events are generated once
    rng = random.Random(SEED)
    _routing(orgs, areas)
    categories = {c.code: c for c in EventCategory.objects.filter(parent__isnull=False)}
    codes_, weights = zip(*[(c, w[0]) for c, w in WEIGHTS.items() if c in categories],
                          strict=True)
    grids = sorted((a for a in areas.values() if a.level == AreaLevel.GRID), key=lambda a: a.code)
    home_grid = areas[codes.pad("320612001001001")] if codes.pad("320612001001001") in areas \
        else grids[0]
    from zhili.accounts.models import User

    worker = User.objects.filter(username="grid.worker").first()
    home_town_grids = [g for g in grids if g.code.startswith("320612001")] or grids
    now = timezone.now()
    events, histories = [], []
    for i in range(COUNTS[scale]):
        code = rng.choices(codes_, weights)[0]
        category = categories[code]
        # Every tenth event lands in the demo town so its users' inboxes are lively.
        fresh = i >= COUNTS[scale] - 12  # the last few arrived minutes ago: open work
        grid = rng.choice(home_town_grids) if i % 10 == 0 or fresh else rng.choice(grids)
        reported = now - dt.timedelta(minutes=rng.uniform(3, 90)) if fresh else \
            _when(rng, today, WEIGHTS[code][1])
        lng = rng.uniform(grid.bbox_west, grid.bbox_east)
        lat = rng.uniform(grid.bbox_south, grid.bbox_north)
        channel = rng.choices([c for c, _ in CHANNELS], [w for _, w in CHANNELS])[0]
        text = rng.choice(TEXTS[code]).format(p=rng.choice(PLACES))
        event = Event(title=text[:40], description=text, category=category,
                      urgency=category.default_urgency, channel=channel, area=grid,
                      area_code=grid.code, lat=Decimal(f"{lat:.6f}"), lng=Decimal(f"{lng:.6f}"),
                      address=f"{grid.parent.name}{rng.choice(PLACES)}",
                      owner_level=category.handling_level, reported_at=reported,
                      reporter=worker if channel == Channel.GRID and grid == home_grid else None,
                      reporter_name=rng.choice(["张", "王", "李", "陈", "刘", "周"]) +
                      rng.choice(["先生", "女士", "网格员"]),
                      category_confirmed=True)
        events.append(event)
        histories.append(_life(rng, event, now))
    _finish(events, histories, now)
    rebuild_all()
    return len(events)


def _life(rng: random.Random, event: Event, now) -> list[tuple]:
    """Decide what happened to the event; returns [(action, from, to, at, reason)]."""
    S = EventState
    at = event.reported_at
    steps = [("report", "", S.REPORTED, at, "")]
    spent: dict[str, int] = {}

    def move(action, src, dst, hours, reason="", step=None):
        nonlocal at
        seconds = int(hours * HOUR)
        at = at + dt.timedelta(seconds=seconds)
        if step:
            spent[step] = spent.get(step, 0) + seconds
        steps.append((action, src, dst, at, reason))

    if rng.random() < 0.08 and event.channel == Channel.GRID:
        event.solved_on_spot = True
        move("solve_on_spot", S.REPORTED, S.CLOSED, 0.2)
        event.state, event.closed_at = S.CLOSED, at
        return steps
    if rng.random() < 0.02:
        move("reject", S.REPORTED, S.REJECTED, rng.uniform(0.1, 1), "不属于受理范围", Step.ACCEPT)
        event.state = S.REJECTED
        return steps
    # The whole life is drawn; steps still in the future are cut off at the end, so the
    # recent events are the open ones, each in the step it would be in now.
    reach = 6
    slow = rng.random() < 0.12
    if reach >= 1:
        move("accept", S.REPORTED, S.ACCEPTED, rng.uniform(0.05, 0.6), "", Step.ACCEPT)
        event.accepted_at = at
    if reach >= 2:
        move("dispatch", S.ACCEPTED, S.DISPATCHED, rng.uniform(0.2, 2.5), "", Step.DISPATCH)
        event.dispatched_at = at
        if rng.random() < 0.05:
            move("send_back", S.DISPATCHED, S.RETURNED, rng.uniform(0.5, 3), "非本单位职责",
                 Step.SIGN)
            move("dispatch", S.RETURNED, S.DISPATCHED, rng.uniform(0.2, 2), "重新派遣",
                 Step.ARBITRATE)
            event.return_count = 1
    if reach >= 3:
        move("sign", S.DISPATCHED, S.HANDLING, rng.uniform(0.2, 3), "", Step.SIGN)
        event.signed_at = at
    if reach >= 4:
        handle = rng.uniform(3, 40) * (4 if slow else 1)
        move("finish", S.HANDLING, S.HANDLED, handle, "已处置完毕", Step.HANDLE)
        event.handled_at = at
        if rng.random() < 0.04:
            move("verify_fail", S.HANDLED, S.HANDLING, rng.uniform(2, 20), "现场核查未整改到位",
                 Step.VERIFY)
            move("finish", S.HANDLING, S.HANDLED, rng.uniform(4, 30), "已再次处置", Step.HANDLE)
            event.rework_count = 1
    if reach >= 5:
        move("verify_ok", S.HANDLED, S.VERIFIED, rng.uniform(1, 20), "现场核查属实", Step.VERIFY)
        event.verified_at = at
    if reach >= 6:
        move("close", S.VERIFIED, S.CLOSED, rng.uniform(0.1, 1.5), "", Step.CLOSE)
        event.closed_at = at
        if rng.random() < 0.7:
            rating = rng.choices([Satisfaction.SATISFIED, Satisfaction.BASICALLY,
                                  Satisfaction.UNSATISFIED], [80, 15, 5])[0]
            move("evaluate", S.CLOSED, S.CLOSED, rng.uniform(2, 48), "回访")
            event.satisfaction, event.evaluated_at = rating, at
    # A history running into the future stops at the last step already taken.
    event.state = [s for s in steps if s[3] <= now][-1][2]
    for name in ("accepted_at", "dispatched_at", "signed_at", "handled_at", "verified_at",
                 "closed_at", "evaluated_at"):
        if (getattr(event, name) or now) > now:
            setattr(event, name, None)
    if event.evaluated_at is None:
        event.satisfaction = ""
    event.step_seconds = spent
    event.ever_overdue = slow and rng.random() < 0.8
    return steps


def _finish(events: list[Event], histories: list[list[tuple]], now) -> None:
    """Numbers, lead organisations and running clocks (before the insert), then assignments,
    transitions and a few supervision orders."""
    from zhili.core.models import EscalationStep
    from zhili.events.choices import STEP_OF_STATE

    ladder = list(EscalationStep.objects.filter(workflow="events.event").order_by("level")
                  .values_list("after_minutes", flat=True))
    rules_by_place = {(r.area_code, r.category_id): r.lead_org_id
                      for r in RoutingRule.objects.filter(is_active=True)}

    def lead_org(event):  # demo rules sit at town and county level only
        town = codes.pad(event.area_code[:9])
        county = codes.pad(event.area_code[:6])
        for key in ((town, event.category_id), (town, None), (county, event.category_id),
                    (county, None)):
            if key in rules_by_place:
                return rules_by_place[key]
        return None

    for index, (event, steps) in enumerate(zip(events, histories, strict=True), start=1):
        event.number = f"SJ{timezone.localtime(event.reported_at):%Y%m%d}{index:07d}"
        if event.state not in (EventState.REPORTED, EventState.REJECTED) and \
                not event.solved_on_spot:
            event.lead_org_id = lead_org(event)
        step = STEP_OF_STATE.get(event.state) if event.is_open else None
        if step:
            amount, unit = rules.time_limit(event.category, event.urgency, step)
            last = max(at for _, _, _, at, _ in steps if at <= now)
            workflow.set_deadline(event, step=step, start=last, amount=float(amount), unit=unit)
            if event.deadline_at <= now:
                event.overdue = event.ever_overdue = event.warned = True
                # The ladder rungs its lateness has already passed count as climbed.
                late = (now - event.deadline_at).total_seconds() / 60
                event.escalation_level = sum(1 for after in ladder if after <= late)
    Event.objects.bulk_create(events, batch_size=1000)
    transitions, assignments = [], []
    for event, steps in zip(events, histories, strict=True):
        if event.lead_org_id:
            assignments.append(EventAssignment(event=event, org_id=event.lead_org_id, role="lead",
                                               assigned_at=event.dispatched_at or
                                               event.reported_at))
        transitions.extend(EventTransition(event=event, action=action, from_state=src,
                                           to_state=dst, reason=reason, created_at=at,
                                           actor_name="demo")
                           for action, src, dst, at, reason in steps if at <= now)
    EventAssignment.objects.bulk_create(assignments, batch_size=2000)
    EventTransition.objects.bulk_create(transitions, batch_size=2000)
    from zhili.events.deadlines import issue_supervision

    for event in events:  # the "supervise" rung has passed for these: its order exists
        if event.escalation_level >= 2:
            issue_supervision(event, level=2)
