import json

import pytest

from zhili.people.models import Person

pytestmark = pytest.mark.django_db


def send(client, method, url, data):
    return client.generic(method, url, json.dumps(data), content_type="application/json")


def test_person_create_lookup_detail_update(world, worker, client_for, ids):
    client = client_for(worker)
    number = ids()
    response = send(client, "POST", "/api/v1/people/persons", {
        "area_code": world.grid_a1.code, "name": "张三", "id_number": number,
        "phone": "13812345678", "ethnicity": "汉"})
    assert response.status_code == 201, response.content
    pk = response.json()["id"]
    again = send(client, "POST", "/api/v1/people/persons", {
        "area_code": world.grid_a1.code, "name": "张三", "id_number": number})
    assert again.status_code == 400 and again.json()["code"] == "duplicate"
    assert "id_number" in again.json()["fields"]

    found = client.get("/api/v1/people/persons", {"id_number": number}).json()["items"]
    assert [p["id"] for p in found] == [pk]
    assert found[0]["id_number"] == "3206**********" + number[-4:]
    assert found[0]["phone"] == "138****5678"
    by_phone = client.get("/api/v1/people/persons", {"phone": "+86 138-1234-5678"}).json()
    assert [p["id"] for p in by_phone["items"]] == [pk]
    detail = client.get(f"/api/v1/people/persons/{pk}")
    assert detail.status_code == 200 and number not in detail.content.decode()

    bad = send(client, "PATCH", f"/api/v1/people/persons/{pk}", {"sex": "女"})
    assert bad.status_code == 400 and "sex" in bad.json()["fields"]
    ok = send(client, "PATCH", f"/api/v1/people/persons/{pk}", {"occupation": "电工"})
    assert ok.status_code == 200 and Person.objects.get(pk=pk).occupation == "电工"

    fact = send(client, "PUT", f"/api/v1/people/persons/{pk}/residencies/left_behind",
                {"left_behind_type": "01"})
    assert fact.status_code == 400 and "related_name" in fact.json()["fields"]
    fact = send(client, "PUT", f"/api/v1/people/persons/{pk}/residencies/floating",
                {"inflow_reason": "务工", "residence_type": "租赁房屋"})
    assert fact.status_code == 200
    detail = client.get(f"/api/v1/people/persons/{pk}").json()
    assert detail["residency_facts"][0]["fields"]["inflow_reason"] == "01"


def test_out_of_scope_is_404_and_area_refused(world, worker, client_for, ids):
    superuser = client_for(world.personas["superuser"].user)
    pk = send(superuser, "POST", "/api/v1/people/persons", {
        "area_code": world.grid_b1.code, "name": "王五", "id_number": ids()}).json()["id"]
    client = client_for(worker)
    assert client.get(f"/api/v1/people/persons/{pk}").status_code == 404
    assert client.get("/api/v1/people/persons", {"id_number": ids()}).json()["items"] == []
    refused = send(client, "POST", "/api/v1/people/persons", {
        "area_code": world.grid_b1.code, "name": "李四"})
    assert refused.status_code == 400 and "area_code" in refused.json()["fields"]


def test_houses_buildings_units(world, worker, client_for, ids):
    client = client_for(worker)
    building = send(client, "POST", "/api/v1/people/buildings", {
        "area_code": world.grid_a1.code, "fields": {"estate": "东市花园", "name": "3幢",
                                                    "floors": 6, "leader_phone": "13600001111"}})
    assert building.status_code == 201, building.content
    bid = building.json()["id"]
    assert client.get(f"/api/v1/people/buildings/{bid}").json()["leader_phone"] == "136****1111"
    house = send(client, "POST", "/api/v1/people/houses", {
        "building_id": bid, "fields": {"number": "3-1-201", "address": "东市花园3幢201",
                                       "is_rental": True}})
    assert house.status_code == 400 and "owner_id_number" in house.json()["fields"]
    house = send(client, "POST", "/api/v1/people/houses", {
        "building_id": bid, "fields": {
            "number": "3-1-201", "address": "东市花园3幢201", "is_rental": True,
            "owner_name": "钱七", "owner_id_number": ids("19700101", "333"),
            "owner_phone": "13700001111", "owner_address": "工农路1号", "rental_use": "住房",
            "hazard": "无"}})
    assert house.status_code == 201, house.content
    rentals = client.get("/api/v1/people/houses", {"rental": "true"}).json()["items"]
    assert rentals[0]["owner_id_number"].startswith("3206****")
    unit = send(client, "POST", "/api/v1/people/units", {
        "area_code": world.grid_a1.code, "kind": "enterprise", "fields": {
            "uscc": "91110000600037341A", "name": "测试公司", "address": "x",
            "legal_rep_name": "周九", "attention": "高", "category": "01", "hazard": "00"}})
    assert unit.status_code == 400 and "uscc" in unit.json()["fields"]
    unit = send(client, "POST", "/api/v1/people/units", {
        "area_code": world.grid_a1.code, "kind": "social_org", "fields": {
            "uscc": "91110000600037341L", "name": "东市志愿者协会", "address": "x",
            "legal_rep_name": "周九", "attention": "低", "category": "01",
            "registration_number": "苏民证字第001号", "has_foreign_background": "否"}})
    assert unit.status_code == 201, unit.content
    listed = client.get("/api/v1/people/units", {"uscc": "91110000600037341l"}).json()
    assert listed["items"][0]["details"]["registration_number"] == "苏民证字第001号"
