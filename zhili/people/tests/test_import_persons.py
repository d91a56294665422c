"""Bulk import of persons: what is written (exactly what the service writes, encrypted, with
history), what is refused (row by row, with a message a clerk can act on), and the user's
choices (dry run, all-or-nothing or valid rows only, skip or update registered persons)."""

import csv
import io

import pytest
from django.db import connection

from zhili.core import pii
from zhili.core.models import AuditLog
from zhili.people import services
from zhili.people.imports import import_persons
from zhili.people.models import Person
from zhili.people.tests.conftest import id_number

pytestmark = pytest.mark.django_db

HEADER = ["所属网格或村(社区)", "公民身份号码", "姓名", "性别", "出生日期", "民族", "联系方式",
          "户籍门(楼)详址", "现住门(楼)详址", "学历"]
GRID = "320612001001001"


def table(*rows, header=HEADER, encoding="utf-8") -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode(encoding)


def row(number=None, name="张三", area=GRID, sex="", born="", ethnicity="汉族",
        phone="13812345678", registered="江苏省南通市通州区金沙街道东市路12号",
        current="江苏省南通市通州区金沙街道东市路12号3幢501室", education="大学本科教育"):
    return [area, number or id_number(), name, sex, born, ethnicity, phone, registered,
            current, education]


class Has(str):
    """Equal to any text containing it (for messages)."""

    __hash__ = str.__hash__

    def __eq__(self, other):
        return isinstance(other, str) and str(self) in other


def run(actor, data, **options):
    options.setdefault("dry_run", False)
    return import_persons(actor=actor, path_or_file=data, **options)


@pytest.fixture
def admin(world):
    return world.personas["town_admin"].user


def errors_by_row(result):
    found = {}
    for issue in result.errors:
        found.setdefault(issue.row, []).append((issue.field, issue.message))
    return found


def raw_table(model) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {connection.ops.quote_name(model._meta.db_table)}")
        return repr(cursor.fetchall())


def test_gb18030_csv_creates_persons_like_the_service(world, admin):
    numbers = [id_number(seq=f"{i:03d}") for i in range(1, 4)]
    data = table(*(row(n, name=f"张{i}", phone=f"1381234567{i}") for i, n in
                   enumerate(numbers)), encoding="gb18030")
    result = run(admin, data)
    assert result.ok and result.encoding == "gb18030"
    assert (result.submitted, result.created, result.rejected) == (3, 3, 0)
    imported = Person.objects.get(name="张0")
    history = imported.history.get()
    assert history.history_type == "+" and history.history_user_id == admin.pk
    assert history.id_number == numbers[0] and history.area_code == GRID
    assert history.history_change_reason is None

    # The same person through the registry's service, for comparison.
    Person.objects.filter(pk=imported.pk).delete()
    by_service = services.create_person(actor=admin, area=world.grid_a1, data={
        "name": "张0", "id_number": numbers[0], "ethnicity": "汉族", "phone": "13812345670",
        "registered_address": "江苏省南通市通州区金沙街道东市路12号",
        "current_address": "江苏省南通市通州区金沙街道东市路12号3幢501室",
        "education": "大学本科教育", "sex": "", "birth_date": ""}).obj
    skip = {"id", "created_at", "updated_at"}
    for field in Person._meta.concrete_fields:
        if field.name not in skip:
            assert getattr(imported, field.attname) == getattr(by_service, field.attname), \
                field.name
    by_service_history = by_service.history.get()
    for field in Person.history.model._meta.concrete_fields:
        if field.name not in skip | {"history_id", "history_date"}:
            assert getattr(history, field.attname) == getattr(by_service_history,
                                                              field.attname), field.name
    assert imported.created_by_id == admin.pk and imported.sex == "1"


def test_imported_rows_are_encrypted_and_found_by_blind_index(world, admin):
    number = id_number(seq="321")
    run(admin, table(row(number, phone="13955556666")))
    raw = raw_table(Person) + raw_table(Person.history.model)
    for secret in (number, "13955556666", "东市路12号"):
        assert secret not in raw
    assert Person.objects.get(pii.lookup_q(Person, "id_number", number)).name == "张三"
    assert Person.objects.filter(pii.lookup_q(Person, "phone", "139 5555 6666")).count() == 1
    assert Person.objects.search(number).get().phone == "13955556666"


def test_dry_run_writes_nothing(world, admin):
    before = AuditLog.objects.count()
    result = run(admin, table(row(), row(id_number(seq="999"), name="李四")), dry_run=True)
    assert result.dry_run and not result.written
    assert (result.submitted, result.created) == (2, 2)
    assert Person.objects.count() == 0 and Person.history.model.objects.count() == 0
    assert AuditLog.objects.count() == before


def test_strict_import_writes_nothing_when_a_row_is_wrong(world, admin):
    rows = [row(id_number(seq=f"{i:03d}"), name=f"人{i}") for i in range(1, 6)]
    rows[3][1] = "320612199003051230"  # wrong check digit
    result = run(admin, table(*rows), strict=True)
    assert result.refused and not result.written
    assert Person.objects.count() == 0 and Person.history.model.objects.count() == 0
    assert errors_by_row(result) == {5: [("id_number", Has(
        "does not match"))]}
    record = AuditLog.objects.get(action="people.import")
    assert record.changes["refused"] is True and record.changes["created"] == 0


def test_partial_import_writes_the_valid_rows(world, admin):
    rows = [row(id_number(seq=f"{i:03d}"), name=f"人{i}") for i in range(1, 6)]
    rows[1][0] = "999999999999999"
    result = run(admin, table(*rows), strict=False)
    assert not result.refused and result.written
    assert (result.created, result.rejected) == (4, 1)
    assert Person.objects.count() == 4
    assert errors_by_row(result)[3][0][0] == "area"
    record = AuditLog.objects.get(action="people.import")
    assert record.changes["created"] == 4 and record.changes["rejected"] == 1
    assert record.actor_id == admin.pk


def test_bad_input_gives_row_level_messages(world, admin):
    good = id_number(seq="100")
    rows = [
        row(good),  # 2: fine
        row("320612199002301234"),  # 3: impossible birth date in the number
        row("32061219900305123"),  # 4: 17 characters
        row(id_number(seq="101"), born="1990-02-30"),  # 5: impossible birth date
        row(id_number(seq="102"), born="1991-03-05"),  # 6: disagrees with the number
        row(id_number(seq="103"), area="东市社区/不存在的网格"),  # 7: unknown name path
        row(id_number(seq="104"), area="320613001001001"),  # 8: out of reach
        row(id_number(seq="105"), ethnicity="火星族"),  # 9: not a code
        row(id_number(seq="106"), phone="12345"),  # 10: bad phone
        row(good, name="张三三"),  # 11: same ID as row 2
        row(id_number(seq="107"), name=""),  # 12: name missing
        row(id_number(seq="108"), area="320612001"),  # 13: a town, not a grid/village
        row(id_number("20991231", seq="109")),  # 14: born in the future
        row(id_number(seq="110"), area="第1网格"),  # 15: one 第1网格 within reach: fine
    ]
    result = run(admin, table(*rows), dry_run=True)
    found = errors_by_row(result)
    assert set(found) == set(range(3, 15))
    assert found[3][0][0] == "id_number" and "not a possible date" in found[3][0][1]
    assert found[4][0][0] == "id_number" and "18 characters" in found[4][0][1]
    assert found[5] == [("birth_date", Has("not a possible date"))]
    assert found[6][0][0] == "birth_date" and "1990-03-05" in found[6][0][1]
    assert found[7][0][0] == "area" and "不存在的网格" in found[7][0][1]
    assert found[8][0] == ("area", Has("outside your area"))
    assert found[9][0][0] == "ethnicity"
    assert found[10][0][0] == "phone"
    assert found[11] == [("id_number", Has("row 2"))]
    assert found[12][0][0] == "name"
    assert found[13][0][0] == "area" and "larger area" in found[13][0][1]
    assert found[14][0][0] == "id_number" and "future" in found[14][0][1]
    assert result.created == 2 and result.rejected == 12
    # Every message names the column as the file does, with its letter.
    columns = {(issue.field, issue.column, issue.letter) for issue in result.errors}
    assert ("area", "所属网格或村(社区)", "A") in columns
    assert ("id_number", "公民身份号码", "B") in columns


def test_area_by_code_or_by_names(world, admin):
    rows = [row(id_number(seq="201"), area="320612001001002"),
            row(id_number(seq="202"), area="东市社区/第2网格"),
            row(id_number(seq="203"), area="通州区 金沙街道 东市社区 第1网格"),
            row(id_number(seq="204"), area="金沙街道东市社区"),
            row(id_number(seq="205"), area="320612001001")]
    result = run(admin, table(*rows))
    assert result.created == 5, result.errors
    codes = dict(Person.objects.values_list("id_number_bidx", "area_code"))
    assert sorted(codes.values()) == sorted([
        "320612001001002", "320612001001002", GRID, "320612001001000", "320612001001000"])


def test_a_name_found_twice_in_reach_asks_for_the_path(world):
    superuser = world.personas["superuser"].user
    result = run(superuser, table(row(area="第1网格"), row(id_number(seq="111"),
                                                          area="城东社区/第1网格")))
    found = errors_by_row(result)
    assert found[2][0][0] == "area" and "Several areas" in found[2][0][1]
    assert 3 not in found and result.created == 1


def test_wrong_headers_name_the_columns(world, admin):
    data = table(row(), header=["所属网格", "身份证号码X", "姓名", "性别", "出生日期", "民族",
                                "联系方式", "户籍地址", "现住址", "学历"])
    result = run(admin, data)
    assert result.file_error and not result.written
    assert "公民身份号码" in result.file_error and "身份证号码X" in result.file_error
    assert "Missing columns" in result.file_error and "Unknown columns" in result.file_error


def test_english_and_spaced_headers_are_accepted(world, admin):
    header = ["Grid or village/community", "ID number *", " Name ", "sex", "Birth date",
              "Ethnicity", "Contact phone", "Registered address", "Current address",
              "Education"]
    result = run(admin, table(row(), header=header))
    assert result.created == 1, (result.file_error, result.errors)


def test_empty_rows_are_skipped_silently(world, admin):
    data = table(row(), [""] * 10, ["", " ", "", "", "", "", "", "", "", ""],
                 row(id_number(seq="401"), name="李四"))
    result = run(admin, data)
    assert (result.submitted, result.created, result.rejected) == (2, 2, 0)


def test_not_a_text_file_is_refused(world, admin):
    result = run(admin, b"\x81\x30\xa0\xff\xfa\xfb" * 50)
    assert "neither UTF-8 nor GB18030" in result.file_error


def test_numeric_id_from_excel_is_explained(world, admin):
    from zhili.people.imports.persons import _Run  # noqa: F401  (the message lives there)

    data = table(row())
    # A CSV holds text; an ID number typed into an Excel number cell comes back as 3.2E+17.
    text = data.decode().replace(id_number(), "3.20612199003051E+17")
    result = run(admin, text.encode())
    assert result.errors and result.errors[0].field == "id_number"


def test_registered_persons_are_skipped_or_updated(world, admin):
    number = id_number(seq="501")
    person = services.create_person(actor=admin, area=world.grid_a1, data={
        "name": "张三", "id_number": number, "phone": "13800000001"}).obj
    skipped = run(admin, table(row(number, name="张叁", phone="13900000002")))
    assert (skipped.created, skipped.skipped) == (0, 1)
    person.refresh_from_db()
    assert person.name == "张三" and person.phone == "13800000001"

    updated = run(admin, table(row(number, name="张叁", phone="13900000002", education="")),
                  on_duplicate="update")
    assert (updated.created, updated.updated) == (0, 1), updated.errors
    person.refresh_from_db()
    assert person.name == "张叁" and person.phone == "13900000002"
    assert Person.objects.filter(pii.lookup_q(Person, "phone", "13900000002")).get() == person
    assert person.education == ""  # an empty cell does not clear, and it was empty
    latest = person.history.order_by("-history_id").first()
    assert latest.history_type == "~" and latest.phone == "13900000002"
    assert latest.history_user_id == admin.pk
    assert Person.objects.count() == 1


def test_update_moves_a_person_to_another_grid_through_the_service(world, admin):
    number = id_number(seq="502")
    person = services.create_person(actor=admin, area=world.grid_a1, data={
        "name": "张三", "id_number": number}).obj
    result = run(admin, table(row(number, area="320612001001002")), on_duplicate="update")
    assert result.updated == 1, result.errors
    person.refresh_from_db()
    assert person.area_code == "320612001001002"
    assert AuditLog.objects.filter(action="people.person.move").exists()


def test_a_person_registered_out_of_reach_is_not_touched(world, admin, ids):
    number = ids(seq="503")
    other = world.personas["superuser"].user
    stranger = services.create_person(actor=other, area=world.grid_b1, data={
        "name": "王五", "id_number": number}).obj
    result = run(admin, table(row(number, name="改名")), on_duplicate="update", strict=False)
    assert result.rejected == 1 and "another area" in result.errors[0].message
    stranger.refresh_from_db()
    assert stranger.name == "王五"


def test_a_person_who_moved_away_is_taken_over(world, admin):
    number = id_number(seq="504")
    superuser = world.personas["superuser"].user
    moved = services.create_person(actor=superuser, area=world.grid_b1, data={
        "name": "赵六", "id_number": number}).obj
    services.deactivate_person(actor=superuser, person=moved, reason="moved_away")
    result = run(admin, table(row(number, name="赵六")), on_duplicate="update")
    assert result.updated == 1, result.errors
    moved.refresh_from_db()
    assert moved.is_active and moved.area_code == GRID


def test_too_many_rows_is_a_file_error(world, admin, settings):
    settings.ZHILI_IMPORT_MAX_ROWS = 3
    rows = [row(id_number(seq=f"{i:03d}"), name=f"人{i}") for i in range(1, 6)]
    result = run(admin, table(*rows))
    assert "more than 3 rows" in result.file_error
    assert Person.objects.count() == 0


def test_only_importers_may_import(world):
    from zhili.core.services import ServiceError

    with pytest.raises(ServiceError) as refused:
        run(world.personas["grid_worker"].user, table(row()))
    assert refused.value.status == 403


def test_warnings_do_not_stop_a_row(world, admin):
    odd = id_number(region="990000", seq="601")  # no such region code: a warning only
    result = run(admin, table(row(odd)))
    assert result.created == 1 and result.warning_count == 1
    assert "990000" in result.warnings[0].message


def test_a_hundred_thousand_rows(world, admin):
    """More than 100,000 rows: checked in one pass, with counts that add up."""
    rows = []
    for i in range(100_002):
        rows.append([GRID, id_number(f"{1950 + i % 50}{(i // 50) % 12 + 1:02d}"
                                     f"{(i // 600) % 28 + 1:02d}", f"{i // 16800:03d}"),
                     f"人{i}", "", "", "汉族", "", "", "", ""])
    rows[50_000][1] = "320612199003051230"
    result = run(admin, table(*rows), dry_run=True)
    assert result.submitted == 100_002
    assert result.rejected >= 1 and result.created + result.rejected == 100_002
    assert result.errors[0].row == 50_002


def test_progress_is_visible_while_the_import_transaction_runs(live_db, monkeypatch):
    from django.db import connections

    from zhili.core.jobs import Progress
    from zhili.core.models import Job
    from zhili.core.testing import World
    from zhili.people.imports import persons

    if connection.vendor != "postgresql":
        pytest.skip("SQLite has one writer: progress shows once the write commits")
    admin = World().personas["town_admin"].user
    job = Job.objects.create(kind="people.import", title="t", created_by=admin)
    monkeypatch.setattr(persons, "BATCH", 2)
    seen = []
    flush = persons._Run._flush

    def watching(self, batch, rejected_before):
        flush(self, batch, rejected_before)
        other = connections.create_connection("default")
        try:
            with other.cursor() as cursor:
                cursor.execute("SELECT progress_done, progress_total FROM core_job "
                               "WHERE id = %s", [job.pk])
                seen.append(cursor.fetchone())
                cursor.execute("SELECT count(*) FROM people_person")
                seen.append(cursor.fetchone())
        finally:
            other.close()

    monkeypatch.setattr(persons._Run, "_flush", watching)
    monkeypatch.setattr(persons.VisibleProgress, "advance", lambda self, n=1: self._write(
        progress_done=self.job.progress_done + n) or setattr(
        self.job, "progress_done", self.job.progress_done + n))
    rows = [row(id_number(seq=f"{i:03d}"), name=f"人{i}") for i in range(1, 7)]
    result = run(admin, table(*rows), progress=Progress(job))
    assert result.created == 6
    progress_rows = seen[0::2]
    assert progress_rows[0][1] >= 6 and progress_rows[1][0] > 0  # seen from outside…
    assert all(count == (0,) for count in seen[1::2])  # …while the persons are not yet
    assert Person.objects.count() == 6


@pytest.mark.parametrize("mode", ["processes", "thread", "sequential"])
def test_every_way_of_running_gives_the_same_result(world, admin, settings, monkeypatch, mode):
    """Worker processes, a preparing thread, or one thread: the same rows written, the same
    problems reported, in file order."""
    from zhili.people.imports import parallel, persons

    monkeypatch.setattr(persons, "BATCH", 7)
    monkeypatch.setattr(parallel, "CHUNK", 3)
    settings.ZHILI_IMPORT_PROCESSES = 2 if mode == "processes" else 0
    monkeypatch.setattr(persons, "THREADED", mode == "thread")
    rows = [row(id_number(seq=f"{i:03d}"), name=f"人{i}") for i in range(1, 31)]
    rows[4][1] = "320612199003051230"
    rows[9][1] = rows[8][1]  # the same person twice
    rows[20][0] = "999"
    rows[25][1] = id_number(region="990000", seq="026")
    result = run(admin, table(*rows), strict=False)
    assert (result.submitted, result.created, result.rejected) == (30, 27, 3)
    assert [(e.row, e.field) for e in result.errors] == [(6, "id_number"), (11, "id_number"),
                                                          (22, "area")]
    assert [w.row for w in result.warnings] == [27]
    assert result.fast_rows >= 26
    assert Person.objects.count() == 27 and Person.history.model.objects.count() == 27


def test_utf16_and_broken_csv_are_file_errors(world, admin):
    data = table(row())
    assert "UTF-16" in run(admin, data.decode().encode("utf-16")).file_error
    broken = data + b'320612001001001,"' + b"x" * 200_000 + b'\n'
    assert "cannot be read as CSV" in run(admin, broken).file_error
