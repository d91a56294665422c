"""The statistics rollup, the page and the monthly report: the rollup agrees with the cases
counted one by one, the page shows it within the viewer's reach, and the workbook carries the
page's figures."""

import datetime as dt
import io
from collections import defaultdict
from decimal import Decimal

import pytest
from django.utils import timezone

from zhili.core import codes
from zhili.core.models import AuditLog, Job
from zhili.disputes import services, stats
from zhili.disputes.choices import ConfirmationResult
from zhili.disputes.deadlines import sweep_all
from zhili.disputes.models import Dispute, DisputeStat, DisputeStatDirty, JudicialConfirmation
from zhili.disputes.testing import register

pytestmark = pytest.mark.django_db

TODAY = dt.date.today


def _agreement(**overrides):
    values = {"facts": "患者术后感染。", "issues": "医疗费用由谁承担。",
              "terms": ["医院一次性赔偿张三人民币三万元。"], "performance_method": "银行转账",
              "performance_due": TODAY() + dt.timedelta(days=10)}
    return services.AgreementData(**{**values, **overrides})


def _mediated(m, **overrides):
    d = register(m, **overrides)
    d = services.route_dispute(actor=m.dispatcher, dispute=d, body=m.medical_body)
    return services.accept_dispute(actor=m.mediator_user, dispute=d,
                                   mediators=[m.mediator, m.mediator2])


def _cases(m):
    """A small mixed set: success with a valid judicial confirmation, failure, an overdue
    partial success, a withdrawal, a town case, an open group case in the next town, an
    unrouted case, and one in another county."""
    four_days_ago = timezone.now() - dt.timedelta(days=4, hours=3)
    late = _mediated(m, title="逾期纠纷", amount="1200.50")
    sweep_all(now=late.deadline_at + dt.timedelta(minutes=1))  # only this case is open
    assert Dispute.objects.get(pk=late.pk).ever_overdue
    services.conclude_dispute(actor=m.mediator_user, dispute=Dispute.objects.get(pk=late.pk),
                              outcome="partial", agreement=_agreement(form="oral"))

    won = _mediated(m, registered_at=four_days_ago, amount="30000")
    won = services.conclude_dispute(actor=m.mediator_user, dispute=won, outcome="success",
                                    agreement=_agreement())
    won = services.sign_agreement(actor=m.mediator_user, dispute=won, signatures=[
        {"name": "张三"}, {"name": "南通市某某医院"}, {"name": "王调解"}])
    confirmation = services.apply_for_confirmation(actor=m.mediator_user, dispute=won,
                                                   court="通州区人民法院")
    services.record_ruling(actor=m.mediator_user, confirmation=confirmation, result="valid")

    lost = _mediated(m, amount=None, channel="hotline")
    services.conclude_dispute(actor=m.mediator_user, dispute=lost, outcome="failure",
                              note="双方分歧较大", guidance="litigation")
    gone = _mediated(m, channel="court")
    services.conclude_dispute(actor=m.mediator_user, dispute=gone, outcome="withdrawn",
                              note="申请人撤回")

    town = register(m, type_code="0201", title="邻里漏水纠纷", amount="800")
    town = services.route_dispute(actor=m.dispatcher, dispute=town, body=m.town_body)
    town = services.accept_dispute(actor=m.town_mediator_user, dispute=town,
                                   mediators=[m.town_mediator])
    services.conclude_dispute(actor=m.town_mediator_user, dispute=town, outcome="success",
                              agreement=_agreement(form="oral"))

    register(m, actor=m.county_dispatcher, area=m.world.village_a2, people_count=8,
             title="群体性欠薪纠纷", type_code="0701", channel="hotline", amount="250000")
    register(m, title="尚未分流", amount="10")
    superuser = m.world.personas["superuser"].user
    register(m, actor=superuser, area=m.world.village_b1, title="外区纠纷", amount="99999")


def _expected() -> dict:
    """The rollup counted case by case in Python, {(month, dim, area code, key): counters}."""
    applied = defaultdict(lambda: [0, 0])
    for c in JudicialConfirmation.objects.all():
        applied[c.dispute_id][0] += 1
        applied[c.dispute_id][1] += c.result == ConfirmationResult.VALID
    out = defaultdict(lambda: dict.fromkeys(stats.COUNTERS, 0))
    for d in Dispute.objects.select_related("body", "lead_mediator"):
        month = timezone.localtime(d.registered_at).date().replace(day=1)
        rows = [("area", codes.pad(d.area_code[:12]), ""),
                ("type", codes.pad(d.area_code[:9]), d.stat_class),
                ("channel", codes.pad(d.area_code[:9]), d.channel)]
        if d.body:
            rows.append(("body", d.body.area_code, str(d.body_id)))
        if d.lead_mediator:
            rows.append(("mediator", d.lead_mediator.area_code, str(d.lead_mediator_id)))
        concluded = d.concluded_at is not None
        for dim, code, key in rows:
            t = out[month, dim, code, key]
            t["cases"] += 1
            t["concluded"] += concluded
            t["mediated"] += concluded and d.outcome in ("success", "partial", "failure")
            t["success"] += concluded and d.outcome in ("success", "partial")
            t["on_time"] += concluded and not d.ever_overdue
            t["group"] += d.is_group
            t["confirmations"] += applied[d.pk][0]
            t["confirmed_valid"] += applied[d.pk][1]
            t["days"] += (d.concluded_at - d.registered_at).days if concluded else 0
            t["amount"] += d.amount or 0
    return dict(out)


def _rollup() -> dict:
    return {(s.month, s.dim, s.area_code, s.key): {c: getattr(s, c) for c in stats.COUNTERS}
            for s in DisputeStat.objects.all()}


def test_the_rollup_equals_the_cases_counted_one_by_one(m):
    _cases(m)
    assert DisputeStatDirty.objects.exists()  # the services marked the months
    assert stats.rebuild_dirty() >= 1
    assert not DisputeStatDirty.objects.exists()
    expected = _expected()
    assert _rollup() == expected
    # The set really is mixed: each counter is exercised.
    total = {c: sum(t[c] for (_m, dim, _a, _k), t in expected.items() if dim == "area")
             for c in stats.COUNTERS}
    assert total["cases"] == 8 and total["concluded"] == 5 and total["mediated"] == 4
    assert total["success"] == 3 and total["on_time"] == 4 and total["group"] == 1
    assert total["confirmations"] == 1 and total["confirmed_valid"] == 1
    assert total["days"] == 4 and total["amount"] == Decimal("432009.50")
    assert stats.data_as_of() is not None


def test_rebuild_dirty_follows_the_sweep_and_clears_hand_marked_months(m):
    d = _mediated(m)
    stats.rebuild_dirty()
    month = timezone.localtime(d.registered_at).date().replace(day=1)
    assert DisputeStat.objects.get(month=month, dim="area").cases == 1
    # A month marked by hand whose cases are gone loses its rows.
    old = dt.date(2020, 1, 1)
    DisputeStat.objects.create(month=old, area_code=m.world.village_a1.code, dim="area",
                               cases=5)
    # The sweep flips ever_overdue with a bulk UPDATE and marks no month: `updated_at` tells.
    sweep_all(now=d.deadline_at + dt.timedelta(minutes=1))
    services.conclude_dispute(actor=m.mediator_user, dispute=Dispute.objects.get(pk=d.pk),
                              outcome="failure", note="未达成", guidance="litigation")
    DisputeStatDirty.objects.all().delete()
    stats.mark_dirty(timezone.make_aware(dt.datetime(2020, 1, 15)))
    assert stats.rebuild_dirty() == 2
    assert not DisputeStatDirty.objects.exists()
    assert not DisputeStat.objects.filter(month=old).exists()
    row = DisputeStat.objects.get(month=month, dim="area")
    assert (row.concluded, row.on_time, row.mediated, row.success) == (1, 0, 1, 0)


def test_summary_sums_the_rollup_within_reach(m):
    _cases(m)
    stats.rebuild_dirty()
    months = (TODAY() - dt.timedelta(days=40), TODAY())
    county = stats.summary(m.county_dispatcher, months=months, area_prefix="320612")
    t = county["totals"]
    assert (t["cases"], t["concluded"], t["success"], t["mediated"]) == (7, 5, 3, 4)
    assert t["success_rate"] == 75.0 and t["on_time_rate"] == 80.0 and t["avg_days"] == 0.8
    assert t["valid_rate"] == 100.0 and t["amount"] == Decimal("332010.50")
    assert [(r["name"], r["cases"]) for r in county["by_area"]] == [("金沙街道", 6),
                                                                    ("兴东街道", 1)]
    assert {r["name"]: r["cases"] for r in county["by_body"]} == {
        "通州区医患纠纷人民调解委员会": 4, "金沙街道人民调解委员会": 1}
    assert {r["name"]: r["cases"] for r in county["by_mediator"]} == {"王调解": 4, "赵调解": 1}
    assert {r["key"]: r["cases"] for r in county["by_channel"]} == {
        "walk_in": 4, "hotline": 2, "court": 1}
    assert {r["name"]: r["cases"] for r in county["by_type"]}["医疗纠纷"] == 5
    assert sum(r["cases"] for r in county["by_month"]) == 7
    # The town dispatcher: its villages only, whatever area it asks for.
    town = stats.summary(m.dispatcher, months=months)
    assert [(r["name"], r["cases"]) for r in town["by_area"]] == [("东市社区", 6)]
    assert stats.summary(m.dispatcher, months=months, area_prefix="320613")["totals"][
        "cases"] == 0
    assert stats.summary(m.world.personas["grid_worker"].user, months=months)["totals"][
        "cases"] == 0  # no statistics permission


def test_the_page_shows_the_figures_in_reach(m, client_for):
    _cases(m)
    stats.rebuild_dirty()
    client = client_for(m.dispatcher)
    response = client.get("/disputes/stats/")
    assert response.status_code == 200
    page = response.content.decode()
    assert 'data-testid="total-cases">6<' in page
    assert "东市社区" in page and "金沙街道人民调解委员会" in page and "赵调解" in page
    assert "医疗纠纷" in page and "echarts.min.js" in page
    for outside in ("崇川区", "城东社区", "兴东街道", "兴东村", "通州区医患纠纷人民调解委员会"):
        assert outside not in page, outside
    assert response.context["figures"]["as_of"] is not None
    # Another county's code is out of reach: missing, not empty.
    assert client.get("/disputes/stats/", {"area": m.world.county_b.code}).status_code == 404
    county = client_for(m.county_dispatcher).get("/disputes/stats/",
                                                 {"area": m.world.county_a.code})
    assert county.status_code == 200 and "兴东街道" in county.content.decode()
    assert county.context["figures"]["totals"]["cases"] == 7


def test_the_page_needs_the_statistics_permission(m, client_for):
    client = client_for(m.world.personas["grid_worker"])
    assert client.get("/disputes/stats/").status_code == 403
    assert client.post("/disputes/stats/export/", {}).status_code == 403


def test_the_monthly_report_carries_the_page_figures(m, client_for,
                                                     django_capture_on_commit_callbacks):
    from python_calamine import CalamineWorkbook

    _cases(m)
    stats.rebuild_dirty()
    month = timezone.localdate().replace(day=1)
    client = client_for(m.county_dispatcher)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/disputes/stats/export/", {"month": f"{month:%Y-%m}",
                                                            "area": m.world.county_a.code})
    job = Job.objects.latest("id")
    assert response["Location"] == f"/jobs/{job.pk}/", response
    assert job.status == "succeeded", job.message
    download = client.get(f"/jobs/{job.pk}/download/")
    book = CalamineWorkbook.from_filelike(io.BytesIO(b"".join(download.streaming_content)))
    assert book.sheet_names == ["汇总", "按类型", "按渠道", "按调解组织"]
    figures = stats.summary(m.county_dispatcher, months=(month, month), area_prefix="320612",
                            limit=None)

    def rows(name):
        table = book.get_sheet_by_name(name).to_python(skip_empty_area=False)
        header = table[1]
        return [dict(zip(header, r, strict=False)) for r in table[2:] if r and r[0]
                and not str(r[0]).startswith(("Exported", "导出"))]

    def number(value):
        return None if value == "" else value

    summary = {r["区域"]: r for r in rows("汇总")}
    assert set(summary) == {*(r["name"] for r in figures["by_area"]), "合计"}
    for r in [*figures["by_area"], {**figures["totals"], "name": "合计"}]:
        cells = summary[r["name"]]
        assert cells["受理案件"] == r["cases"] and cells["办结案件"] == r["concluded"]
        assert number(cells["调解成功率(%)"]) == r["success_rate"]
        assert number(cells["按期办结率(%)"]) == r["on_time_rate"]
        assert number(cells["平均办结天数"]) == r["avg_days"]
        assert cells["司法确认申请"] == r["confirmations"]
        assert cells["涉及金额(元)"] == float(r["amount"])
    assert summary["金沙街道"]["区域代码"] == "320612001"
    assert {r["纠纷类型"]: r["受理案件"] for r in rows("按类型")} == {
        **{r["name"]: r["cases"] for r in figures["by_type"]}, "合计": figures["totals"]["cases"]}
    assert {r["受理渠道"]: r["受理案件"] for r in rows("按渠道")} == {
        **{r["name"]: r["cases"] for r in figures["by_channel"]},
        "合计": figures["totals"]["cases"]}
    assert {r["调解组织"]: r["调解成功"] for r in rows("按调解组织")} == {
        r["name"]: r["success"] for r in figures["by_body"]}
    assert AuditLog.objects.filter(action="dispute.stats_export",
                                   actor_name="m.county").exists()


def test_the_report_of_an_area_out_of_reach_is_refused(m, client_for):
    client = client_for(m.dispatcher)
    response = client.post("/disputes/stats/export/", {"area": m.world.county_b.code})
    assert response.status_code == 404 and not Job.objects.exists()
