"""The API: intake, list (masked), detail, visits with photos, handovers — and its errors."""

import pytest

from zhili.special.models import Supervision, Visit

from .conftest import MENTAL_DETAILS, id_number

pytestmark = pytest.mark.django_db
ZHANG = id_number("320612", "19800101", "123")


def intake(client, **extra):
    body = {"id_number": ZHANG, "category": "mental", "level": "strict", "risk_level": "3",
            "details": MENTAL_DETAILS,
            "helpers": [{"role": "guardian", "name": "张母", "phone": "13905137788"}], **extra}
    return client.post("/api/v1/special/records", body, content_type="application/json")


def test_intake_list_detail(sp, client_for):
    client = client_for(sp.town)
    response = intake(client)
    assert response.status_code == 201, response.json()
    record = response.json()
    assert record["person_name"] == "张**" and record["id_number"].startswith("3206****")
    assert record["next_visit_due"]
    items = client.get("/api/v1/special/records", {"category": "mental"}).json()["items"]
    assert [i["id"] for i in items] == [record["id"]]
    detail = client.get(f"/api/v1/special/records/{record['id']}").json()
    assert detail["helpers"][0]["phone"] == "139****7788"
    assert set(detail["missing_team_roles"]) == {"doctor", "cadre", "police"}
    assert {d["name"]: d["display"] for d in detail["details"]}["diagnosis"] == "精神分裂症"
    assert detail["timeline"][0]["action"] == "intake"
    assert "张三丰" not in str(detail) and ZHANG not in str(detail)
    assert client.get("/api/v1/special/records", {"category": "nope"}).status_code == 400


def test_intake_errors(sp, client_for):
    client = client_for(sp.town)
    response = intake(client, details={**MENTAL_DETAILS, "diagnosis": "42"})
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid" and "details.diagnosis" in body["fields"]
    assert intake(client).status_code == 201
    response = intake(client)
    assert response.status_code == 409 and response.json()["code"] == "already_managed"
    response = intake(client, id_number=ZHANG[:-1] + ("0" if ZHANG[-1] != "0" else "1"))
    assert response.status_code == 400 and "id_number" in response.json()["fields"]
    assert Supervision.objects.count() == 1


def test_visits_and_handovers(sp, client_for, jpeg_bytes):
    record = intake(client_for(sp.town)).json()
    worker = client_for(sp.grid_worker)
    url = f"/api/v1/special/records/{record['id']}/visits"
    body = {"method": "home", "findings": "正常", "client_uuid":
            "0b7c2a4e-0a1d-4f47-9d7a-1c2b3d4e5f60"}
    first = worker.post(url, body, content_type="application/json")
    again = worker.post(url, body, content_type="application/json")  # a retried send
    assert first.status_code == 201 and again.json()["id"] == first.json()["id"]
    response = worker.post(url + "/upload", {"method": "phone", "findings": "电话回访",
                                             "photos": [_file(jpeg_bytes())]})
    assert response.status_code == 201 and len(response.json()["photos"]) == 1
    assert Visit.objects.count() == 2
    # A handover to a place that does not exist, then to 兴东村.
    client = client_for(sp.town)
    hurl = f"/api/v1/special/records/{record['id']}/handover"
    response = client.post(hurl, {"to_area_code": "320699", "reason": "搬迁"},
                           content_type="application/json")
    assert response.status_code == 400 and "to_area" in response.json()["fields"]
    response = client.post(hurl, {"to_area_code": sp.world.village_a2.code[:12],
                                  "reason": "搬迁"}, content_type="application/json")
    assert response.status_code == 201
    handover = response.json()
    assert handover["actions"] == ["withdraw"]
    receiver = client_for(sp.town2)
    listed = receiver.get("/api/v1/special/handovers").json()["items"]
    assert [h["id"] for h in listed] == [handover["id"]] and listed[0]["actions"] == [
        "accept", "dispute"]
    response = receiver.post(f"/api/v1/special/handovers/{handover['id']}/accept",
                             {"note": "已接收"}, content_type="application/json")
    assert response.status_code == 200 and response.json()["state"] == "accepted"
    # The record is now 兴东's; released, it refuses visits.
    response = receiver.post(f"/api/v1/special/records/{record['id']}/release",
                             {"reason": "left"}, content_type="application/json")
    assert response.status_code == 200 and response.json()["state"] == "released"
    response = client_for(sp.worker2).post(url, {"method": "home", "findings": "x"},
                                           content_type="application/json")
    assert response.status_code == 409 and response.json()["code"] == "not_under_management"


def _file(data):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile("v.jpg", data, "image/jpeg")


def test_categories(sp, client_for):
    categories = client_for(sp.grid_worker).get("/api/v1/special/categories").json()
    by_code = {c["code"]: c for c in categories}
    assert set(by_code) >= {"mental", "youth", "drug", "released", "correction", "cult"}
    assert by_code["mental"]["gbt_table"] == "T19"
    assert [r["code"] for r in by_code["mental"]["risk_levels"]] == list("012345")
    assert by_code["correction"]["field_definitions"][2]["table"] == "5.24"
    admin = sp.user("a.city", "sysadmin", sp.world.city)
    client = client_for(admin)
    response = client.post("/api/v1/special/categories", {
        "code": "petitioner", "name": "重点信访人员", "visit_days": {"strict": 7, "key": 15,
                                                                 "general": 30},
        "field_definitions": [{"name": "x", "label": "X", "type": "colour"}]},
        content_type="application/json")
    assert response.status_code == 400
    assert "unknown type" in response.json()["fields"]["field_definitions"][0]
