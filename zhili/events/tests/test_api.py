import json
import uuid

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from zhili.events.models import Event

pytestmark = pytest.mark.django_db


def post(client, url, data):
    return client.post(url, json.dumps(data), content_type="application/json")


def test_report_list_detail_and_act(loop, client_for):
    worker = client_for(loop.grid_worker)
    key = str(uuid.uuid4())
    payload = {"category": "garbage", "description": "垃圾满溢",
               "area_code": loop.world.grid_a1.code, "client_uuid": key}
    first = post(worker, "/api/v1/events", payload)
    assert first.status_code == 201
    again = post(worker, "/api/v1/events", payload)
    assert again.json()["id"] == first.json()["id"]  # a retried submission
    event_id = first.json()["id"]

    dispatcher = client_for(loop.dispatcher)
    todo = dispatcher.get("/api/v1/events?box=todo").json()
    assert [e["id"] for e in todo["items"]] == [event_id]
    detail = dispatcher.get(f"/api/v1/events/{event_id}").json()
    assert "accept" in detail["actions"] and detail["timeline"][0]["action"] == "report"
    response = post(dispatcher, f"/api/v1/events/{event_id}/actions/accept",
                    {"version": detail["version"]})
    assert response.status_code == 200 and response.json()["state"] == "accepted"
    stale = post(dispatcher, f"/api/v1/events/{event_id}/actions/reject",
                 {"version": detail["version"], "reason": "x"})
    assert stale.status_code == 409 and stale.json()["code"] == "stale"
    bad = post(dispatcher, f"/api/v1/events/{event_id}/actions/dispatch", {})
    assert bad.status_code == 400 and "lead_org" in bad.json()["fields"]
    unknown = post(dispatcher, f"/api/v1/events/{event_id}/actions/teleport", {})
    assert unknown.status_code == 404
    ok = post(dispatcher, f"/api/v1/events/{event_id}/actions/dispatch",
              {"lead_org": loop.world.police_a.pk})
    assert ok.json()["state"] == "dispatched"
    assert client_for(loop.grid_worker).get(f"/api/v1/events/{event_id}").status_code == 200


def test_report_errors(loop, client_for):
    worker = client_for(loop.grid_worker)
    response = post(worker, "/api/v1/events", {"category": "nope", "description": "x",
                                               "area_code": loop.world.grid_a1.code})
    assert response.status_code == 400 and "category" in response.json()["fields"]
    response = post(worker, "/api/v1/events", {"category": "garbage", "description": "x",
                                               "area_code": loop.world.grid_b1.code})
    assert response.status_code == 400 and "area_code" in response.json()["fields"]
    response = post(worker, "/api/v1/events", {"category": "garbage", "lat": 91})
    assert response.status_code == 422 and "lat" in response.json()["fields"]


def test_upload_with_photos(loop, client_for, photo_bytes):
    worker = client_for(loop.grid_worker)
    response = worker.post("/api/v1/events/upload", {
        "category": "garbage", "description": "有照片", "area_code": loop.world.grid_a1.code,
        "photos": [SimpleUploadedFile("a.jpg", photo_bytes(gps=(32.0, 120.9)))]})
    assert response.status_code == 201, response.content
    event = Event.objects.get(pk=response.json()["id"])
    photo = event.photos.get()
    image = worker.get(f"/events/photos/{photo.pk}/")
    assert image.status_code == 200 and image["Content-Type"] == "image/jpeg"
    bad = worker.post("/api/v1/events/upload", {
        "category": "garbage", "description": "坏图", "area_code": loop.world.grid_a1.code,
        "photos": [SimpleUploadedFile("a.jpg", b"not an image")]})
    assert bad.status_code == 400 and "photos" in bad.json()["fields"]
    assert Event.objects.count() == 1  # nothing half-written
    outsider = client_for(loop.world.personas["sibling_admin"].user)
    assert outsider.get(f"/events/photos/{photo.pk}/").status_code == 404


def test_device_api_key(loop):
    from django.test import Client

    from zhili.accounts.services import create_api_key

    key, raw = create_api_key(actor=loop.world.personas["superuser"].user,
                              org=loop.world.centre_a1, name="烟感平台")
    response = Client().post("/api/v1/events", json.dumps({
        "category": "fire-hazard", "description": "烟感报警 3号楼",
        "area_code": loop.world.grid_a1.code}), content_type="application/json",
        HTTP_X_API_KEY=raw)
    assert response.status_code == 201
    assert Event.objects.get(pk=response.json()["id"]).channel == "device"


def test_suggestions_learn_from_confirmed_categories(loop):
    from zhili.events import services
    from zhili.events.suggest import suggest, train

    assert suggest("楼下垃圾桶满了")[0][0] == loop.garbage  # keywords before any history
    texts = [("垃圾桶满溢无人清运", loop.garbage), ("广场舞音响噪音太大", loop.noise)] * 20
    for text, category in texts:
        event = services.report_event(actor=loop.grid_worker, channel="grid",
                                      category=category, title=text, description=text,
                                      area=loop.world.grid_a1).event
        services.accept_event(actor=loop.dispatcher, event=event, category=category)
    assert train(full=True) == 40
    best, score = suggest("晚上广场舞噪音扰民")[0]
    assert best == loop.noise and score > 0


def test_pwa_files(loop, client_for):
    client = client_for(loop.grid_worker)
    manifest = client.get("/events/m/manifest.json").json()
    assert manifest["display"] == "standalone" and manifest["start_url"] == "/events/m/"
    worker = client.get("/events/m/sw.js")
    assert worker["Service-Worker-Allowed"] == "/events/m/" and b"caches" in worker.content
    page = client.get("/events/m/").content.decode()
    assert 'rel="manifest"' in page and "mobile.js" in page
