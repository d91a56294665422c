"""The feeds over HTTP (`POST /api/v1/delivery/feeds/{kind}`) with a company's API key, their
batches, and the waybill lookup. Every answer keeps `accepted + rejected == submitted`."""

import datetime as dt
import json

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from zhili.delivery import ingest
from zhili.delivery.models import IngestBatch, OutletDay, Shipment
from zhili.delivery.testing import ID_A, ndjson, parcel

pytestmark = pytest.mark.django_db

FEED = "/api/v1/delivery/feeds"


def make_key(sector, org, name="快递系统"):
    from zhili.accounts.services import create_api_key

    return create_api_key(actor=sector.world.personas["superuser"].user, org=org, name=name)


@pytest.fixture
def key(sector):
    return make_key(sector, sector.world.courier, "顺丰系统")[1]


def push(key, kind, body, idem="b1", content_type="application/x-ndjson", **headers):
    if isinstance(body, list):
        body = ndjson(body)
    if idem is not None:
        headers["HTTP_IDEMPOTENCY_KEY"] = idem
    # generic(): post() would re-encode a body declared as GB18030.
    response = Client().generic("POST", f"{FEED}/{kind}", body, content_type=content_type,
                                HTTP_X_API_KEY=key, **headers)
    if response.status_code == 200:
        data = response.json()
        assert data["accepted"] + data["rejected"] == data["submitted"], data
        assert data["accepted"] == data["created"] + data["duplicates"], data
    return response


def get(key, path, **params):
    return Client().get(path, params, HTTP_X_API_KEY=key)


def ago(**delta):
    return (timezone.now() - dt.timedelta(**delta)).isoformat()


def test_a_good_batch_then_its_replay(sector, key):
    rows = [parcel("SF0000000001"), parcel("SF0000000002"), parcel("SF0000000003")]
    first = push(key, "shipments", rows)
    assert first.status_code == 200, first.content
    data = first.json()
    assert (data["submitted"], data["created"], data["duplicates"], data["rejected"]) == \
        (3, 3, 0, 0)
    assert data["replayed"] is False and "Replayed" not in first
    assert data["batch"] == "b1" and data["kind"] == "shipments" and data["state"] == "done"
    assert Shipment.objects.count() == 3 and OutletDay.objects.get().parcels == 3

    # The client lost the answer and retries: the first answer, nothing counted again.
    again = push(key, "shipments", rows)
    assert again.status_code == 200 and again["Replayed"] == "true"
    assert again.json()["replayed"] is True and again.json()["id"] == data["id"]
    # A new key for the same records (a client that forgot its key): duplicates.
    other = push(key, "shipments", rows, idem="b2").json()
    assert (other["created"], other["duplicates"], other["accepted"]) == (0, 3, 3)
    assert Shipment.objects.count() == 3 and OutletDay.objects.get().parcels == 3

    # The same key with other content is refused whole, with the shared error shape.
    conflict = push(key, "shipments", [parcel("SF0000000009")])
    assert conflict.status_code == 409
    assert conflict.json()["code"] == "conflict" and "b1" in conflict.json()["message"]
    assert set(conflict.json()) == {"code", "message", "fields"}
    assert IngestBatch.objects.count() == 2 and Shipment.objects.count() == 3


def test_bad_rows_name_their_line_and_field(sector, key):
    future = timezone.now() + dt.timedelta(hours=2)
    bad_id = "320612199001011238"  # wrong check character
    rows = [parcel("SF0000000001"),                              # 1 good
            parcel("SF0000000001"),                              # 2 twice in the batch
            {"outlet": "JS01", "accepted_at": ago(hours=1), "goods": "书"},  # 3 no waybill
            parcel("SF0000000004", outlet="XX99"),               # 4 unknown outlet
            parcel("SF0000000005", outlet="ZT01"),               # 5 the rival's outlet
            parcel("SF0000000006", when=future),                 # 6 future time
            parcel("SF0000000007", goods=""),                    # 7 no goods
            parcel("SF0000000008", id_number=bad_id),            # 8 kept, warning
            parcel("SF0000000009", accepted_at="yesterday"),     # 9 unreadable time
            parcel("SF0000000010", id_type="999"),               # 10 unknown document type
            parcel("SF0000000011", weight="heavy")]              # 11 weight
    body = ndjson(rows) + b'\n{"waybill": "SF00000000\n[1, 2]\n"just text"'
    response = push(key, "shipments", body)
    assert response.status_code == 200, response.content
    data = response.json()
    assert {(e["line"], e["field"]) for e in data["errors"]} == {
        (2, "waybill"), (3, "waybill"), (4, "outlet"), (5, "outlet"), (6, "accepted_at"),
        (7, "goods"), (9, "accepted_at"), (10, "id_type"), (11, "weight"), (12, ""),
        (13, ""), (14, "")}
    assert [(w["line"], w["field"]) for w in data["warnings"]] == [(8, "id_number")]
    assert (data["submitted"], data["accepted"], data["rejected"]) == (14, 2, 12)
    assert all(e["message"] for e in data["errors"] + data["warnings"])
    kept = Shipment.objects.get(waybill="SF0000000008")
    assert not kept.real_name and kept.id_problem == "invalid"  # counted, as not real-name
    day = OutletDay.objects.get(outlet=sector.outlet)
    assert (day.parcels, day.real_name) == (2, 1)
    detail = get(key, f"{FEED}/batches/{data['id']}").json()
    assert detail["errors"] == data["errors"] and detail["warnings"] == data["warnings"]


def test_missing_fields_of_inspections_and_scans(sector, key):
    when = ago(minutes=20)
    inspections = push(key, "inspections", [
        {"waybill": "SF0000000001", "outlet": "JS01", "inspected_at": when, "inspector": "王五",
         "result": "通过", "photo_ref": "oss://p/1.jpg"},
        {"waybill": "SF0000000002", "outlet": "JS01", "inspected_at": when},
        {"waybill": "SF0000000003", "outlet": "JS01", "inspected_at": when, "inspector": "王五",
         "result": "maybe"}], idem="i1").json()
    assert inspections["created"] == 1
    assert {(e["line"], e["field"]) for e in inspections["errors"]} == {
        (2, "inspector"), (3, "result")}
    scans = push(key, "scans", "waybill,outlet,scanned_at,machine,alarm\n"
                 f"SF0000000001,JS01,{when},XR-JS01-1,否\n"
                 f"SF0000000002,JS01,{when},,0\n"
                 f"SF0000000003,JS01,{when},XR-JS01-1,perhaps\n"
                 f"SF0000000004,JS01\n".encode(), idem="x1",
                 content_type="text/csv; charset=utf-8").json()
    assert scans["created"] == 1 and scans["submitted"] == 4
    assert {(e["line"], e["field"]) for e in scans["errors"]} == {
        (3, "machine"), (4, "alarm"), (5, "")}


def test_csv_in_gb18030(sector, key):
    text = ("waybill,outlet,accepted_at,sender_name,id_type,id_number,phone,goods,category\n"
            f"SF0000000011,JS01,{ago(hours=2)},李四,111,{ID_A},13812345678,茶叶,食品\n"
            f"SF0000000012,JS01,{ago(hours=2)},王五,414,E12345678,,手机壳,日用品\n")
    declared = push(key, "shipments", text.encode("gb18030"), idem="c1",
                    content_type="text/csv; charset=gb18030").json()
    assert declared["created"] == 2 and declared["errors"] == []
    # Excel's GBK without a charset is recognised too.
    undeclared = push(key, "shipments", text.replace("SF00000000", "SF00000001")
                      .encode("gb18030"), idem="c2", content_type="text/csv").json()
    assert undeclared["created"] == 2
    assert Shipment.objects.get(waybill="SF0000000011").goods == "茶叶"
    passport = Shipment.objects.get(waybill="SF0000000012")
    assert passport.real_name and passport.sender_id_type == "414"


def test_whole_requests_refused(sector, key, monkeypatch):
    one = [parcel("SF0000000001")]
    wrong_type = push(key, "shipments", one, content_type="application/json")
    assert wrong_type.status_code == 415
    assert wrong_type.json()["code"] == "unsupported_media_type"
    assert push(key, "shipments", one, content_type="text/plain").status_code == 415
    no_key = push(key, "shipments", one, idem=None)
    assert no_key.status_code == 400 and "Idempotency-Key" in no_key.json()["message"]
    assert push(key, "shipments", one, idem="x" * 81).status_code == 400
    garbage = push(key, "shipments", b"\xff\xfe\xfd\xff", content_type="text/csv")
    assert garbage.status_code == 400 and garbage.json()["code"] == "invalid"
    bad_gb = push(key, "shipments", b"\xff\xff\xff", idem="g",
                  content_type="text/csv; charset=gb18030")
    assert bad_gb.status_code == 400
    assert push(key, "parcels", one).status_code == 404
    monkeypatch.setattr(ingest, "MAX_BYTES", 100)
    big = push(key, "shipments", one, idem="big")
    assert big.status_code == 413 and big.json()["code"] == "too_large"
    monkeypatch.setattr(ingest, "MAX_BYTES", 64 * 1024 * 1024)
    monkeypatch.setattr(ingest, "MAX_ROWS", 2)
    many = push(key, "shipments", [parcel(f"SF000000000{n}") for n in range(3)], idem="many")
    assert many.status_code == 413
    # Nothing of a refused request was written, and the key stays free.
    assert not IngestBatch.objects.exists() and not Shipment.objects.exists()
    monkeypatch.setattr(ingest, "MAX_ROWS", 100_000)
    assert push(key, "shipments", one, idem="big").status_code == 200


def test_who_may_push(sector, key):
    from zhili.accounts.services import revoke_api_key

    one = [parcel("SF0000000001")]
    assert push("zl_nope_nope", "shipments", one).status_code == 401
    assert Client().post(f"{FEED}/shipments", ndjson(one), content_type="application/x-ndjson",
                         HTTP_IDEMPOTENCY_KEY="a").status_code == 401
    # An api_client key of an organisation that is not a courier company.
    outlet_key = make_key(sector, sector.world.outlet_a1)[1]
    refused = push(outlet_key, "shipments", one)
    assert refused.status_code == 403 and refused.json()["code"] == "forbidden"
    # A person (a regulator) may read batches but not push.
    regulator = Client()
    regulator.force_login(sector.regulator)
    assert regulator.post(f"{FEED}/shipments", ndjson(one),
                          content_type="application/x-ndjson",
                          HTTP_IDEMPOTENCY_KEY="r").status_code == 403
    # The rival's key cannot push for 顺丰's outlets.
    rival_key = make_key(sector, sector.other_company.org, "中通系统")[1]
    rival = push(rival_key, "shipments", one).json()
    assert rival["rejected"] == 1 and rival["errors"][0]["field"] == "outlet"
    key_row, raw = make_key(sector, sector.world.courier, "旧系统")
    assert push(raw, "shipments", one, idem="old").status_code == 200
    revoke_api_key(actor=sector.world.personas["superuser"].user, key=key_row)
    revoked = push(raw, "shipments", one, idem="old2")
    assert revoked.status_code == 401 and revoked.json()["code"] == "unauthenticated"


def test_batches_are_the_companys_own(sector, key):
    ours = push(key, "shipments", [parcel("SF0000000001")], idem="ours").json()
    rival_key = make_key(sector, sector.other_company.org, "中通系统")[1]
    theirs = push(rival_key, "shipments", [parcel("ZT0000000001", outlet="ZT01")],
                  idem="theirs").json()
    listed = get(key, f"{FEED}/batches").json()
    assert [b["batch"] for b in listed["items"]] == ["ours"] and not listed["has_more"]
    assert get(key, f"{FEED}/batches", kind="scans").json()["items"] == []
    assert get(key, f"{FEED}/batches/{theirs['id']}").status_code == 404
    assert get(rival_key, f"{FEED}/batches/{ours['id']}").status_code == 404
    assert get(rival_key, f"{FEED}/batches/{theirs['id']}").json()["created"] == 1


# --- waybill lookup ------------------------------------------------------------------------

@pytest.fixture
def records(sector, key):
    """SF0000000001 at 顺丰 JS01 (inspected and screened) and the same number at 中通 ZT01;
    SF0000000002 at 顺丰 CD01 (another district)."""
    when = ago(minutes=30)
    push(key, "shipments", [parcel("SF0000000001"), parcel("SF0000000002", outlet="CD01")],
         idem="s")
    push(key, "inspections", [{"waybill": "SF0000000001", "outlet": "JS01", "inspected_at": when,
                               "inspector": "王五", "photo_ref": "oss://1.jpg"}], idem="i")
    push(key, "scans", [{"waybill": "SF0000000001", "outlet": "JS01", "scanned_at": when,
                         "machine": "XR-JS01-1", "alarm": "false"}], idem="x")
    rival_key = make_key(sector, sector.other_company.org, "中通系统")[1]
    push(rival_key, "shipments", [parcel("SF0000000001", outlet="ZT01", sender_name="李四")],
         idem="z")
    return rival_key


def lookup(client_or_key, waybill, **params):
    if isinstance(client_or_key, str):
        return get(client_or_key, f"/api/v1/delivery/waybills/{waybill}", **params)
    return client_or_key.get(f"/api/v1/delivery/waybills/{waybill}", params)


def test_lookup_is_scoped_and_masked(sector, key, records, client_for):
    response = lookup(key, "SF0000000001")
    assert response.status_code == 200
    data = response.json()
    assert [p["company"] for p in data["parcels"]] == ["顺丰"]  # not the rival's parcel
    found = data["parcels"][0]
    assert found["sender"] == {"name": "张*", "id_type": "111", "id_number": "3206**********1232",
                               "phone": "138****5678"}
    assert found["real_name"] and found["inspected"] and found["xrayed"]
    assert found["outlet"] == "JS01" and found["outlet_name"] == "顺丰金沙营业部"
    assert [(i["inspector"], i["has_photo"]) for i in found["inspections"]] == [("王五", True)]
    assert [s["machine"] for s in found["scans"]] == ["XR-JS01-1"]
    raw = response.content.decode()
    assert ID_A not in raw and "13812345678" not in raw and "张三" not in raw

    # A regulator of the district sees both companies' parcels there, not another district's.
    regulator = client_for(sector.regulator)
    both = lookup(regulator, "SF0000000001").json()
    assert sorted(p["company"] for p in both["parcels"]) == ["中通", "顺丰"]
    rival = next(p for p in both["parcels"] if p["company"] == "中通")
    assert rival["sender"]["name"] == "李*" and rival["inspections"] == []
    assert lookup(regulator, "SF0000000002").json()["parcels"] == []
    # The rival's key sees its own parcel only, without 顺丰's inspection and scans.
    theirs = lookup(records, "SF0000000001").json()
    assert [p["company"] for p in theirs["parcels"]] == ["中通"]
    assert theirs["inspections"] == [] and theirs["scans"] == []
    # Outlet staff of JS01 see JS01's parcel.
    assert [p["outlet"] for p in lookup(client_for(sector.outlet_user),
                                        "SF0000000001").json()["parcels"]] == ["JS01"]
    # Unknown and malformed numbers; a day narrows the search.
    assert lookup(key, "SF9999999999").json()["parcels"] == []
    assert lookup(key, "x").status_code == 400
    yesterday = timezone.localdate() - dt.timedelta(days=1)
    assert lookup(key, "SF0000000001", day=yesterday.isoformat()).json()["parcels"] == []
    # Roles without view_shipment are refused.
    leader = client_for(sector.world.personas["grid_worker"])
    assert lookup(leader, "SF0000000001").status_code == 403


def test_lookup_reads_each_table_once(sector, key, records, client_for):
    regulator = client_for(sector.regulator)
    lookup(regulator, "SF0000000001")  # warm the session and scope

    def tables(waybill):
        with CaptureQueriesContext(connection) as queries:
            assert lookup(regulator, waybill).status_code == 200
        hits = {}
        for query in queries.captured_queries:
            sql = query["sql"]
            for table in ("delivery_shipment", "delivery_inspection", "delivery_xrayscan"):
                if f'FROM "{table}"' in sql:
                    hits[table] = hits.get(table, 0) + 1
                    assert "waybill" in sql
        return hits, len(queries.captured_queries)

    two, total_two = tables("SF0000000001")  # two parcels, an inspection, a scan
    none, total_none = tables("SF0000000003")
    assert two == {"delivery_shipment": 1, "delivery_inspection": 1, "delivery_xrayscan": 1}
    assert none == two and total_two == total_none


def test_lookup_uses_the_waybill_index_on_postgresql(sector, key, records):
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only")
    from zhili.delivery.models import Shipment as Model

    sql, params = Model.objects.filter(waybill="SF0000000001").query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("EXPLAIN " + sql, params)
        plan = "\n".join(r[0] for r in cursor.fetchall())
    assert "waybill" in plan and ("Index" in plan or "Bitmap" in plan), plan


def test_openapi_documents_the_feed(sector, key):
    schema = Client().get("/api/v1/openapi.json").json()
    operation = schema["paths"]["/api/v1/delivery/feeds/{kind}"]["post"]
    assert "application/x-ndjson" in operation["requestBody"]["content"]
    assert any(p["name"] == "Idempotency-Key" for p in operation["parameters"])
    assert json.dumps(schema)  # the whole schema still renders
