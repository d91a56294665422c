"""Hotline import (per row, idempotent), Excel export (masked, watermarked, audited),
and the statistics rollup."""

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from zhili.core import tabular
from zhili.core.models import AuditLog, Job
from zhili.events import services, stats
from zhili.events.models import Event, EventStat

pytestmark = pytest.mark.django_db

HOTLINE = (
    "工单编号,来电时间,诉求类别,诉求内容,区域代码,来电人,联系电话,紧急程度\n"
    "RX001,2026-11-20 09:15,garbage,幸福路垃圾无人清运,320612001001001,王先生,13900001111,一般\n"
    "RX002,2026-11-20 10:00,噪音扰民,夜间施工噪音,320612001001002,李女士,13900002222,紧急\n"
    "RX003,2026-11-20 10:30,teleport,不存在的类别,320612001001001,,,\n"
    "RX004,2099-01-01 10:30,garbage,未来的时间,320612001001001,,,\n"
    ",2026-11-20 11:00,garbage,没有工单号,320612001001001,,,\n"
    "RX006,2026-11-20 11:00,garbage,越权区域,320613001001001,,,\n"
)


def upload(client, callbacks, url, content, name="tickets.csv"):
    with callbacks(execute=True):
        response = client.post(url, {"file": SimpleUploadedFile(name, content)})
    assert response.status_code == 302, response.content[:300]
    return Job.objects.latest("id")


def test_hotline_import_accepts_good_rows_reports_bad_ones_and_is_idempotent(
        loop, client_for, django_capture_on_commit_callbacks):
    client = client_for(loop.dispatcher)
    job = upload(client, django_capture_on_commit_callbacks, "/events/import/",
                 HOTLINE.encode("gb18030"))
    result = job.result
    assert result["encoding"] == "gb18030"
    assert result["submitted"] == 6 and result["created"] == 2 and result["rejected"] == 4
    assert result["accepted"] + result["rejected"] == result["submitted"]
    errors = {e["row"]: e for e in result["errors"]}
    assert errors[4]["column"] == "category" and errors[5]["column"] == "received_at"
    assert errors[6]["column"] == "ticket_no" and errors[7]["column"] == "area_code"
    noise = Event.objects.get(external_id="RX002")
    assert noise.channel == "hotline" and noise.urgency == "urgent"
    assert noise.reported_at == timezone.make_aware(dt.datetime(2026, 11, 20, 10, 0))
    again = upload(client, django_capture_on_commit_callbacks, "/events/import/",
                   HOTLINE.encode("utf-8"))
    assert again.result["created"] == 0 and again.result["duplicates"] == 2
    assert Event.objects.filter(channel="hotline").count() == 2


def test_export_is_masked_watermarked_and_audited(loop, client_for,
                                                   django_capture_on_commit_callbacks):
    services.report_event(actor=loop.dispatcher, channel="web", category=loop.garbage,
                          title="垃圾", description="d", area=loop.world.grid_a1,
                          reporter_name="王小明", reporter_contact="13812345678")
    client = client_for(loop.dispatcher)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/events/export/", {"box": "all"})
    job = Job.objects.latest("id")
    assert response["Location"] == f"/jobs/{job.pk}/" and job.status == "succeeded"
    download = client.get(f"/jobs/{job.pk}/download/")
    table = tabular.read_table(b"".join(download.streaming_content), "e.xlsx")
    row = table.rows[0][1]
    assert row["联系方式"] == "138****5678" and row["上报人"] == "王**"
    assert any("d.town" in v for _, r in table.rows for v in r.values())  # the watermark
    assert AuditLog.objects.filter(action="event.export", actor_name="d.town").exists()


def test_export_needs_the_export_permission(loop, client_for):
    client = client_for(loop.grid_worker)
    assert client.post("/events/export/", {}).status_code == 403


def test_rollup_matches_the_events(loop):
    for _ in range(3):
        services.report_event(actor=loop.grid_worker, channel="grid", category=loop.garbage,
                              title="t", description="d", area=loop.world.grid_a1)
    event = services.report_event(actor=loop.dispatcher, channel="web", category=loop.noise,
                                  title="t", description="d", area=loop.world.grid_a1b).event
    services.reject_event(actor=loop.dispatcher, event=event, reason="无效")
    # Step times (a JSON column on events) become "step" rows summed by the database.
    Event.objects.update(step_seconds={})
    Event.objects.filter(pk=event.pk).update(step_seconds={"accept": 7200, "dispatch": 1800})
    Event.objects.filter(category=loop.garbage).update(step_seconds={"accept": 3600})
    assert stats.rebuild_dirty() == 1  # this month
    today = timezone.localdate()
    area_rows = EventStat.objects.filter(dim="area")
    assert sum(area_rows.values_list("reported", flat=True)) == 4
    assert sorted(EventStat.objects.filter(dim="category").values_list("key", flat=True)) == \
        sorted([str(loop.garbage.pk), str(loop.noise.pk)])
    figures = stats.figures(loop.county_dispatcher, start=today, end=today)
    assert figures["totals"]["reported"] == 4 and figures["as_of"] is not None
    assert figures["steps"] == {"accept": 1.25, "dispatch": 0.5}  # (3 × 1 h + 2 h) / 4
    assert [r["name"] for r in figures["by_area"]] == ["金沙街道"]
    assert {r["name"]: r["reported"] for r in figures["by_category"]} == {"垃圾清运": 3,
                                                                         "噪音扰民": 1}
    town = stats.figures(loop.dispatcher, start=today, end=today)  # by village, from the rollup
    assert [(r["name"], r["reported"]) for r in town["by_area"]] == [("东市社区", 4)]
    fine = stats.figures(loop.grid_worker, start=today, end=today)  # below town level: live
    assert fine["totals"]["reported"] == 3 and fine["totals"]["closed"] == 0
    assert fine["by_channel"][0]["key"] == "grid"
    assert fine["steps"] == {"accept": 1.0}
    staff = stats.figures(loop.handler, start=today, end=today)  # organisation staff: live
    assert staff["totals"]["reported"] == 0
    outsider = stats.figures(loop.world.personas["sibling_admin"].user, start=today, end=today)
    assert outsider["totals"]["reported"] == 0
