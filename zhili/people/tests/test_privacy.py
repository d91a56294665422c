"""What is stored: no ID number, phone or address in clear anywhere in the registry's tables,
including the change history and the audit log."""

import pytest
from django.db import connection

from zhili.people import services
from zhili.people.models import Building, House, Person, Residency, Unit

pytestmark = pytest.mark.django_db


def _raw_rows(model) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {connection.ops.quote_name(model._meta.db_table)}")
        return repr(cursor.fetchall())


def test_raw_tables_hold_no_plaintext(world, worker, ids):
    number, phone = ids(), "13812345678"
    owner_id, owner_phone = ids("19700101", "333"), "13700001111"
    person = services.create_person(actor=worker, area=world.grid_a1, data={
        "name": "张三", "id_number": number, "phone": phone,
        "current_address": "东市路12号3幢501室"}).obj
    services.update_person(actor=worker, person=person, data={"phone": "13900002222"})
    services.save_residency(actor=worker, person=person, kind="left_behind", data={
        "left_behind_type": "01", "household_match": "01", "related_name": "张大",
        "related_id_number": ids("19650101", "555"), "relation": "20",
        "related_phone": "13500003333", "difficulties": "独居无人照料"})
    house = services.create_house(actor=worker, area=world.grid_a1, data={
        "number": "1-501", "address": "东市路12号3幢501室", "is_rental": True,
        "owner_name": "钱七", "owner_id_number": owner_id, "owner_phone": owner_phone,
        "owner_address": "工农路1号", "rental_use": "02", "hazard": "00"}).obj
    services.create_building(actor=worker, area=world.grid_a1, data={
        "estate": "东市花园", "name": "3幢", "floors": 6, "leader_phone": "13600004444"})
    services.create_unit(actor=worker, area=world.grid_a1, kind="enterprise", data={
        "uscc": "91110000600037341L", "name": "测试公司", "address": "x",
        "legal_rep_name": "周九", "legal_rep_id_number": ids("19800101", "777"),
        "legal_rep_phone": "13300005555", "attention": "02", "category": "01",
        "hazard": "00"})
    assert house.pk and person.pk

    secrets = [number, phone, "13900002222", ids("19650101", "555"), "13500003333",
               owner_id, owner_phone, "13600004444", ids("19800101", "777"), "13300005555",
               "东市路12号", "独居无人照料", "工农路1号"]
    tables = [Person, House, Building, Unit, Residency]
    tables += [m.history.model for m in tables]
    from zhili.core.models import AuditLog
    tables.append(AuditLog)
    for model in tables:
        raw = _raw_rows(model)
        for secret in secrets:
            assert secret not in raw, (model._meta.db_table, secret)
    # The values are there, encrypted: the models read them back.
    assert Person.objects.get().phone == "13900002222"
    assert Residency.objects.get().details == {"difficulties": "独居无人照料"}
