"""统一社会信用代码 validation (GB 32100), masking in logs, and the `zhili keys` commands."""

import base64
import datetime as dt
import logging
import re
from io import StringIO

import pytest
from django.core.management import call_command

from zhili.core import pii
from zhili.core.pii import keys
from zhili.core.pii.validation import USCC_ALPHABET, InvalidUscc, uscc_check_char

# --- USCC ------------------------------------------------------------------------------------

# The check weights written out as GB 32100 lists them, independently of the module's formula.
WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]


def reference_check(first17: str) -> str:
    total = sum(USCC_ALPHABET.index(c) * w for c, w in zip(first17, WEIGHTS, strict=True))
    return USCC_ALPHABET[(31 - total % 31) % 31]


@pytest.mark.parametrize("code", [
    "91350100M000100Y43",  # published on a business licence (福建)
    "91110000600037341L",  # ditto (北京)
])
def test_published_codes_are_valid(code):
    assert pii.validate_uscc(code) == code


@pytest.mark.parametrize("first17", [
    "91320612MA1XY40Q0", "52320600MJ0000001", "12320612466000123", "92320602L00000000",
    "Y1320600000000000", "11100000000013127",
])
def test_computed_codes_are_valid_and_every_other_last_character_is_not(first17):
    assert uscc_check_char(first17) == reference_check(first17)
    code = first17 + reference_check(first17)
    assert pii.validate_uscc(code) == code
    for wrong in USCC_ALPHABET:
        if wrong != code[-1]:
            with pytest.raises(InvalidUscc) as caught:
                pii.validate_uscc(first17 + wrong)
            assert caught.value.code == "check_digit"


def test_input_is_normalised():
    assert pii.validate_uscc(" 9135 0100m000100y43 ") == "91350100M000100Y43"
    assert pii.validate_uscc("９１３５０１００Ｍ０００１００Ｙ４３") == "91350100M000100Y43"


@pytest.mark.parametrize(("raw", "code"), [
    ("", "length"), (None, "length"), ("91350100M000100Y4", "length"),
    ("91350100M000100Y433", "length"),
    ("91350100M000100I43", "characters"),  # I, O, S, V, Z are not in the alphabet
    ("91350100M000100O43", "characters"), ("91350100M000100Z43", "characters"),
    ("913501O0M000100Y43", "characters"),  # the division code is digits
    ("9135010-M000100Y43", "characters"),
    ("91350100M000100Y44", "check_digit"),
    ("91350100M000010Y43", "check_digit"),  # two characters swapped
])
def test_invalid_codes_are_refused_with_a_stable_code(raw, code):
    with pytest.raises(InvalidUscc) as caught:
        pii.validate_uscc(raw)
    assert caught.value.code == code
    assert isinstance(caught.value, pii.PiiValueError) and caught.value.message


def test_the_inner_organisation_code_is_only_a_warning():
    assert pii.uscc_warnings("91110000600037341L") == []  # 60003734 → check 1
    first17 = "91110000600037342"  # same body, wrong inner check character
    code = first17 + uscc_check_char(first17)
    assert pii.validate_uscc(code) == code
    assert pii.uscc_warnings(code)


# --- logs ------------------------------------------------------------------------------------


@pytest.fixture
def captured():
    from zhili.config.logs import PiiFilter

    stream = StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(PiiFilter())
    handler.setFormatter(logging.Formatter("%(message)s"))
    logger = logging.getLogger("zhili.test.pii")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    yield logger, stream
    logger.removeHandler(handler)


def test_log_messages_are_masked(captured):
    logger, stream = captured
    logger.info("looked up %s, phone %s", "320602199001011234", 13812345678)
    logger.info("x: 32060219900101123X / +86 139 0000 1111 / +8613900001111 / 8613900001111")
    try:
        raise ValueError("bad number 320602199001011234")
    except ValueError:
        logger.exception("failed for 13812345678")
    text = stream.getvalue()
    assert "320602199001011234" not in text and "13812345678" not in text
    assert "13900001111" not in text and "32060219900101123X" not in text
    assert "3206**********1234" in text and "138****5678" in text
    assert "3206**********123X" in text and "+86139****1111" in text
    assert "ValueError: bad number 3206**********1234" in text


def test_log_masking_leaves_other_numbers_alone():
    from zhili.config.logs import mask_text

    for text in ("order 1234567890123456789", "job 12345", "ts 1700000000",
                 "landline 0513-85123456", "code 91350100M000100Y43"):
        assert mask_text(text) == text


def test_structlog_events_are_masked(settings):
    import logging.config

    import structlog

    from zhili.config.logs import logging_config

    stream = StringIO()
    config = logging_config(level="INFO", json=True)
    config["handlers"]["console"] = {"()": lambda: logging.StreamHandler(stream),
                                     "formatter": "structured", "filters": ["pii"]}
    logging.config.dictConfig(config)
    try:
        structlog.get_logger("zhili.test").info("person_saved", id_number="320602199001011234",
                                                extra={"phone": "13812345678"})
        try:
            raise ValueError("bad 13812345678")
        except ValueError:
            structlog.get_logger("zhili.test").exception("failed")
    finally:
        logging.config.dictConfig(settings.LOGGING)
    text = stream.getvalue()
    assert "3206**********1234" in text and "138****5678" in text
    assert "13812345678" not in text and "320602199001011234" not in text
    assert "ValueError: bad 138****5678" in text


# --- zhili keys --------------------------------------------------------------------------------

KEY_A = base64.b64encode(b"A" * 32).decode()
KEY_B = base64.b64encode(b"B" * 32).decode()
INDEX_KEY = base64.b64encode(b"I" * 32).decode()


@pytest.fixture
def key_settings(settings, tmp_path):
    settings.DATA_DIR = tmp_path
    settings.ZHILI_PII_CIPHER = "aes"
    settings.ZHILI_PII_KEYS = f"ka:{KEY_A}"
    settings.ZHILI_PII_INDEX_KEY = INDEX_KEY
    settings.ZHILI_PII_INDEX_HASH = ""
    yield settings
    keys.reset()


def status() -> str:
    out = StringIO()
    call_command("rotate_pii_keys", "--status", stdout=out)
    return out.getvalue()


def test_keys_status_and_rotate(key_settings, world):
    from zhili.people.models import Person

    for n in range(3):
        person = Person(name=f"居民{n}", area=world.grid_a1, area_code=world.grid_a1.code)
        pii.assign(person, "id_number", f"32060219900101{n:03d}" + "0")
        pii.assign(person, "phone", "" if n == 2 else f"1381234567{n}")
        person.save()
    text = status()
    assert "key ka (active)" in text
    assert re.search(r"people\.Person\.id_number: aes:ka 3 \(active\); empty 0", text)
    assert re.search(r"people\.Person\.phone: aes:ka 2 \(active\); empty 1", text)
    assert "all personal data is under the active key" in text

    key_settings.ZHILI_PII_KEYS = f"kb:{KEY_B},ka:{KEY_A}"  # a new active key in front
    text = status()
    assert "key kb (active)" in text and "key ka\n" in text
    assert re.search(r"people\.Person\.id_number: aes:ka 3; empty 0", text)
    assert "not under the active key" in text

    out = StringIO()
    call_command("rotate_pii_keys", "--batch-size", "2", stdout=out)
    assert "people.Person: done, 5 value(s) re-encrypted" in out.getvalue()
    text = status()
    assert re.search(r"people\.Person\.id_number: aes:kb 3 \(active\); empty 0", text)
    assert re.search(r"people\.Person\.phone: aes:kb 2 \(active\); empty 1", text)
    # Still found through the blind index, still readable.
    found = Person.objects.get(pii.lookup_q(Person, "phone", "+86 138 1234 5671"))
    assert found.phone == "13812345671"
    # Resumable: a second run has nothing left to do.
    out = StringIO()
    call_command("rotate_pii_keys", stdout=out)
    assert "people.Person: done, 0 value(s) re-encrypted" in out.getvalue()


def test_zhili_keys_maps_to_the_management_command(monkeypatch):
    from zhili import cli

    calls = []
    monkeypatch.setattr(cli, "_django", calls.append)
    assert cli.main(["keys", "status"]) == 0
    assert cli.main(["keys", "rotate"]) == 0
    assert cli.main(["keys", "rotate", "--batch", "500", "--reindex"]) == 0
    assert calls == [["rotate_pii_keys", "--status"],
                     ["rotate_pii_keys", "--batch-size", "1000"],
                     ["rotate_pii_keys", "--batch-size", "500", "--reindex"]]


def test_gunicorn_access_log_is_masked():
    from types import SimpleNamespace

    from gunicorn.config import Config

    from zhili.config.logs import GunicornLogger

    stream = StringIO()
    config = Config()
    config.set("accesslog", "-")
    logger = GunicornLogger(config)
    for handler in logger.access_log.handlers:
        handler.stream = stream
    environ = {"REQUEST_METHOD": "GET", "SERVER_PROTOCOL": "HTTP/1.1", "REMOTE_ADDR": "10.0.0.1",
               "RAW_URI": "/api/v1/people/persons?id_number=320602199001011234"
                          "&phone=%2B8613812345678",
               "PATH_INFO": "/api/v1/people/persons",
               "QUERY_STRING": "id_number=320602199001011234"}
    response = SimpleNamespace(status="200 OK", sent=10, headers=[])
    logger.access(response, SimpleNamespace(headers=[]), environ, dt.timedelta(seconds=1))
    text = stream.getvalue()
    assert "/api/v1/people/persons?id_number=3206**********1234" in text
    assert "320602199001011234" not in text and "13812345678" not in text
