import pytest
from django.urls import reverse

from zhili.people import services
from zhili.people.models import House, Person

pytestmark = pytest.mark.django_db


@pytest.fixture
def zhang(world, worker, person_data):
    return services.create_person(actor=worker, area=world.grid_a1, data=person_data).obj


def test_detail_masks_personal_data(zhang, worker, client_for, person_data):
    page = client_for(worker).get(zhang.get_absolute_url()).content.decode()
    assert person_data["id_number"] not in page and "13812345678" not in page
    assert "3206**********" + person_data["id_number"][-4:] in page
    assert "138****5678" in page
    assert "东市路12号" not in page and "张三" in page


def test_list_is_scoped_and_searches_exactly(world, zhang, client_for, person_data, ids):
    superuser = world.personas["superuser"].user
    other = services.create_person(actor=superuser, area=world.grid_b1, data={
        "name": "王五", "id_number": ids("19850101", "222")}).obj
    worker = client_for(world.personas["grid_worker"].user)
    page = worker.get(reverse("people:persons")).content.decode()
    assert "张三" in page and "王五" not in page
    found = worker.get(reverse("people:persons"), {"q": person_data["id_number"]}).content
    assert "张三" in found.decode()
    by_phone = worker.get(reverse("people:persons"), {"q": "138 1234 5678"}).content.decode()
    assert "张三" in by_phone
    nobody = worker.get(reverse("people:persons"), {"q": ids("19850101", "222")}).content
    assert "王五" not in nobody.decode()
    assert worker.get(other.get_absolute_url()).status_code == 404


def test_create_form_shows_field_errors(world, worker, client_for, ids):
    client = client_for(worker)
    bad = ids()[:-1] + ("0" if ids()[-1] != "0" else "1")
    response = client.post(reverse("people:person_create"), {
        "name": "赵六", "id_type": "111", "id_number": bad, "area": world.grid_a1.pk})
    assert response.status_code == 200
    assert "invalid-feedback" in response.content.decode()
    assert not Person.objects.exists()
    response = client.post(reverse("people:person_create"), {
        "name": "赵六", "id_type": "111", "id_number": ids(), "area": world.grid_a1.pk,
        "phone": "13900001111"})
    person = Person.objects.get()
    assert response.status_code == 302 and response["Location"] == person.get_absolute_url()
    assert person.sex == "1"


def test_edit_keeps_encrypted_values_left_empty(zhang, worker, client_for, person_data):
    client = client_for(worker)
    form = client.get(reverse("people:person_edit", args=[zhang.pk])).content.decode()
    assert person_data["id_number"] not in form and "13812345678" not in form
    response = client.post(reverse("people:person_edit", args=[zhang.pk]), {
        "name": "张三丰", "id_type": "111", "id_number": "", "phone": ""})
    assert response.status_code == 302
    zhang.refresh_from_db()
    assert zhang.name == "张三丰" and zhang.id_number == person_data["id_number"]
    assert zhang.phone == "13812345678"


def test_history_page_masks_and_names_the_editor(zhang, worker, client_for):
    services.update_person(actor=worker, person=zhang, data={"phone": "13900002222"})
    page = client_for(worker).get(reverse("people:person_history", args=[zhang.pk]))
    text = page.content.decode()
    assert page.status_code == 200
    assert "139****2222" in text and "13900002222" not in text and "13812345678" not in text
    assert "Persona grid_worker" in text


def test_history_needs_change_permission(world, zhang, client_for):
    leader_like = world.personas["city_dispatcher"].user  # views persons, does not edit them
    client = client_for(leader_like)
    assert client.get(zhang.get_absolute_url()).status_code == 200
    assert client.get(reverse("people:person_history", args=[zhang.pk])).status_code == 403


def test_house_with_tenants_and_mobile_pages(world, worker, client_for, ids):
    client = client_for(worker)
    response = client.post(reverse("people:mobile_house"), {
        "area": world.grid_a1.pk, "number": "3-2-501", "address": "东市路12号3幢501室",
        "is_rental": "on", "owner_name": "钱七", "owner_id_type": "111",
        "owner_id_number": ids("19700101", "333"), "owner_phone": "13700001111",
        "owner_address": "南通市崇川区工农路1号", "rental_use": "02", "hazard": "00"})
    house = House.objects.get()
    assert response.status_code == 302 and f"house={house.pk}" in response["Location"]
    response = client.post(response["Location"], {
        "area": world.grid_a1.pk, "house": house.pk, "name": "孙八", "id_type": "111",
        "id_number": ids("19950505", "444")})
    assert response.status_code == 302
    tenant = Person.objects.get(name="孙八")
    assert tenant.house == house and tenant.house_relation == "tenant"
    page = client.get(house.get_absolute_url()).content.decode()
    assert "孙八" in page and "13700001111" not in page
    home = client.get(reverse("people:mobile"), {"q": ids("19950505", "444")}).content.decode()
    assert "孙八" in home


def test_rental_house_needs_owner(world, worker, client_for):
    response = client_for(worker).post(reverse("people:house_create"), {
        "area": world.grid_a1.pk, "number": "9-9", "address": "东市路", "is_rental": "on"})
    assert response.status_code == 200 and not House.objects.exists()
    assert "GB/T 31000 T16" in response.content.decode()


def test_residency_form_and_unit_pages(world, zhang, worker, client_for):
    client = client_for(worker)
    url = reverse("people:residency_edit", args=[zhang.pk, "floating"])
    assert client.get(url).status_code == 200
    response = client.post(url, {"inflow_reason": "01", "residence_type": "02",
                                 "document_number": "JZ2024001"})
    assert response.status_code == 302
    page = client.get(zhang.get_absolute_url()).content.decode()
    assert "JZ2024001" not in page
    response = client.post(reverse("people:unit_create") + "?kind=enterprise", {
        "area": world.grid_a1.pk, "uscc": "91110000600037341L", "name": "南通测试有限公司",
        "address": "东市路1号", "legal_rep_name": "周九", "attention": "02", "category": "01",
        "hazard": "00"})
    assert response.status_code == 302, response.content.decode()[:3000]
    assert "91110000600037341L" in client.get(response["Location"]).content.decode()


def test_unmask_grant_shows_clear_values_to_its_holder_only(world, zhang, client_for,
                                                            person_data):
    from zhili.core.unmask import grant_unmask

    admin = world.personas["town_admin"].user  # area administrators may unmask persons
    client = client_for(admin)
    page = client.get(zhang.get_absolute_url()).content.decode()
    assert 'data-testid="unmask"' in page and person_data["id_number"] not in page
    grant_unmask(actor=admin, obj=zhang, fields=["id_number", "phone"],
                 purpose="核实身份信息以便上门走访")
    page = client.get(zhang.get_absolute_url()).content.decode()
    assert person_data["id_number"] in page and "13812345678" in page
    worker = client_for(world.personas["grid_worker"].user)
    page = worker.get(zhang.get_absolute_url()).content.decode()
    assert person_data["id_number"] not in page and 'data-testid="unmask"' not in page
