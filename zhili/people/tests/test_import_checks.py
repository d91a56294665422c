"""The importer's fast row check gives exactly what the registry's `clean_person` gives, for
good rows and bad ones alike (bad ones take the registry's own path)."""

import datetime as dt
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from zhili.people.imports.checks import PersonChecker
from zhili.people.tests.conftest import id_number
from zhili.people.validation import clean_person

TODAY = dt.date(2026, 6, 1)

VALUES = {
    "id_type": ["", "111", "居民身份证", "414", "普通护照", "xx"],
    "name": ["张三", " 李 四 ", "", "王" * 51, "Anna  Müller"],
    "former_name": ["", "张小三"],
    "sex": ["", "男", "女", "1", "2", "0", "9", "男性", "未知", "x"],
    "birth_date": ["", "1990-03-05", "1990/3/5", "19900305", "1990年3月5日", "1990-02-30",
                   "2999-01-01", dt.date(1990, 3, 5), dt.datetime(1991, 1, 1, 8, 0),
                   "1850-01-01", "soon"],
    "ethnicity": ["", "汉族", "汉", "01", "1", "Han", "火星族"],
    "native_place": ["", "320612", "320612001", "32061", "abc"],
    "marital_status": ["", "已婚", "20", "x"],
    "political_status": ["", "群众", "13", "x"],
    "education": ["", "大学本科教育", "20", "x"],
    "religion": ["", "无宗教信仰", "00"],
    "occupation_class": ["", "2-01", "123456"],
    "occupation": ["", "教师"],
    "workplace": ["", "南通市某小学"],
    "phone": ["", "13812345678", "138 1234 5678", "+86 13812345678", "0513-85123456",
              "12345", 13812345678.0, "１３８１２３４５６７８"],
    "registered_place": ["", "320612"],
    "registered_address": ["", "江苏省南通市\t通州区"],
    "current_address": ["", "东市路12号"],
    "lat": ["", "32.01", "91"],
    "lng": ["", "120.9", "x"],
    "note": ["", "备注"],
}


def ids():
    good = [id_number(), id_number("19850101", "224"), id_number(region="990000"),
            id_number("19000101", "001")]
    bad = ["320612199003051230", "320612199002301234", "32061219900305123", "",
           "320612900305123",  # 15 digits (converted)
           id_number().lower().replace("x", "x"), " " + id_number() + " ",
           id_number("20990101"), "３２０６１２１９９００３０５１２３８", "A" * 18]
    return good + bad


def check_same(data):
    fast = PersonChecker(today=TODAY).check(dict(data))
    slow = clean_person(dict(data), today=TODAY)
    assert fast == slow, data


def test_equivalent_on_random_rows():
    rng = random.Random(20261127)
    numbers = ids()
    for _ in range(3000):
        data = {}
        for name, values in VALUES.items():
            if rng.random() < 0.8:
                data[name] = rng.choice(values)
        if rng.random() < 0.9:
            data["id_number"] = rng.choice(numbers)
        check_same(data)


def test_the_fast_path_takes_ordinary_rows():
    checker = PersonChecker(today=TODAY)
    for seq in range(100, 200):
        cleaned, errors = checker.check({"name": "张三", "id_number": id_number(seq=str(seq)),
                                         "sex": "", "birth_date": "", "ethnicity": "汉族",
                                         "phone": "13812345678", "education": "20"})
        assert not errors and cleaned["sex"] in ("1", "2")
    assert checker.fast_rows == 100 and checker.slow_rows == 0


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.sampled_from(sorted(VALUES)), st.one_of(
    st.text(max_size=20), st.integers(), st.floats(allow_nan=False), st.none(),
    st.dates(min_value=dt.date(1800, 1, 1), max_value=dt.date(2100, 1, 1)))),
    st.one_of(st.sampled_from(ids()), st.text(max_size=20)))
def test_equivalent_on_arbitrary_cells(data, number):
    data = dict(data)
    data["id_number"] = number
    try:
        slow = clean_person(dict(data), today=TODAY)
    except Exception as exc:  # noqa: BLE001 - a cell the registry itself cannot take
        with pytest.raises(type(exc)):
            PersonChecker(today=TODAY).check(dict(data))
        return
    assert PersonChecker(today=TODAY).check(dict(data)) == slow
