"""Feed ingestion: idempotent on (company, waybill, day), per-row errors, rollups counting only
what was created, `accepted + rejected == submitted` — on SQLite and PostgreSQL alike."""

import datetime as dt

import pytest
from django.utils import timezone

from zhili.delivery import feeds, ingest
from zhili.delivery.models import Inspection, OutletDay, OutletMonth, Shipment, XRayScan
from zhili.delivery.testing import ndjson, parcel

pytestmark = pytest.mark.django_db


def push(sector, kind, rows, key="b1", content_type="application/x-ndjson"):
    body = rows if isinstance(rows, bytes) else ndjson(rows)
    return ingest.receive(actor=sector.feeder, company=sector.company, kind=kind, key=key,
                          body=body, content_type=content_type)


def day_of(sector):
    return OutletDay.objects.get(outlet=sector.outlet)


def assert_months_agree():
    """The month rollups hold the sums of the day rollups, whatever path wrote them."""
    expected: dict[tuple, list[int]] = {}
    for outlet, day, *counts in OutletDay.objects.values_list("outlet_id", "day",
                                                              *ingest.ROLLUP):
        key = (outlet, day.replace(day=1))
        before = expected.get(key, [0] * len(ingest.ROLLUP))
        expected[key] = [a + c for a, c in zip(before, counts, strict=True)]
    kept = {(outlet, month): list(counts) for outlet, month, *counts in
            OutletMonth.objects.values_list("outlet_id", "month", *ingest.ROLLUP)}
    assert kept == expected and kept


def test_parcels_are_stored_encrypted_and_counted(sector):
    batch, replayed = push(sector, "shipments", [parcel("SF0000000001"), parcel(
        "SF0000000002", id_number=""), parcel("SF0000000003", goods="烟花爆竹两箱")])
    assert not replayed and batch.submitted == 3 and batch.created == 3 and batch.rejected == 0
    stored = Shipment.objects.get(waybill="SF0000000001")
    assert stored.real_name and stored.sender_id_bidx is not None
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT sender FROM delivery_shipment WHERE id = %s", [stored.pk])
        raw = cursor.fetchone()[0]
    assert "320612199001011232" not in raw and "张三" not in raw
    assert '"id_number":"320612199001011232"' in stored.sender  # decrypted on read
    flagged = Shipment.objects.get(waybill="SF0000000003")
    assert flagged.flagged and "烟花" in flagged.flag_terms
    day = day_of(sector)
    assert (day.parcels, day.real_name, day.flagged) == (3, 2, 1)
    assert_months_agree()


def test_the_sender_is_stored_as_json_whatever_its_characters(sector):
    import json

    name = '王"五\\ 的\t店'
    push(sector, "shipments", [parcel("SF0000000009", sender_name=name, id_number="AB\"12",
                                      id_type="414", phone="")])
    stored = json.loads(Shipment.objects.get(waybill="SF0000000009").sender)
    assert stored == {"name": name, "id_type": "414", "id_number": 'AB"12', "phone": ""}


def test_a_resent_batch_is_answered_not_counted_twice(sector):
    rows = [parcel("SF0000000001"), parcel("SF0000000002")]
    first, _ = push(sector, "shipments", rows)
    again, replayed = push(sector, "shipments", rows)
    assert replayed and again.pk == first.pk
    # The same records in a new batch (a client that lost its key) are duplicates.
    third, replayed = push(sector, "shipments", rows, key="b2")
    assert not replayed and third.created == 0 and third.duplicates == 2 and third.accepted == 2
    assert Shipment.objects.count() == 2 and day_of(sector).parcels == 2


def test_bad_rows_are_rejected_with_line_and_field(sector):
    future = timezone.now() + dt.timedelta(days=1)
    body = ndjson([parcel("SF0000000001"), parcel("SF0000000001"), parcel("x"),
                   parcel("SF0000000004", outlet="ZT01"), parcel("SF0000000005", when=future),
                   parcel("SF0000000006", goods=""),
                   parcel("SF0000000007", id_number="320612199001011238")]) + b"\n{oops\n[1]"
    batch, _ = push(sector, "shipments", body)
    fields = {(e["line"], e["field"]) for e in batch.errors if not e.get("warning")}
    assert fields == {(2, "waybill"), (3, "waybill"), (4, "outlet"), (5, "accepted_at"),
                      (6, "goods"), (8, ""), (9, "")}
    assert batch.submitted == 9 and batch.rejected == 7 and batch.accepted == 2
    invalid = Shipment.objects.get(waybill="SF0000000007")
    assert not invalid.real_name and invalid.id_problem == "invalid"
    assert any(e.get("warning") and e["line"] == 7 for e in batch.errors)


def test_gb18030_csv(sector):
    text = ("waybill,outlet,accepted_at,sender_name,id_number,goods\n"
            f"SF0000000011,JS01,{(timezone.now() - dt.timedelta(hours=2)).isoformat()},"
            "李四,320612199001011232,茶叶\n")
    batch, _ = push(sector, "shipments", text.encode("gb18030"),
                    content_type="text/csv; charset=gb18030")
    assert batch.created == 1 and Shipment.objects.get().goods == "茶叶"


def test_unreadable_requests_are_refused_whole(sector):
    with pytest.raises(feeds.BatchError) as exc:
        push(sector, "shipments", b"\xff\xfe\x00garbage\x81", content_type="text/plain")
    assert exc.value.status == 415
    with pytest.raises(feeds.BatchError):
        push(sector, "shipments", ndjson([parcel("SF0000000001")]), key="")
    push(sector, "shipments", [parcel("SF0000000001")], key="k")
    with pytest.raises(feeds.BatchError) as exc:  # the same key with other content
        push(sector, "shipments", [parcel("SF0000000002")], key="k")
    assert exc.value.status == 409


def test_inspections_and_scans_complete_parcels_either_order(sector):
    when = (timezone.now() - dt.timedelta(minutes=30)).isoformat()
    push(sector, "inspections", [{"waybill": "SF0000000001", "outlet": "JS01",
                                  "inspected_at": when, "inspector": "王五",
                                  "photo_ref": "img/1.jpg"}], key="i1")
    push(sector, "shipments", [parcel("SF0000000001"), parcel("SF0000000002")], key="s1")
    assert Shipment.objects.get(waybill="SF0000000001").inspected
    push(sector, "inspections", [{"waybill": "SF0000000002", "outlet": "JS01",
                                  "inspected_at": when, "inspector": "王五", "result": "通过"}],
         key="i2")
    scans, _ = push(sector, "scans", [
        {"waybill": "SF0000000002", "outlet": "JS01", "scanned_at": when,
         "machine": "XR-JS01-1", "alarm": "false"},
        {"waybill": "SF0000000001", "outlet": "JS01", "scanned_at": when,
         "machine": "XR-OTHER", "alarm": "false"}], key="x1")
    assert scans.created == 1 and scans.errors[0]["field"] == "machine"
    day = day_of(sector)
    assert (day.parcels, day.inspected, day.xrayed, day.inspections,
            day.inspection_photos, day.scans) == (2, 2, 1, 2, 1, 1)
    assert Inspection.objects.count() == 2 and XRayScan.objects.count() == 1
    assert_months_agree()
    # The rollups rebuilt from the records agree with the ones kept during ingestion.
    kept = list(OutletDay.objects.values_list("outlet_id", "day", "parcels", "inspected",
                                              "xrayed", "inspections", "scans"))
    today = timezone.localdate()
    ingest.rebuild_days(today - dt.timedelta(days=2), today)
    assert list(OutletDay.objects.values_list("outlet_id", "day", "parcels", "inspected",
                                              "xrayed", "inspections", "scans")) == kept
    assert_months_agree()


def test_reconcile_sets_flags_a_concurrent_batch_could_not_see(sector):
    push(sector, "shipments", [parcel("SF0000000001")], key="s1")
    when = (timezone.now() - dt.timedelta(minutes=30)).isoformat()
    push(sector, "inspections", [{"waybill": "SF0000000001", "outlet": "JS01",
                                  "inspected_at": when, "inspector": "王五"}], key="i1")
    # What two batches committing at once leave behind: the record, but not the flag.
    Shipment.objects.update(inspected=False)
    OutletDay.objects.update(inspected=0)
    today = timezone.localdate()
    assert ingest.reconcile_days(today - dt.timedelta(days=3), today) == 1
    assert Shipment.objects.get().inspected and day_of(sector).inspected == 1
    assert_months_agree()
    assert ingest.reconcile_days(today - dt.timedelta(days=3), today) == 0
