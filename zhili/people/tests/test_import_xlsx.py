"""Excel uploads: merged cells, formulas, title rows, numbers for codes, and the templates."""

import datetime as dt
import io

import pytest
import xlsxwriter
from django.utils import translation
from python_calamine import CalamineWorkbook

from zhili.people.imports import import_persons
from zhili.people.imports.columns import kinds
from zhili.people.imports.templates import write_template
from zhili.people.models import Building, House, Person, Unit
from zhili.people.tests.conftest import id_number

pytestmark = pytest.mark.django_db

HEADER = ["所属网格", "公民身份号码", "姓名", "民族", "出生日期"]
GRID = "320612001001001"


def workbook(build) -> bytes:
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    sheet = book.add_worksheet("人员")
    build(book, sheet)
    book.close()
    return buffer.getvalue()


@pytest.fixture
def admin(world):
    return world.personas["town_admin"].user


def run(actor, data, **options):
    options.setdefault("dry_run", False)
    return import_persons(actor=actor, path_or_file=data, **options)


def test_xlsx_with_dates_numbers_and_a_title_row(world, admin):
    def build(book, sheet):
        sheet.merge_range(0, 0, 0, 4, "金沙街道实有人口登记表")  # a title above the table
        sheet.write_row(1, 0, HEADER)
        date = book.add_format({"num_format": "yyyy-mm-dd"})
        sheet.write_row(2, 0, [GRID, id_number(), "张三", "汉族"])
        sheet.write_datetime(2, 4, dt.datetime(1990, 3, 5), date)
        sheet.write_number(3, 0, 320612001001002)  # a code typed as a number
        sheet.write_row(3, 1, [id_number(seq="124"), "李四", 1])  # 民族 as the number 1

    result = run(admin, workbook(build))
    assert result.encoding == "xlsx" and result.created == 2, (result.file_error,
                                                               result.errors)
    assert any("title" in notice for notice in result.notices)
    li = Person.objects.get(name="李四")
    assert li.area_code == "320612001001002" and li.ethnicity == "01"
    assert Person.objects.get(name="张三").birth_date == dt.date(1990, 3, 5)


def test_merged_cells_down_a_column_fill_and_across_columns_refuse(world, admin):
    def build(book, sheet):
        sheet.write_row(0, 0, HEADER)
        sheet.merge_range(1, 0, 3, 0, GRID)  # one grid written once for three people
        for index, seq in enumerate(("201", "202", "203"), start=1):
            sheet.write_row(index, 1, [id_number(seq=seq), f"人{seq}", "汉族"])
        sheet.write_row(4, 0, [GRID, id_number(seq="204")])
        sheet.merge_range(4, 2, 4, 3, "王五")  # a name across the 民族 column

    result = run(admin, workbook(build), strict=False)
    assert result.created == 3 and result.rejected == 1
    assert Person.objects.filter(area_code=GRID).count() == 3
    assert result.warnings[0].row == 2 and "A2:A4" in result.warnings[0].message
    error = result.errors[0]
    assert (error.row, error.field) == (5, "name") and "C5:D5" in error.message


def test_merged_header_cells_are_a_file_error(world, admin):
    def build(book, sheet):
        sheet.write_row(0, 0, HEADER)
        sheet.merge_range(0, 3, 0, 4, "民族")
        sheet.write_row(1, 0, [GRID, id_number(), "张三"])

    result = run(admin, workbook(build))
    assert "merged" in result.file_error and "D1:E1" in result.file_error


def test_formulas_give_their_computed_value_or_an_error(world, admin):
    def build(book, sheet):
        sheet.write_row(0, 0, HEADER)
        sheet.write_row(1, 0, [GRID, id_number(seq="301")])
        sheet.write_formula(1, 2, '="张"&"三"', None, "张三")  # computed by Excel
        sheet.write_row(2, 0, [GRID, id_number(seq="302")])
        sheet.write_formula(2, 2, "=Z99", None, "")  # never computed
        sheet.write_row(3, 0, [GRID, id_number(seq="303"), "王五"])
        sheet.write_formula(3, 3, "=1/0", None, "#DIV/0!")  # an Excel error

    result = run(admin, workbook(build), strict=False)
    assert result.created == 1 and Person.objects.get().name == "张三"
    found = {issue.row: issue for issue in result.errors}
    assert found[3].field == "name" and "without a saved result" in found[3].message
    assert found[4].field == "ethnicity" and "#DIV/0!" in found[4].message
    assert any("formulas" in notice for notice in result.notices)


def test_an_id_number_stored_as_an_excel_number_is_explained(world, admin):
    def build(book, sheet):
        sheet.write_row(0, 0, HEADER)
        sheet.write_row(1, 0, [GRID])
        sheet.write_number(1, 1, float(id_number()))
        sheet.write_string(1, 2, "张三")

    result = run(admin, workbook(build))
    assert result.errors[0].field == "id_number"
    assert "format the column as text" in result.errors[0].message


def test_a_broken_or_empty_workbook_is_a_file_error(world, admin):
    assert "cannot be read" in run(admin, b"PK\x03\x04 not really a zip").file_error
    assert "empty" in run(admin, workbook(lambda book, sheet: None)).file_error


@pytest.mark.parametrize("kind", ["persons", "buildings", "houses", "units"])
@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_templates_have_headers_notes_and_codes(kind, language):
    with translation.override(language):
        content = write_template(kind)
    book = CalamineWorkbook.from_filelike(io.BytesIO(content))
    assert len(book.sheet_names) == 3
    header = book.get_sheet_by_index(0).to_python()[0]
    columns = kinds()[kind].columns
    assert len(header) == len(columns)
    if language == "zh-hans":
        assert header[0] == "所属网格或村(社区)"
    else:
        assert header[0] == "Grid or village/community"
    notes = book.get_sheet_by_index(1).to_python()
    assert len(notes) > len(columns)
    codes = book.get_sheet_by_index(2).to_python()
    if any(c.table for c in columns):
        assert codes and codes[0][0]


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_a_filled_template_imports(world, admin, language):
    with translation.override(language):
        content = write_template("persons")
    header = CalamineWorkbook.from_filelike(io.BytesIO(content)).get_sheet_by_index(0)\
        .to_python()[0]
    values = {"area": GRID, "id_number": id_number(), "name": "张三", "sex": "男",
              "ethnicity": "汉族", "phone": "13812345678", "education": "大学本科教育"}
    fields = [c.field for c in kinds()["persons"].columns]

    def build(book, sheet):
        sheet.write_row(0, 0, header)
        sheet.write_row(1, 0, [values.get(f, "") for f in fields])

    result = run(admin, workbook(build))
    assert result.created == 1, (result.file_error, result.errors)


def test_buildings_houses_and_units_import_through_the_services(world, admin):
    from zhili.people.imports.registry import import_records

    def sheet_of(header, rows):
        def build(book, sheet):
            sheet.write_row(0, 0, header)
            for index, row in enumerate(rows, start=1):
                sheet.write_row(index, 0, row)
        return workbook(build)

    buildings = sheet_of(["所属网格", "小区(单位)名称", "楼栋名称", "层数", "楼栋长姓名",
                          "楼栋长联系方式"],
                         [[GRID, "东市花园", "3幢", "6", "李四", "13912345678"],
                          [GRID, "东市花园", "4幢", "", "", ""]])
    result = import_records("buildings", actor=admin, path_or_file=buildings, strict=False)
    assert (result.created, result.rejected) == (1, 1)
    assert result.errors[0].field == "floors"
    building = Building.objects.get()
    assert building.leader_phone == "13912345678" and building.history.count() == 1

    houses = sheet_of(["所属网格", "房屋编号", "房屋地址", "是否出租", "房主姓名",
                       "房主证件号码", "房主联系方式", "房主现居详址", "出租用途", "隐患类型",
                       "所属小区", "所属楼栋"],
                      [[GRID, "3-501", "东市路12号3幢501室", "是", "王五",
                        id_number("19700101", "333"), "13712345678", "工农路1号", "住房", "无",
                        "东市花园", "3幢"],
                       [GRID, "3-502", "东市路12号3幢502室", "是", "", "", "", "", "", "",
                        "", ""]])
    result = import_records("houses", actor=admin, path_or_file=houses, strict=False)
    assert (result.created, result.rejected) == (1, 1), result.errors
    house = House.objects.get()
    assert house.building == building and house.owner_id_number == id_number("19700101",
                                                                             "333")
    again = import_records("houses", actor=admin, path_or_file=houses, strict=False)
    assert again.skipped == 1

    units = sheet_of(["所属网格", "单位类别", "统一社会信用代码", "单位名称", "单位地址",
                      "法定代表人姓名", "关注程度", "类型", "安全隐患类型"],
                     [[GRID, "企业", "91110000600037341L", "测试公司", "东市路1号", "周九",
                       "低", "内资企业", "无"]])
    result = import_records("units", actor=admin, path_or_file=units, dry_run=True)
    assert result.created == 1 and Unit.objects.count() == 0
    result = import_records("units", actor=admin, path_or_file=units)
    assert result.created == 1 and Unit.objects.get().uscc == "91110000600037341L"
