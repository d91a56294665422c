import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction

from zhili.core import audit
from zhili.core.models import AuditLog


def _rows(n=3):
    return [audit.record(actor=None, actor_name="tester", action="test.event",
                         area_code="320612000000000", changes={"i": i, "名称": "金沙"})
            for i in range(n)]


@pytest.mark.django_db
def test_chain_links_each_row_to_the_previous():
    rows = _rows()
    assert rows[1].prev_hash == rows[0].hash and rows[2].prev_hash == rows[1].hash
    result = audit.verify()
    assert result.ok and result.checked == 3


@pytest.mark.django_db
def test_database_refuses_update_and_delete():
    row = _rows(1)[0]
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditLog.objects.filter(pk=row.pk).update(action="changed")
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditLog.objects.filter(pk=row.pk).delete()


def _without_guard(sql_by_vendor):
    """Tampering means bypassing the append-only triggers first, as a DB superuser could."""
    vendor = connection.vendor
    drop = {"sqlite": ["DROP TRIGGER core_auditlog_no_update",
                       "DROP TRIGGER core_auditlog_no_delete"],
            "postgresql": ["ALTER TABLE core_auditlog DISABLE TRIGGER core_auditlog_no_change"]}
    with connection.cursor() as cursor:
        for sql in drop[vendor]:
            cursor.execute(sql)
        cursor.execute(sql_by_vendor)


@pytest.mark.django_db
def test_verify_detects_an_edited_row():
    rows = _rows()
    _without_guard(f"UPDATE core_auditlog SET actor_name = 'mallory' WHERE id = {rows[1].pk}")
    result = audit.verify()
    assert not result.ok
    assert any("row 2" in p and "hash" in p for p in result.problems)
    with pytest.raises(CommandError, match="broken"):
        call_command("audit_verify")


@pytest.mark.django_db
def test_verify_detects_a_deleted_row():
    rows = _rows(4)
    _without_guard(f"DELETE FROM core_auditlog WHERE id = {rows[1].pk}")
    result = audit.verify()
    assert any("missing" in p for p in result.problems)


@pytest.mark.django_db
def test_verify_command_passes_on_an_intact_chain(capsys):
    _rows(2)
    call_command("audit_verify")
    assert "intact" in capsys.readouterr().out
