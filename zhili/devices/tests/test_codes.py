"""GB/T 28181 device codes: 20 ASCII digits = centre (8) · industry (2) · type (3) · network (1)
· serial (6)."""

import pytest

from zhili.devices.codes import InvalidDeviceCode, parse_gb28181

CAMERA = "32061200001320000001"  # 通州区 centre, industry 00, IPC (132), network 0, serial 1


def test_a_valid_code_says_what_it_encodes():
    parsed = parse_gb28181(CAMERA)
    assert parsed == {"code": CAMERA, "centre": "32061200", "division": "320612",
                      "industry": "00", "type": "132", "type_name": "网络摄像机(IPC)",
                      "network": "0", "serial": "000001"}


def test_full_width_digits_and_spaces_are_read_as_typed():
    typed = " ３２０６１２００ 00132 0000001 "
    assert parse_gb28181(typed)["code"] == CAMERA


@pytest.mark.parametrize(("raw", "message"), [
    ("", "exactly 20 digits"),
    (CAMERA[:-1], "exactly 20 digits"),
    (CAMERA + "1", "exactly 20 digits"),
    ("3206120000132000000A", "exactly 20 digits"),
    ("3206120000132000000\u0663", "exactly 20 digits"),  # an Arabic-Indic three
    ("32061200009990000001", "(999) are not a GB/T 28181 device type"),
    ("32061200001329000001", "network) 9 is reserved"),
    ("00061200001320000001", "(000612) must be an administrative division"),
    ("99061200001320000001", "(990612) must be an administrative division"),
    ("32001200001320000001", "(320012) must be an administrative division"),
])
def test_bad_codes_are_refused_with_the_reason(raw, message):
    with pytest.raises(InvalidDeviceCode) as exc:
        parse_gb28181(raw)
    assert message in exc.value.message


def test_a_province_or_city_centre_is_a_division_too():
    assert parse_gb28181("32000000001180000001")["type"] == "118"
    assert parse_gb28181("32060000001180000001")["division"] == "320600"
