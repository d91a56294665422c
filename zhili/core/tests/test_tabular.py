import pytest
from django.test import override_settings

from zhili.core import tabular

CSV = "代码,名称,层级\n320612001,金沙街道,town\n"


def test_reads_utf8_with_bom_and_aliases():
    table = tabular.read_table(("\ufeff" + CSV).encode("utf-8"), "a.csv",
                               aliases={"代码": "code", "名称": "name", "层级": "level"})
    assert table.encoding == "utf-8-sig"
    assert table.rows == [(2, {"code": "320612001", "name": "金沙街道", "level": "town"})]


def test_reads_gb18030_as_written_by_chinese_excel():
    table = tabular.read_table(CSV.encode("gb18030"), "a.csv",
                               aliases={"代码": "code", "名称": "name", "层级": "level"})
    assert table.encoding == "gb18030"
    assert table.rows[0][1]["name"] == "金沙街道"


def test_refuses_bytes_that_are_neither_utf8_nor_gb18030():
    with pytest.raises(tabular.TableError, match="neither UTF-8 nor GB18030"):
        tabular.read_table(b"code\n\x81\x20\xff\xfe", "a.csv")


def test_missing_columns_are_named():
    with pytest.raises(tabular.TableError, match="Missing columns: level"):
        tabular.read_table(b"code,name\n1,a\n", "a.csv", required=["code", "name", "level"])


@override_settings(ZHILI_MAX_UPLOAD_MB=1)
def test_oversized_upload_is_refused():
    with pytest.raises(tabular.TableError, match="limit is 1 MB"):
        tabular.read_table(b"x" * (1024 * 1024 + 1), "a.csv")


def test_xlsx_round_trip_keeps_codes_as_text():
    data = tabular.write_xlsx(["code", "name"], [["320612001001001", "第1网格"], ["007", "x"]])
    table = tabular.read_table(data, "a.xlsx")
    assert [r for _, r in table.rows] == [{"code": "320612001001001", "name": "第1网格"},
                                         {"code": "007", "name": "x"}]


def test_broken_xlsx_is_a_clear_error():
    with pytest.raises(tabular.TableError, match="Excel file cannot be read"):
        tabular.read_table(b"PK\x03\x04garbage", "a.xlsx")


def test_blank_lines_are_skipped_and_row_numbers_kept():
    table = tabular.read_table(b"code\n1\n\n3\n", "a.csv")
    assert [n for n, _ in table.rows] == [2, 4]


def test_csv_writer_encodings():
    assert tabular.write_csv(["a"], [["金沙"]]).startswith("\ufeff".encode())
    assert "金沙".encode("gb18030") in tabular.write_csv(["a"], [["金沙"]], encoding="gb18030")
