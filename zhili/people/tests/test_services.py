import datetime as dt

import pytest

from zhili.core.models import AuditLog
from zhili.core.services import ServiceError
from zhili.people import services
from zhili.people.models import Person, Residency

pytestmark = pytest.mark.django_db


def test_create_person_derives_sex_and_birth_date(world, worker, person_data):
    saved = services.create_person(actor=worker, area=world.grid_a1, data=person_data)
    person = Person.objects.get(pk=saved.obj.pk)
    assert person.sex == "1" and person.birth_date == dt.date(1990, 3, 5)
    assert person.ethnicity == "01" and person.education == "20"
    assert person.area_code == world.grid_a1.code
    row = AuditLog.objects.get(action="people.person.create")
    assert "13812345678" not in str(row.changes) and person_data["id_number"] not in str(
        row.changes)
    assert row.changes["id_number"] == "3206**********" + person_data["id_number"][-4:]
    assert person.history.first().history_user == worker


def test_invalid_input_is_field_level(world, worker, ids):
    bad = ids()[:-1] + ("0" if ids()[-1] != "0" else "1")
    with pytest.raises(ServiceError) as exc:
        services.create_person(actor=worker, area=world.grid_a1, data={
            "name": "", "id_number": bad, "phone": "12345", "ethnicity": "火星族",
            "birth_date": "1991-01-01"})
    fields = exc.value.field_messages
    assert set(fields) >= {"name", "id_number", "phone", "ethnicity"}
    assert not Person.objects.exists()


def test_sex_and_birth_date_must_agree_with_id(world, worker, person_data):
    with pytest.raises(ServiceError) as exc:
        services.create_person(actor=worker, area=world.grid_a1,
                               data={**person_data, "sex": "女", "birth_date": "1990-03-06"})
    assert set(exc.value.field_messages) == {"sex", "birth_date"}


def test_duplicate_in_scope_names_the_person(world, worker, person_data):
    first = services.create_person(actor=worker, area=world.grid_a1, data=person_data).obj
    with pytest.raises(ServiceError) as exc:
        services.create_person(actor=worker, area=world.grid_a1,
                               data={**person_data, "name": "李四"})
    message = exc.value.field_messages["id_number"][0]
    assert "张三" in message and str(first.pk) in message


def test_duplicate_out_of_scope_does_not_leak(world, person_data):
    admin_b = world.personas["superuser"].user
    services.create_person(actor=admin_b, area=world.grid_b1, data=person_data)
    worker = world.personas["grid_worker"].user
    with pytest.raises(ServiceError) as exc:
        services.create_person(actor=worker, area=world.grid_a1, data=person_data)
    message = exc.value.field_messages["id_number"][0]
    assert "张三" not in message and "城东" not in message and "another area" in message


def test_take_over_a_person_who_moved_away(world, person_data):
    superuser = world.personas["superuser"].user
    old = services.create_person(actor=superuser, area=world.grid_b1, data=person_data).obj
    services.deactivate_person(actor=superuser, person=old, reason="moved_away")
    worker = world.personas["grid_worker"].user
    saved = services.create_person(actor=worker, area=world.grid_a1, data=person_data,
                                   take_over=True)
    assert saved.obj.pk == old.pk
    old.refresh_from_db()
    assert old.is_active and old.area_code == world.grid_a1.code


def test_area_must_be_grid_or_village_in_scope(world, worker, person_data):
    with pytest.raises(ServiceError) as exc:
        services.create_person(actor=worker, area=world.grid_b1, data=person_data)
    assert "area" in exc.value.field_messages
    admin = world.personas["town_admin"].user
    with pytest.raises(ServiceError) as exc:
        services.create_person(actor=admin, area=world.town_a1, data=person_data)
    assert "area" in exc.value.field_messages


def test_update_move_and_deactivate(world, person_data):
    admin = world.personas["town_admin"].user
    person = services.create_person(actor=admin, area=world.grid_a1, data=person_data).obj
    residency = services.save_residency(actor=admin, person=person, kind="floating", data={
        "inflow_reason": "务工", "residence_type": "02", "document_number": "JS123",
        "is_key_person": "否"}).obj
    services.update_person(actor=admin, person=person, data={"phone": "0513-85123456"})
    person.refresh_from_db()
    assert person.phone == "0513-85123456"
    with pytest.raises(ServiceError):
        services.update_person(actor=admin, person=person, data={"sex": "2"})
    services.move_person(actor=admin, person=person, area=world.grid_a1b)
    residency.refresh_from_db()
    assert residency.area_code == world.grid_a1b.code
    with pytest.raises(ServiceError) as exc:
        services.move_person(actor=admin, person=person, area=world.grid_b1)
    assert "area" in exc.value.field_messages
    services.deactivate_person(actor=admin, person=person, reason="deceased")
    person.refresh_from_db()
    assert not person.is_active and person.inactive_reason == "deceased"
    assert Residency.objects.current().count() == 0
    assert person.history.count() == 4


def test_residency_per_kind_fields(world, worker, person_data):
    person = services.create_person(actor=worker, area=world.grid_a1, data=person_data).obj
    with pytest.raises(ServiceError) as exc:
        services.save_residency(actor=worker, person=person, kind="left_behind", data={
            "left_behind_type": "01", "inflow_reason": "01"})
    fields = exc.value.field_messages
    assert "inflow_reason" in fields and "related_name" in fields
    saved = services.save_residency(actor=worker, person=person, kind="registered", data={
        "household_match": "一致", "household_number": "123456789", "relation": "户主"}).obj
    saved.refresh_from_db()
    assert saved.details == {"household_number": "123456789"} and saved.relation == "02"
