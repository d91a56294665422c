import json

import pytest

from zhili.core.services import ServiceError
from zhili.orgs import services
from zhili.orgs.models import Organisation

pytestmark = pytest.mark.django_db


def test_uscc_is_validated_by_gb32100(personas, world):
    admin = personas["district_admin"].user
    org = services.create_organisation(actor=admin, name="通州律师事务所", kind="law_firm",
                                       area=world.county_a, uscc="91110000600037341l")
    assert org.uscc == "91110000600037341L"
    with pytest.raises(ServiceError) as exc:
        services.create_organisation(actor=admin, name="错码公司", kind="other",
                                     area=world.county_a, uscc="91110000600037341X")
    assert "not a valid unified social credit code" in exc.value.field_messages["uscc"][0]


def test_outlet_needs_a_courier_company_parent(personas, world):
    admin = personas["district_admin"].user
    with pytest.raises(ServiceError) as exc:
        services.create_organisation(actor=admin, name="网点", kind="outlet", area=world.town_a1)
    assert "parent" in exc.value.field_messages
    with pytest.raises(ServiceError):
        services.create_organisation(actor=admin, name="网点", kind="outlet", area=world.town_a1,
                                     parent=world.police_a)
    outlet = services.create_organisation(actor=admin, name="网点", kind="outlet",
                                          area=world.town_a1, parent=world.courier)
    assert outlet.area_code == world.town_a1.code


def test_a_move_out_of_reach_is_refused_and_nothing_changes(personas, world):
    admin = personas["town_admin"].user
    with pytest.raises(ServiceError) as exc:
        services.update_organisation(actor=admin, org=world.centre_a1, area=world.town_a2)
    assert exc.value.code == "out_of_scope"
    world.centre_a1.refresh_from_db()
    assert world.centre_a1.area == world.town_a1


def test_duplicate_name_in_one_area_is_a_field_error(personas, world):
    with pytest.raises(ServiceError) as exc:
        services.create_organisation(actor=personas["district_admin"].user,
                                     name="通州公安分局", kind="department", area=world.county_a)
    assert "already has an organisation" in exc.value.field_messages["name"][0]


def test_closing_needs_children_closed_first(personas, world):
    admin = personas["superuser"].user
    with pytest.raises(ServiceError, match="Close the organisations under"):
        services.set_organisation_active(actor=admin, org=world.courier, active=False)
    services.set_organisation_active(actor=admin, org=world.outlet_a1, active=False)
    services.set_organisation_active(actor=admin, org=world.courier, active=False)
    assert not Organisation.objects.get(pk=world.courier.pk).is_active


def test_org_scoped_staff_see_only_their_organisation(personas, world):
    staff = personas["org_staff"].user
    visible = set(Organisation.objects.restrict(staff).values_list("name", flat=True))
    assert visible == {"通州公安分局"}


def test_api_create_and_filter(client_for, personas, world):
    client = client_for(personas["district_admin"])
    response = client.post("/api/v1/orgs", json.dumps({
        "name": "金沙派出所", "kind": "police", "area_id": world.town_a1.pk}),
        content_type="application/json")
    assert response.status_code == 201, response.json()
    data = client.get("/api/v1/orgs?kind=police").json()
    assert [o["name"] for o in data["items"]] == ["金沙派出所"]
    response = client.post("/api/v1/orgs", json.dumps({
        "name": "x", "kind": "spaceport", "area_id": world.town_a1.pk}),
        content_type="application/json")
    assert response.status_code == 422 and "kind" in response.json()["fields"]


def test_ui_create_shows_field_errors(client_for, personas, world):
    client = client_for(personas["town_admin"])
    response = client.post("/orgs/new/", {"name": "越权单位", "kind": "other",
                                          "area": world.town_b1.pk})
    assert response.status_code == 200
    assert not Organisation.objects.filter(name="越权单位").exists()
    response = client.post("/orgs/new/", {"name": "金沙物业", "kind": "other",
                                          "area": world.village_a1.pk})
    org = Organisation.objects.get(name="金沙物业")
    assert response.status_code == 302 and response["Location"] == f"/orgs/{org.pk}/"


def test_an_organisation_cannot_sit_under_itself(personas, world):
    admin = personas["superuser"].user
    child = services.create_organisation(actor=admin, name="下属单位", kind="other",
                                         area=world.county_a, parent=world.justice_a)
    with pytest.raises(ServiceError, match="under itself"):
        services.update_organisation(actor=admin, org=world.justice_a, parent=child)
