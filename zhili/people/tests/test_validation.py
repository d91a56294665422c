import datetime as dt

import pytest

from zhili.people import codes, validation
from zhili.people.tests.conftest import id_number


def test_codes_parse_codes_names_and_labels():
    assert codes.Ethnicity.parse("汉族") == codes.Ethnicity.parse("汉") == "01"
    assert codes.Ethnicity.parse("1") == "01" and codes.Ethnicity.parse("Han") == "01"
    assert codes.Sex.parse("男") == "1" and codes.Sex.parse("女性") == "2"
    assert codes.Education.parse("大学本科教育") == "20"
    assert codes.Ethnicity.parse("火星") is None
    assert len([c for c in codes.Ethnicity.codes() if int(c) <= 56]) == 56


def test_clean_person_normalises_a_spreadsheet_row():
    legacy = "320612900305123"  # a first-generation 15-digit number
    cleaned, errors = validation.clean_person({
        "name": " 张三 ", "id_number": legacy, "ethnicity": "汉", "phone": "138 1234 5678",
        "birth_date": 19900305.0, "education": "本科", "native_place": "320612001001"})
    assert not errors and cleaned["education"] == "20"
    assert cleaned["id_number"] == "320612199003051232"[:17] + cleaned["id_number"][17]
    assert len(cleaned["id_number"]) == 18 and cleaned["sex"] == "1"
    assert cleaned["birth_date"] == dt.date(1990, 3, 5) and cleaned["phone"] == "13812345678"
    assert cleaned["native_place"] == "320612" and cleaned["name"] == "张三"


def test_clean_person_errors_are_per_field_and_warnings_separate():
    cleaned, errors = validation.clean_person({"name": "", "id_number": "12345"})
    assert set(errors) == {"name", "id_number"}
    cleaned, errors = validation.clean_person({"name": "李", "id_number": id_number(
        region="990612")})
    assert not errors and cleaned["_warnings"]
    cleaned, errors = validation.clean_person({"birth_date": "2999-01-01"}, partial=True)
    assert set(errors) == {"birth_date"}


def test_passport_numbers_are_not_checked_as_resident_ids():
    cleaned, errors = validation.clean_person({"name": "KIM", "id_type": "414",
                                               "id_number": "m1234567"})
    assert not errors and cleaned["id_number"] == "M1234567" and "sex" not in cleaned


@pytest.mark.parametrize(("raw", "code"), [("91110000600037341A", "check_digit"),
                                           ("9111000060003734", "length"),
                                           ("91110000600O37341L", "characters")])
def test_uscc_refused(raw, code):
    with pytest.raises(validation.InvalidUscc) as exc:
        validation.validate_uscc(raw)
    assert exc.value.code == code


def test_uscc_accepted_with_inner_check_warning():
    assert validation.validate_uscc(" 91110000600037341l ") == ("91110000600037341L", [])
