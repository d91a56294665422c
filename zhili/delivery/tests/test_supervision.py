"""Supervision: the compliance report (figures equal direct counts of the records, anomalies),
rectification orders through their workflow (409 on a stale version and out of order, the
deadline sweep), the notice documents, spot checks, penalties, and who may see what."""

import datetime as dt
import io
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from zhili.core.models import AuditLog, Notification
from zhili.core.services import Conflict, ServiceError
from zhili.core.testing import World
from zhili.core.workflow import InvalidTransition, sweep
from zhili.delivery import ingest, orders, reports
from zhili.delivery.models import (
    Evidence,
    Inspection,
    Outlet,
    OutletDay,
    RectificationOrder,
    Shipment,
    SpotCheck,
    XRayScan,
)
from zhili.delivery.testing import ndjson, parcel

pytestmark = pytest.mark.django_db

WHEN = timezone.now() - dt.timedelta(hours=1)
DAY = timezone.localtime(WHEN).date()
THE_DAY = reports.Period(DAY, DAY, "day")


def push(sector, kind, rows, key, company=None):
    batch, _ = ingest.receive(actor=sector.feeder, company=company or sector.company,
                              kind=kind, key=key, body=ndjson(rows),
                              content_type="application/x-ndjson")
    assert batch.rejected == 0, batch.errors
    return batch


def _inspections(waybills, outlet, when, photo=True):
    return [{"waybill": w, "outlet": outlet, "inspected_at": when.isoformat(),
             "inspector": "王五", **({"photo_ref": f"img/{w}.jpg"} if photo else {})}
            for w in waybills]


def _scans(waybills, outlet, machine, when):
    return [{"waybill": w, "outlet": outlet, "scanned_at": when.isoformat(),
             "machine": machine, "alarm": "false"} for w in waybills]


@pytest.fixture
def data(sector):
    """JS01: yesterday 4 parcels at 100 %; today 10 parcels, 2 without ID (real-name 80 %),
    9 inspected (90 %), all X-rayed. ZT01 (another company, same town): 5 parcels at 100 %
    but inspected without a single photo. CD01 (another county): 3 parcels, none with ID."""
    from zhili.devices.models import Device

    world = sector.world
    Device.objects.create(kind="xray", code="XR-ZT01-1", name="安检机", org=sector.rival_outlet.org,
                          area=world.town_a1, area_code=world.town_a1.code)
    Device.objects.create(kind="xray", code="XR-CD01-1", name="安检机", org=sector.outlet_b.org,
                          area=world.town_b1, area_code=world.town_b1.code)
    before = WHEN - dt.timedelta(days=1)
    old = [f"SF1{i:09d}" for i in range(4)]
    push(sector, "shipments", [parcel(w, when=before) for w in old], "s0")
    push(sector, "inspections", _inspections(old, "JS01", before), "i0")
    push(sector, "scans", _scans(old, "JS01", "XR-JS01-1", before), "x0")
    new = [f"SF2{i:09d}" for i in range(10)]
    push(sector, "shipments", [parcel(w, when=WHEN, **({"id_number": ""} if i < 2 else {}))
                               for i, w in enumerate(new)], "s1")
    push(sector, "inspections", _inspections(new[1:], "JS01", WHEN), "i1")
    push(sector, "scans", _scans(new, "JS01", "XR-JS01-1", WHEN), "x1")
    rival = [f"ZT3{i:09d}" for i in range(5)]
    push(sector, "shipments", [parcel(w, outlet="ZT01", when=WHEN) for w in rival], "s2",
         sector.other_company)
    push(sector, "inspections", _inspections(rival, "ZT01", WHEN, photo=False), "i2",
         sector.other_company)
    push(sector, "scans", _scans(rival, "ZT01", "XR-ZT01-1", WHEN), "x2", sector.other_company)
    far = [f"SF4{i:09d}" for i in range(3)]
    push(sector, "shipments", [parcel(w, outlet="CD01", when=WHEN, id_number="") for w in far],
         "s3")
    push(sector, "scans", _scans(far, "CD01", "XR-CD01-1", WHEN), "x3")
    return sector


def _row(report, outlet):
    return next(r for r in report.rows if r.outlet_id == outlet.pk)


# --- the report ---------------------------------------------------------------------------------

def test_report_figures_equal_direct_counts(data, client_for):
    report = reports.compliance(data.regulator, period=THE_DAY)
    shown = {r.outlet_id for r in report.rows}
    assert data.outlet_b.pk not in shown  # another county
    assert {data.outlet.pk, data.rival_outlet.pk} <= shown
    for outlet in (data.outlet, data.rival_outlet):
        f = _row(report, outlet).figures
        parcels = Shipment.objects.filter(outlet_id=outlet.pk, day=DAY)
        assert f.parcels == parcels.count()
        assert f.real_name == parcels.filter(real_name=True).count()
        assert f.inspected == parcels.filter(inspected=True).count()
        assert f.xrayed == parcels.filter(xrayed=True).count()
        assert f.inspections == Inspection.objects.filter(outlet_id=outlet.pk, day=DAY).count()
        assert f.inspection_photos == Inspection.objects.filter(
            outlet_id=outlet.pk, day=DAY).exclude(photo_ref="").count()
        assert f.scans == XRayScan.objects.filter(outlet_id=outlet.pk, day=DAY).count()
    js = _row(report, data.outlet).figures
    assert (js.parcels, js.real_name, js.inspected, js.xrayed) == (10, 8, 9, 10)
    assert (js.real_name_rate, js.inspected_rate, js.xrayed_rate, js.attained) == \
        (80.0, 90.0, 100.0, False)
    in_reach = Shipment.objects.filter(day=DAY).exclude(outlet_id=data.outlet_b.pk)
    assert report.totals.parcels == in_reach.count() == 15
    assert report.totals.real_name == in_reach.filter(real_name=True).count()
    assert sum(d["parcels"] for d in report.trend) == 15
    companies = {s.key: s for s in report.companies}
    assert companies[data.company.pk].figures.parcels == 10
    assert companies[data.other_company.pk].name == "中通快递南通分公司"
    towns = {s.name: s for s in report.towns}
    assert towns["金沙街道"].figures.parcels == 15 and towns["金沙街道"].outlets == 2
    # A month: yesterday's parcels count too (unless yesterday was last month).
    month = reports.compliance(data.regulator, period=reports.month_period(DAY))
    expected = 14 if (DAY - dt.timedelta(days=1)).month == DAY.month else 10
    assert _row(month, data.outlet).figures.parcels == expected
    # The page and the API say the same.
    page = client_for(data.regulator).get("/delivery/supervision/", {"day": DAY.isoformat()})
    assert page.status_code == 200
    assert f'data-testid="outlet-{data.outlet.pk}" data-serious="1"' in page.content.decode()
    body = client_for(data.regulator).get("/api/v1/delivery/supervision/compliance",
                                          {"day": DAY.isoformat()}).json()
    row = next(r for r in body["outlets"] if r["outlet_id"] == data.outlet.pk)
    assert row["name"] == "顺丰金沙营业部" and row["real_name_rate"] == 80.0
    assert body["totals"]["parcels"] == 15 and body["period"]["kind"] == "day"
    export = client_for(data.regulator).get("/delivery/supervision/compliance.xlsx",
                                            {"day": DAY.isoformat()})
    assert export.status_code == 200 and export.content.startswith(b"PK")
    from zhili.core.tabular import read_table

    table = read_table(export.content, "c.xlsx")
    names = [values[table.headers[0]] for _line, values in table.rows]
    assert "顺丰金沙营业部" in names and "顺丰城东营业部" not in names
    assert AuditLog.objects.filter(action="delivery.compliance.export").count() == 1


def test_anomalies(data):
    from zhili.orgs.models import Organisation

    world = data.world
    org = Organisation.objects.create(name="顺丰兴东营业部", kind="outlet", area=world.town_a2,
                                      area_code=world.town_a2.code, parent=world.courier)
    ghost = Outlet.objects.create(org=org, company=data.company, code="XD01", area=world.town_a2,
                                  area_code=world.town_a2.code)
    OutletDay.objects.create(outlet=ghost, company=data.company, area_code=ghost.area_code,
                             day=DAY, parcels=5, real_name=5, inspected=5, xrayed=5,
                             inspections=5, inspection_photos=5, scans=0)
    org2 = Organisation.objects.create(name="顺丰空营业部", kind="outlet", area=world.town_a2,
                                       area_code=world.town_a2.code, parent=world.courier)
    silent = Outlet.objects.create(org=org2, company=data.company, code="XD02",
                                   area=world.town_a2, area_code=world.town_a2.code)
    report = reports.compliance(data.regulator, period=THE_DAY)
    js = _row(report, data.outlet)
    assert "below" in js.anomalies and "drop" in js.anomalies
    assert js.drops == {"real_name": 20.0, "inspected": 10.0}
    assert js.below == ["real_name", "inspected"]
    rival = _row(report, data.rival_outlet)
    assert rival.figures.attained is True and rival.anomalies == ["no_photos"]
    assert _row(report, ghost).anomalies == ["no_scans"]
    assert _row(report, silent).anomalies == ["silent"] and not _row(report, silent).serious
    far = _row(reports.compliance(_superuser(), period=THE_DAY), data.outlet_b)
    assert "no_real_name" in far.anomalies and "below" in far.anomalies
    assert report.rows[0].serious and report.rows[-1].outlet_id == silent.pk
    # Worst first: the lowest rate leads.
    assert report.flagged[0].outlet_id == data.outlet.pk
    assert {r.outlet_id for r in report.flagged} == {data.outlet.pk, ghost.pk,
                                                     data.rival_outlet.pk}
    counts = report.anomaly_counts()
    assert counts["no_photos"] == counts["no_scans"] == counts["silent"] == 1


def _superuser():
    from zhili.accounts.models import User

    return User.objects.get(username="p.superuser")


def test_periods_and_rates():
    today = dt.date(2026, 3, 18)
    assert reports.parse_period({}, today) == reports.Period(dt.date(2026, 3, 1),
                                                             dt.date(2026, 3, 31), "month")
    month = reports.parse_period({"month": "2026-02"}, today)
    assert (month.start, month.end) == (dt.date(2026, 2, 1), dt.date(2026, 2, 28))
    assert month.previous() == reports.Period(dt.date(2026, 1, 1), dt.date(2026, 1, 31),
                                              "month")
    span = reports.parse_period({"start": "2026-03-01", "end": "2026-03-10"}, today)
    assert span.previous() == reports.Period(dt.date(2026, 2, 19), dt.date(2026, 2, 28),
                                             "range")
    assert reports.parse_period({"day": "2026-03-05"}, today).previous().start == \
        dt.date(2026, 3, 4)
    for bad in ({"day": "x"}, {"month": "2026-13"}, {"start": "2026-03-10", "end": "2026-03-01"},
                {"start": "2024-01-01", "end": "2026-01-01"}):
        with pytest.raises(ServiceError):
            reports.parse_period(bad, today)
    # Floored, never rounded up to the legal 100 %.
    assert reports.rate(99999, 100000) == 99.99 and reports.rate(1, 3) == 33.33
    assert reports.rate(0, 0) is None


def test_report_reads_only_rollups_in_few_queries(data):
    with CaptureQueriesContext(connection) as queries:
        report = reports.compliance(data.regulator, period=reports.month_period(DAY))
        reports.resolve_names(report.rows[:100])
    tables = " ".join(q["sql"] for q in queries.captured_queries)
    assert "delivery_shipment" not in tables and "delivery_inspection" not in tables
    sql = [q["sql"] for q in queries.captured_queries]
    # A month: the month rollups of the month and of the month before, and the daily trend.
    assert len([q for q in sql if "delivery_outletmonth" in q]) == 2
    assert len([q for q in sql if "GROUP BY" in q and "delivery_outletday" in q]) == 1
    # + scope, silent outlets, company / area / outlet names, "data as of"
    assert len(queries.captured_queries) <= 12
    with CaptureQueriesContext(connection) as queries:
        reports.compliance(data.regulator, period=THE_DAY)
    grouped = [q for q in queries.captured_queries if "GROUP BY" in q["sql"]
               and "delivery_outletday" in q["sql"]]
    # Any other period: the outlets with the previous period (one pass on PostgreSQL, two on
    # SQLite: see reports._outlet_sums) and the trend.
    assert len(grouped) == (2 if connection.vendor == "postgresql" else 3)


def test_a_month_from_month_rollups_matches_the_same_days(data):
    month = reports.month_period(DAY)
    by_month = reports.compliance(data.regulator, period=month)
    by_days = reports.compliance(data.regulator, period=reports.Period(month.start, month.end))
    assert by_month.rows and [(r.outlet_id, r.figures.counts()) for r in by_month.rows] == \
        [(r.outlet_id, r.figures.counts()) for r in by_days.rows]
    assert by_month.totals.counts() == by_days.totals.counts()


# --- rectification orders -----------------------------------------------------------------------

def _issue(sector, **extra):
    values = {"period_start": DAY, "period_end": DAY, "findings": "实名收寄率80%",
              "requirements": "立即整改", **extra}
    return orders.issue_order(actor=sector.regulator, outlet=sector.outlet, **values)


def _png():
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 30, 30)).save(buffer, "PNG")
    return buffer.getvalue()


def test_order_workflow(data):
    order = _issue(data)
    year = timezone.localtime(order.issued_at).year
    assert re.fullmatch(rf"通邮整改〔{year}〕第1号", order.number)
    assert _issue(data).number == f"通邮整改〔{year}〕第2号"
    assert order.state == "issued" and order.deadline_unit == "work_days"
    assert order.deadline_at > timezone.now() + dt.timedelta(days=4)
    assert order.figures["parcels"] == 10 and order.figures["real_name_rate"] == 80.0
    assert Notification.objects.filter(user=data.outlet_user, kind="delivery.order").exists()
    assert AuditLog.objects.filter(action="delivery.order.issue", target_id=str(order.pk)) \
        .exists()

    # Out of order: nothing to re-check yet.
    with pytest.raises(InvalidTransition):
        orders.recheck(actor=data.regulator, order=order, passed=True, note="好")
    # Only the outlet answers; a regulator cannot.
    with pytest.raises(ServiceError) as exc:
        orders.answer_order(actor=data.regulator, order=order, answer="x")
    assert exc.value.status == 403
    with pytest.raises(ServiceError):
        orders.answer_order(actor=data.outlet_user, order=order, answer="x",
                            files=[orders.FileData(b"MZ\x90\x00 not a photo", "a.exe")])
    assert RectificationOrder.objects.get(pk=order.pk).state == "issued"  # nothing half-done

    answered = orders.answer_order(actor=data.outlet_user, order=order, answer="已培训收寄员",
                                   files=[orders.FileData(_png(), "整改.png")], version=0)
    assert answered.state == "answered" and answered.version == 1
    assert answered.deadline_at is None
    evidence = Evidence.objects.get(order=order)
    assert evidence.content_type == "image/png" and evidence.filename == "整改.png"
    assert Notification.objects.filter(user=data.regulator,
                                       kind="delivery.order.answered").exists()
    # Someone acting on what they saw before the answer: refused as stale.
    with pytest.raises(Conflict) as exc:
        orders.recheck(actor=data.regulator, order=order, passed=True, note="好", version=0)
    assert exc.value.code == "stale" and exc.value.status == 409
    with pytest.raises(InvalidTransition):  # answered already
        orders.answer_order(actor=data.outlet_user, order=order, answer="again")

    back = orders.recheck(actor=data.regulator, order=order, passed=False, note="照片不清楚",
                          days=3, version=1)
    assert back.state == "issued" and back.deadline_at is not None
    again = orders.answer_order(actor=data.outlet_user, order=order, answer="补充照片")
    closed = orders.recheck(actor=data.regulator, order=order, passed=True, note="已整改",
                            version=again.version)
    assert closed.state == "closed" and closed.closed_at and closed.recheck_note == "已整改"
    with pytest.raises(InvalidTransition):
        orders.escalate(actor=data.regulator, order=order, reason="x")
    actions = list(order.transitions.values_list("action", flat=True))
    assert actions == ["issue", "answer", "send_back", "answer", "close"]

    other = _issue(data)
    escalated = orders.escalate(actor=data.regulator, order=other, reason="拒不整改")
    assert escalated.state == "escalated"
    assert orders.answer_order(actor=data.outlet_user, order=other, answer="已整改").state == \
        "answered"


def test_order_validation(data):
    with pytest.raises(ServiceError) as exc:
        _issue(data, period_end=DAY + dt.timedelta(days=2))
    assert "period_end" in exc.value.field_messages
    with pytest.raises(ServiceError) as exc:
        _issue(data, findings=" ")
    assert "findings" in exc.value.field_messages
    with pytest.raises(ServiceError) as exc:
        _issue(data, days=0)
    assert "days" in exc.value.field_messages
    with pytest.raises(ServiceError) as exc:  # another county's outlet
        orders.issue_order(actor=data.regulator, outlet=data.outlet_b, period_start=DAY,
                           period_end=DAY, findings="x", requirements="y")
    assert exc.value.status == 404
    with pytest.raises(ServiceError) as exc:
        orders.issue_order(actor=data.outlet_user, outlet=data.outlet, period_start=DAY,
                           period_end=DAY, findings="x", requirements="y")
    assert exc.value.status == 403


def test_the_sweep_marks_overdue_orders_and_tells_both_sides(data):
    from zhili.core.scheduler import registered
    from zhili.delivery.tasks import sweep_orders

    assert {"delivery-orders-sweep", "delivery-partitions"} <= {j.name for j in registered()}
    order = _issue(data)
    assert sweep(RectificationOrder)["overdue"] == 0
    later = order.deadline_at + dt.timedelta(minutes=1)
    counts = sweep(RectificationOrder, later)
    assert counts["overdue"] == 1
    order.refresh_from_db()
    assert order.overdue and order.ever_overdue and order.version == 0
    assert order.transitions.filter(action="overdue").count() == 1
    for user in (data.outlet_user, data.regulator):
        assert Notification.objects.filter(user=user, kind="delivery.order.overdue").exists()
    assert sweep(RectificationOrder, later)["overdue"] == 0  # once
    # Answering still works after the deadline, and stops the clock.
    orders.answer_order(actor=data.outlet_user, order=order, answer="迟到的整改")
    order.refresh_from_db()
    assert order.deadline_at is None and not order.overdue
    assert isinstance(sweep_orders.call(), dict)


def test_escalation_ladder_hook(data):
    from zhili.core.models import EscalationStep

    order = _issue(data)
    step = EscalationStep.objects.get(workflow="delivery.rectificationorder", level=1)
    orders.order_escalated([order.pk], step)
    assert order.transitions.filter(action="escalation").exists()
    assert Notification.objects.filter(user=data.outlet_user,
                                       kind="delivery.order.reminder").exists()


# --- pages --------------------------------------------------------------------------------------

def test_pages_issue_answer_close(data, client):
    client.force_login(data.regulator)
    url = f"/delivery/supervision/outlets/{data.outlet.pk}/order/"
    form = client.get(url, {"day": DAY.isoformat()})
    assert form.status_code == 200
    assert "收寄快件10件，实名收寄率80%、开箱验视率90%，未达到100%的要求" in form.content.decode()
    assert client.post(url, {}).status_code == 400
    response = client.post(url, {"period_start": DAY.isoformat(), "period_end": DAY.isoformat(),
                                 "findings": "实名收寄率80%", "requirements": "立即整改",
                                 "days": "5"})
    order = RectificationOrder.objects.get()
    assert response.status_code == 302
    assert response.url == f"/delivery/supervision/orders/{order.pk}/"
    page = client.get(response.url).content.decode()
    assert order.number in page and 'data-state="issued"' in page
    assert client.get(f"/delivery/supervision/orders/{order.pk}/answer/").status_code == 403

    client.force_login(data.outlet_user)
    answer_url = f"/delivery/supervision/orders/{order.pk}/answer/"
    assert order.number in client.get(answer_url).content.decode()
    assert client.post(answer_url, {"version": 0}).status_code == 400
    upload = io.BytesIO(_png())
    upload.name = "photo.png"
    response = client.post(answer_url, {"answer": "已整改", "version": 0, "files": [upload]})
    assert response.status_code == 302
    evidence = Evidence.objects.get(order=order)
    photo = client.get(f"/delivery/supervision/orders/{order.pk}/file/", {"id": evidence.pk})
    assert photo.status_code == 200 and photo["Content-Type"] == "image/png"
    assert client.get(f"/delivery/supervision/orders/{order.pk}/file/").status_code == 400
    # The outlet cannot re-check its own answer.
    act = f"/delivery/supervision/orders/{order.pk}/act/close/"
    assert client.post(act, {"note": "x", "version": 1}).status_code == 403

    client.force_login(data.regulator)
    stale = client.post(act, {"note": "已整改", "version": 0})
    assert stale.status_code == 409
    assert client.post(act, {"version": 1}).status_code == 400
    assert client.post(act, {"note": "已整改", "version": 1}).status_code == 302
    order.refresh_from_db()
    assert order.state == "closed"
    assert client.get("/delivery/supervision/orders/").status_code == 200


def test_documents_carry_the_outlet_and_figures(data, client):
    from zhili.core.documents import docx_text, pdf_available, pdf_text

    order = _issue(data)
    client.force_login(data.outlet_user)
    response = client.get(f"/delivery/supervision/orders/{order.pk}/notice/docx/")
    assert response.status_code == 200
    text = docx_text(response.content)
    for expected in (order.number, "顺丰金沙营业部", "顺丰速运南通分公司", "实名收寄", "80%",
                     "90%", "实名收寄率80%", "立即整改", "《快递暂行条例》第二十二条",
                     "《中华人民共和国反恐怖主义法》第二十条", "通州区"):
        assert expected in text, expected
    assert AuditLog.objects.filter(action="delivery.order.download").count() == 1
    if pdf_available():
        response = client.get(f"/delivery/supervision/orders/{order.pk}/notice/pdf/")
        assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
        pdf = re.sub(r"\s+", "", pdf_text(response.content))
        for expected in ("顺丰金沙营业部", "80%", "实名收寄率80%", "第二十二条"):
            assert expected in pdf, expected
    assert client.get(f"/delivery/supervision/orders/{order.pk}/notice/odt/").status_code == 404


# --- spot checks and penalties ------------------------------------------------------------------

def test_spot_check_samples_only_the_outlets_records(data, client):
    period = {"period_start": DAY - dt.timedelta(days=1), "period_end": DAY}
    check = orders.start_spot_check(actor=data.regulator, outlet=data.outlet, size=10, **period)
    waybills = orders.sampled_waybills(check)
    assert len(waybills) == len(set(waybills)) == 10
    mine = set(Shipment.objects.filter(outlet_id=data.outlet.pk).values_list("waybill",
                                                                            flat=True))
    assert set(waybills) <= mine
    everything = orders.start_spot_check(actor=data.regulator, outlet=data.outlet, size=50,
                                         **period)
    assert set(orders.sampled_waybills(everything)) == mine  # all 14, none of another outlet
    with pytest.raises(ServiceError):  # no records in the period
        orders.start_spot_check(actor=data.regulator, outlet=data.outlet,
                                period_start=DAY - dt.timedelta(days=30),
                                period_end=DAY - dt.timedelta(days=20))

    with pytest.raises(ServiceError) as exc:  # every sampled waybill needs a finding
        orders.record_spot_check_findings(actor=data.regulator, check=check, findings=[])
    assert "findings" in exc.value.field_messages
    with pytest.raises(ServiceError):
        orders.record_spot_check_findings(
            actor=data.regulator, check=check,
            findings=[{"waybill": "ZT3000000000", "real_name": True}])

    client.force_login(data.regulator)
    page = client.get(f"/delivery/supervision/spot-checks/{check.pk}/")
    assert page.status_code == 200 and waybills[0] in page.content.decode()
    post = {f"{key}_{i}": "on" for i in range(10) for key in ("real_name", "inspected",
                                                               "xrayed")}
    del post["xrayed_3"]
    response = client.post(f"/delivery/supervision/spot-checks/{check.pk}/record/",
                           {**post, "note_3": "未过机", "note": "现场抽检"})
    assert response.status_code == 302
    check.refresh_from_db()
    assert check.result == "problems" and check.checked_at is not None
    assert check.findings[3] == {"waybill": waybills[3], "real_name": True, "inspected": True,
                                 "xrayed": False, "note": "未过机"}
    with pytest.raises(Conflict):
        orders.record_spot_check_findings(
            actor=data.regulator, check=check,
            findings=[{"waybill": w, "real_name": True, "inspected": True, "xrayed": True}
                      for w in waybills])
    fine = orders.record_spot_check_findings(
        actor=data.regulator, check=everything,
        findings=[{"waybill": w, "real_name": True, "inspected": True, "xrayed": True}
                  for w in orders.sampled_waybills(everything)])
    assert fine.result == "compliant"
    # From the outlet row to a sample, through the page.
    start = client.post(f"/delivery/supervision/outlets/{data.outlet.pk}/spot-check/",
                        {"period_start": DAY.isoformat(), "period_end": DAY.isoformat(),
                         "size": "3"})
    assert start.status_code == 302
    assert len(SpotCheck.objects.order_by("-pk").first().sampled) == 3
    # The outlet sees its checks but cannot record findings.
    client.force_login(data.outlet_user)
    assert client.get(f"/delivery/supervision/spot-checks/{check.pk}/").status_code == 200
    assert client.post(f"/delivery/supervision/spot-checks/{everything.pk}/record/",
                       post).status_code == 403


def test_penalties_are_recorded_and_listed_on_the_outlet(data, client):
    client.force_login(data.regulator)
    url = f"/delivery/supervision/outlets/{data.outlet.pk}/penalty/"
    assert client.post(url, {}).status_code == 400
    values = {"decision_no": "通邮罚〔2026〕3号", "decided_on": DAY.isoformat(),
              "basis": "《快递暂行条例》第四十二条", "amount": "5000", "note": "多次未实名"}
    assert client.post(url, values).status_code == 302
    assert client.post(url, values).status_code == 400  # the same decision twice
    outlet_page = client.get(f"/delivery/supervision/outlets/{data.outlet.pk}/")
    assert "通邮罚〔2026〕3号" in outlet_page.content.decode()
    assert "通邮罚〔2026〕3号" in client.get("/delivery/supervision/penalties/").content.decode()
    with pytest.raises(ServiceError) as exc:
        orders.record_penalty(actor=data.regulator, outlet=data.outlet, decision_no="x",
                              decided_on=DAY + dt.timedelta(days=3), basis="y")
    assert "decided_on" in exc.value.field_messages


# --- who sees what ------------------------------------------------------------------------------

def _user(username, role, place, org=None):
    from zhili.accounts.models import Position, Role, User

    user = User.objects.create_user(username=username, password=World.PASSWORD)
    Position.objects.create(user=user, role=Role.objects.get(code=role), area=place,
                            area_code=place.code, org=org)
    return user


def test_scoping(data, client):
    order = _issue(data)
    check = orders.start_spot_check(actor=data.regulator, outlet=data.outlet, period_start=DAY,
                                    period_end=DAY, size=2)
    elsewhere = _user("c.reg.b", "courier_regulator", data.world.county_b)
    client.force_login(elsewhere)
    for url in (f"/delivery/supervision/orders/{order.pk}/",
                f"/delivery/supervision/orders/{order.pk}/notice/docx/",
                f"/delivery/supervision/outlets/{data.outlet.pk}/",
                f"/delivery/supervision/outlets/{data.outlet.pk}/order/",
                f"/delivery/supervision/spot-checks/{check.pk}/",
                f"/api/v1/delivery/supervision/orders/{order.pk}"):
        assert client.get(url).status_code == 404, url
    assert client.post(f"/delivery/supervision/orders/{order.pk}/act/escalate/",
                       {"reason": "x"}).status_code == 404
    report = client.get("/delivery/supervision/", {"day": DAY.isoformat()}).content.decode()
    assert "顺丰金沙营业部" not in report and "顺丰城东营业部" in report
    assert order.number not in client.get("/delivery/supervision/orders/").content.decode()
    api = client.get("/api/v1/delivery/supervision/orders").json()
    assert api["count"] == 0
    # Staff of another outlet (the rival company's, in the same town).
    rival = _user("c.rival", "outlet_staff", data.world.town_a1, data.rival_outlet.org)
    client.force_login(rival)
    assert client.get(f"/delivery/supervision/orders/{order.pk}/").status_code == 404
    assert client.get(f"/delivery/supervision/orders/{order.pk}/answer/").status_code == 404
    assert client.post(f"/delivery/supervision/orders/{order.pk}/answer/",
                       {"answer": "x"}).status_code == 404
    rows = client.get("/api/v1/delivery/supervision/compliance",
                      {"day": DAY.isoformat()}).json()["outlets"]
    assert [r["outlet_id"] for r in rows] == [data.rival_outlet.pk]
    # The outlet's own staff see their order and nothing of the regulator's tools.
    client.force_login(data.outlet_user)
    assert client.get(f"/delivery/supervision/orders/{order.pk}/").status_code == 200
    assert client.get(f"/delivery/supervision/outlets/{data.outlet.pk}/order/").status_code == \
        403
    assert client.get("/delivery/supervision/penalties/").status_code == 403


# --- the API ------------------------------------------------------------------------------------

def test_api_order_flow(data, client):
    api = "/api/v1/delivery/supervision"
    client.force_login(data.regulator)
    response = client.post(f"{api}/orders", {
        "outlet_id": data.outlet.pk, "period_start": DAY.isoformat(),
        "period_end": DAY.isoformat(), "findings": "实名率80%", "requirements": "整改"},
        content_type="application/json")
    assert response.status_code == 201, response.json()
    order = response.json()
    assert order["state"] == "issued" and order["figures"]["real_name_rate"] == 80.0
    pk = order["id"]
    response = client.post(f"{api}/orders", {
        "outlet_id": data.outlet_b.pk, "period_start": DAY.isoformat(),
        "period_end": DAY.isoformat(), "findings": "x", "requirements": "y"},
        content_type="application/json")
    assert response.status_code == 400 and "outlet_id" in response.json()["fields"]
    recheck = client.post(f"{api}/orders/{pk}/recheck", {"passed": True, "note": "x"},
                          content_type="application/json")
    assert recheck.status_code == 409 and recheck.json()["code"] == "invalid_transition"
    docx = client.get(f"{api}/orders/{pk}/notice", {"fmt": "docx"})
    assert docx.status_code == 200 and docx.content.startswith(b"PK")

    client.force_login(data.outlet_user)
    upload = io.BytesIO(_png())
    upload.name = "p.png"
    response = client.post(f"{api}/orders/{pk}/answer/upload",
                           {"answer": "已整改", "version": "0", "files": [upload]})
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["state"] == "answered" and len(body["evidence"]) == 1
    file = client.get(f"{api}/orders/{pk}/evidence", {"id": body["evidence"][0]["id"]})
    assert file.status_code == 200 and file["Content-Type"] == "image/png"

    client.force_login(data.regulator)
    stale = client.post(f"{api}/orders/{pk}/recheck", {"passed": True, "note": "好",
                                                        "version": 0},
                        content_type="application/json")
    assert stale.status_code == 409 and stale.json()["code"] == "stale"
    done = client.post(f"{api}/orders/{pk}/recheck", {"passed": True, "note": "好",
                                                       "version": body["version"]},
                       content_type="application/json")
    assert done.status_code == 200 and done.json()["state"] == "closed"
    assert [t["action"] for t in done.json()["transitions"]] == ["issue", "answer", "close"]
    listed = client.get(f"{api}/orders", {"state": "closed"}).json()
    assert listed["count"] == 1 and listed["items"][0]["id"] == pk


def test_api_spot_checks_and_penalties(data, client):
    api = "/api/v1/delivery/supervision"
    client.force_login(data.regulator)
    response = client.post(f"{api}/spot-checks", {
        "outlet_id": data.rival_outlet.pk, "period_start": DAY.isoformat(),
        "period_end": DAY.isoformat(), "size": 3}, content_type="application/json")
    assert response.status_code == 201
    check = response.json()
    assert len(check["sampled"]) == 3
    assert all(s["waybill"].startswith("ZT3") for s in check["sampled"])
    findings = [{"waybill": s["waybill"], "real_name": True, "inspected": True, "xrayed": True}
                for s in check["sampled"]]
    response = client.post(f"{api}/spot-checks/{check['id']}/findings",
                           {"findings": findings}, content_type="application/json")
    assert response.status_code == 200 and response.json()["result"] == "compliant"
    response = client.post(f"{api}/penalties", {
        "outlet_id": data.rival_outlet.pk, "decision_no": "罚1", "decided_on": DAY.isoformat(),
        "basis": "《快递暂行条例》", "amount": "2000.5"}, content_type="application/json")
    assert response.status_code == 201 and response.json()["amount"] == "2000.50"
    listed = client.get(f"{api}/penalties", {"outlet_id": data.rival_outlet.pk}).json()
    assert listed["count"] == 1
