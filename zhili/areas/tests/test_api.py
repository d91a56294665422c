import json

import pytest

from zhili.areas.models import Area
from zhili.core import codes

pytestmark = pytest.mark.django_db


def post(client, url, payload):
    return client.post(url, json.dumps(payload), content_type="application/json")


def test_list_is_scoped_and_filterable(client_for, personas, world):
    client = client_for(personas["town_admin"])
    data = client.get("/api/v1/areas?level=grid").json()
    assert {a["code"] for a in data["items"]} == {world.grid_a1.code, world.grid_a1b.code}
    data = client.get("/api/v1/areas?q=兴东").json()
    assert data["count"] == 0
    response = client.get("/api/v1/areas?level=planet")
    assert response.status_code == 400 and "level" in response.json()["fields"]


def test_object_out_of_scope_is_404_and_family_is_given(client_for, personas, world):
    client = client_for(personas["town_admin"])
    assert client.get(f"/api/v1/areas/{world.town_a2.pk}").status_code == 404
    family = client.get(f"/api/v1/areas/{world.village_a1.pk}/family").json()
    assert [a["name"] for a in family["ancestors"]] == ["南通市", "通州区", "金沙街道"]
    assert len(family["children"]) == 2


def test_create_validation_errors_are_field_level(client_for, personas, world):
    client = client_for(personas["district_admin"])
    response = post(client, "/api/v1/areas", {"parent_id": world.town_a1.pk,
                                              "code": "320613001009", "name": "错码"})
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid" and "does not extend" in body["fields"]["code"][0]
    response = post(client, "/api/v1/areas", {"parent_id": world.town_a1.pk})
    assert response.status_code == 422 and "name" in response.json()["fields"]
    response = client.post("/api/v1/areas", "{not json", content_type="application/json")
    assert response.status_code == 400 and response.json()["code"] == "bad_request"
    response = post(client, "/api/v1/areas", {"parent_id": world.town_b1.pk,
                                              "code": "320613001009", "name": "越权"})
    assert response.status_code == 400 and "parent_id" in response.json()["fields"]


def test_create_and_patch(client_for, personas, world):
    client = client_for(personas["district_admin"])
    response = post(client, "/api/v1/areas", {"parent_id": world.village_a1.pk, "name": "第9网格"})
    assert response.status_code == 201
    grid = response.json()
    assert grid["code"] == codes.pad("320612001001003") and grid["level_name"] == "Grid"
    response = client.patch(f"/api/v1/areas/{grid['id']}", json.dumps({"name": "第三网格"}),
                            content_type="application/json")
    assert response.status_code == 200 and response.json()["name"] == "第三网格"


def test_geojson(client_for, personas, world):
    square = {"type": "Polygon",
              "coordinates": [[[120, 32], [121, 32], [121, 33], [120, 33], [120, 32]]]}
    Area.objects.filter(pk=world.grid_a1.pk).update(polygon=square)
    client = client_for(personas["town_admin"])
    data = client.get(f"/api/v1/areas/{world.village_a1.pk}/geojson").json()
    assert data["type"] == "FeatureCollection"
    assert [f["properties"]["name"] for f in data["features"]] == ["第1网格"]


def test_merge_over_api(client_for, personas, world, django_capture_on_commit_callbacks):
    client = client_for(personas["district_admin"])
    with django_capture_on_commit_callbacks(execute=True):
        response = post(client, f"/api/v1/areas/{world.town_a1.pk}/merge",
                        {"target_id": world.town_a2.pk, "note": "合并"})
    assert response.status_code == 200 and response.json()["id"] == world.town_a2.pk
    response = post(client, f"/api/v1/areas/{world.town_a2.pk}/retire", {})
    assert response.status_code == 400 and response.json()["code"] == "in_use"


def test_import_over_api_returns_a_job(client_for, personas, world,
                                       django_capture_on_commit_callbacks):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client = client_for(personas["district_admin"])
    upload = SimpleUploadedFile("a.csv", "code,name,level,parent_code\n"
                                "320612001007,新社区,village,320612001\n".encode())
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/api/v1/areas/import", {"file": upload, "dry_run": "false"})
    assert response.status_code == 202
    job = client.get(response.json()["status_url"]).json()
    assert job["status"] == "succeeded" and job["result"]["created"] == 1
