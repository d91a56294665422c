"""Open311 GeoReport v2: services, requests (GET/POST), a request, tokens; errors."""

import xml.etree.ElementTree as ET

import pytest
from django.core.cache import cache

from zhili.events import services

pytestmark = pytest.mark.django_db


@pytest.fixture
def city(loop):
    square = {"type": "Polygon", "coordinates": [[[120.8, 32.0], [120.9, 32.0], [120.9, 32.1],
                                                  [120.8, 32.1], [120.8, 32.0]]]}
    loop.world.grid_a1.set_polygon(square)
    loop.world.grid_a1.save()
    cache.clear()
    return loop


def post(client, **data):
    base = {"service_code": "garbage", "lat": "32.05", "long": "120.85",
            "description": "小区门口垃圾堆积", "first_name": "三", "last_name": "张",
            "phone": "13812345678"}
    return client.post("/open311/v2/requests.json", {**base, **data})


def test_services(client, city):
    services_ = client.get("/open311/v2/services.json").json()
    codes = {s["service_code"] for s in services_}
    assert "garbage" in codes and "city" not in codes  # groups are not services
    garbage = next(s for s in services_ if s["service_code"] == "garbage")
    assert garbage["type"] == "realtime" and garbage["group"] == "环境卫生"
    xml = ET.fromstring(client.get("/open311/v2/services.xml").content)
    assert xml.tag == "services" and xml.find("service/service_code") is not None
    assert client.get("/open311/v2/services/garbage.json").json()["service_code"] == "garbage"
    assert client.get("/open311/v2/services/nope.json").status_code == 404
    assert client.get("/open311/v2/services.csv").status_code == 404


def test_post_then_follow_the_request(client, city):
    response = post(client)
    assert response.status_code == 201
    created = response.json()[0]
    number, token = created["service_request_id"], created["token"]
    one = client.get(f"/open311/v2/requests/{number}.json").json()[0]
    assert one["status"] == "open" and one["service_code"] == "garbage"
    assert "13812345678" not in client.get(f"/open311/v2/requests/{number}.json").content.decode()
    assert client.get(f"/open311/v2/tokens/{token}.json").json()[0]["service_request_id"] == \
        number
    listed = client.get("/open311/v2/requests.json?status=open&service_code=garbage").json()
    assert [r["service_request_id"] for r in listed] == [number]
    assert client.get("/open311/v2/requests.json?status=closed").json() == []
    from zhili.events.models import Event

    event = Event.objects.get(number=number)
    assert event.channel == "public" and event.reporter_contact == "13812345678"
    assert event.reporter_name == "张 三"


def test_merged_duplicates_show_the_original(client, city):
    first = post(client).json()[0]["service_request_id"]
    second = post(client).json()[0]["service_request_id"]
    from zhili.events.models import Event

    original, duplicate = Event.objects.get(number=first), Event.objects.get(number=second)
    services.merge_event(actor=city.dispatcher, event=duplicate, into=original)
    shown = client.get(f"/open311/v2/requests/{second}.json").json()[0]
    assert first in shown["status_notes"] and shown["status"] == "open"


@pytest.mark.parametrize("data,fragment", [
    ({"service_code": ""}, "service_code is required"),
    ({"service_code": "teleport"}, "Unknown service_code"),
    ({"lat": ""}, "lat and long are required"),
    ({"lat": "north"}, "must be numbers"),
    ({"lat": "39.9", "long": "116.4"}, "outside the city"),
    ({"description": ""}, "description is required"),
])
def test_bad_posts_answer_in_the_open311_error_format(client, city, data, fragment):
    response = post(client, **data)
    assert response.status_code == 400
    error = response.json()[0]
    assert error["code"] == 400 and fragment in error["description"]


def test_posting_is_rate_limited(client, city, monkeypatch):
    from zhili.events import open311

    monkeypatch.setattr(open311, "POSTS_PER_HOUR", 2)
    assert post(client).status_code == 201
    assert post(client).status_code == 201
    assert post(client).status_code == 429


def test_xml_error(client, city):
    response = client.post("/open311/v2/requests.xml", {"service_code": ""})
    root = ET.fromstring(response.content)
    assert response.status_code == 400 and root.tag == "errors"
    assert root.find("error/code").text == "400"
