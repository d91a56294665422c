import datetime as dt

import pytest

from zhili.core.pii.validation import id_check_digit


def id_number(birth: str = "19900305", seq: str = "123", region: str = "320612") -> str:
    """A valid resident ID number (odd sequence digit: male)."""
    body = region + birth + seq
    return body + id_check_digit(body)


@pytest.fixture
def ids():
    return id_number


@pytest.fixture
def worker(world):
    return world.personas["grid_worker"].user


@pytest.fixture
def person_data(ids):
    return {"name": "张三", "id_number": ids(), "ethnicity": "汉族", "phone": "13812345678",
            "current_address": "江苏省南通市通州区金沙街道东市路12号", "education": "20"}


TODAY = dt.date(2026, 6, 1)
