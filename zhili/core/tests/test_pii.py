import base64
import json
import stat
from datetime import date
from io import StringIO

import pytest
from django.core.exceptions import FieldError, ImproperlyConfigured
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, models
from django.test.utils import isolate_apps

from zhili.core import pii
from zhili.core.pii import keys, rotation

KEY_A = base64.b64encode(b"A" * 32).decode()
KEY_B = base64.b64encode(b"B" * 32).decode()
INDEX_KEY = base64.b64encode(b"I" * 32).decode()


@pytest.fixture(autouse=True)
def pii_keys(settings, tmp_path):
    """Test keys in the settings, and a throw-away data dir: never the real keys."""
    settings.DATA_DIR = tmp_path
    settings.ZHILI_PII_CIPHER = "aes"
    settings.ZHILI_PII_KEYS = f"ka:{KEY_A}"
    settings.ZHILI_PII_INDEX_KEY = INDEX_KEY
    settings.ZHILI_PII_INDEX_HASH = ""
    yield settings
    keys.reset()


def _check_digit(body17: str) -> str:
    # Written out independently of the module: GB 11643 weights and check characters.
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    return "10X98765432"[sum(int(d) * w for d, w in zip(body17, weights, strict=True)) % 11]


# --- encryption ------------------------------------------------------------------------------


@pytest.mark.parametrize("cipher", ["aes", "sm4"])
def test_round_trip_for_both_ciphers(pii_keys, cipher):
    pii_keys.ZHILI_PII_CIPHER = cipher
    text = "江苏省南通市崇川区和平桥街道工农路 123 号"
    token = pii.encrypt(text, "address")
    assert token.startswith(f"v1.{cipher}.ka.")
    assert "=" not in token and text not in token
    assert pii.decrypt(token, "address") == text
    assert pii.encrypt(text, "address") != token  # random nonce: equal values do not show


def test_values_of_the_other_cipher_still_decrypt(pii_keys):
    aes = pii.encrypt("13812345678", "phone")
    pii_keys.ZHILI_PII_CIPHER = "sm4"
    assert pii.decrypt(aes, "phone") == "13812345678"
    assert not pii.is_current(aes)


@pytest.mark.parametrize("cipher", ["aes", "sm4"])
def test_tampered_ciphertext_is_refused(pii_keys, cipher):
    pii_keys.ZHILI_PII_CIPHER = cipher
    token = pii.encrypt("320602199001011234", "id_number")
    head, body = token.rsplit(".", 1)
    raw = bytearray(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    for position in (0, 13, len(raw) - 1):  # nonce, ciphertext, tag
        altered = bytearray(raw)
        altered[position] ^= 0x01
        forged = head + "." + base64.urlsafe_b64encode(bytes(altered)).decode().rstrip("=")
        with pytest.raises(pii.DecryptionError):
            pii.decrypt(forged, "id_number")
    other_cipher = "sm4" if cipher == "aes" else "aes"
    with pytest.raises(pii.DecryptionError):
        pii.decrypt(token.replace(f".{cipher}.", f".{other_cipher}.", 1), "id_number")
    for junk in ("", "plain text", "v1.aes.ka.", "v1.aes.ka.!!!", "v2" + token[2:], token[:30]):
        with pytest.raises(pii.DecryptionError):
            pii.decrypt(junk, "id_number")


def test_a_value_cannot_be_decrypted_as_another_kind():
    token = pii.encrypt("13812345678", "phone")
    with pytest.raises(pii.DecryptionError, match="another kind"):
        pii.decrypt(token, "id_number")


def test_error_messages_do_not_contain_the_value():
    token = pii.encrypt("13812345678", "phone")
    with pytest.raises(pii.DecryptionError) as caught:
        pii.decrypt(token, "address")
    assert "13812345678" not in str(caught.value) and token[12:] not in str(caught.value)


def test_kinds_are_checked():
    with pytest.raises(ValueError):
        pii.encrypt("x", "Phone.Number")


# --- keys ------------------------------------------------------------------------------------


def test_keys_are_generated_once_into_a_private_file(pii_keys, tmp_path):
    pii_keys.ZHILI_PII_KEYS = ""
    pii_keys.ZHILI_PII_INDEX_KEY = ""
    token = pii.encrypt("13812345678", "phone")
    path = tmp_path / "pii_keys.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    data = json.loads(path.read_text())
    assert token.split(".")[2] == data["active"] and data["index_key"]
    index = pii.blind_index("13812345678", "phone")
    keys.reset()  # another process: reads the same file, generates nothing
    assert pii.decrypt(token, "phone") == "13812345678"
    assert pii.blind_index("13812345678", "phone") == index
    assert not list(tmp_path.glob(".pii_keys.json.*"))  # no temporary files left


def test_a_process_losing_the_creation_race_uses_the_winners_keys(tmp_path):
    path = tmp_path / "pii_keys.json"
    assert keys._write_new(path, {"active": "k1", "cipher_keys": {"k1": KEY_A},
                                  "index_key": INDEX_KEY})
    assert not keys._write_new(path, {"active": "k2", "cipher_keys": {"k2": KEY_B},
                                      "index_key": KEY_B})
    assert json.loads(path.read_text())["active"] == "k1"


@pytest.mark.parametrize(
    ("keys_value", "index_value", "message"),
    [
        (f"ka:{KEY_A}", "", "both"),
        ("", INDEX_KEY, "both"),
        ("ka", INDEX_KEY, "kid1:base64key"),
        ("ka:not base64!", INDEX_KEY, "base64"),
        (f"ka:{base64.b64encode(b'short').decode()}", INDEX_KEY, "exactly 32 bytes"),
        (f"k.a:{KEY_A}", INDEX_KEY, "key id"),
        (f"ka:{KEY_A},ka:{KEY_B}", INDEX_KEY, "twice"),
        (f"ka:{KEY_A}", base64.b64encode(b"short").decode(), "at least 32 bytes"),
    ],
)
def test_bad_key_settings_are_refused_with_the_variable_name(pii_keys, keys_value, index_value,
                                                            message):
    pii_keys.ZHILI_PII_KEYS = keys_value
    pii_keys.ZHILI_PII_INDEX_KEY = index_value
    with pytest.raises(ImproperlyConfigured, match=message) as caught:
        pii.keyring()
    assert "ZHILI_PII_" in str(caught.value)
    assert KEY_A not in str(caught.value)


def test_bad_cipher_is_refused(pii_keys):
    pii_keys.ZHILI_PII_CIPHER = "des"
    with pytest.raises(ImproperlyConfigured, match="ZHILI_PII_CIPHER"):
        pii.keyring()


def test_urlsafe_unpadded_keys_are_accepted_and_not_shown(pii_keys):
    pii_keys.ZHILI_PII_KEYS = "k1:" + base64.urlsafe_b64encode(b"\xfb" * 32).decode().rstrip("=")
    ring = pii.keyring()
    assert ring.keys["k1"] == b"\xfb" * 32
    assert "+/" not in repr(ring) and "keys=" not in repr(ring)


def test_new_key_in_the_file_becomes_active_and_old_values_still_decrypt(pii_keys, tmp_path):
    pii_keys.ZHILI_PII_KEYS = ""
    pii_keys.ZHILI_PII_INDEX_KEY = ""
    token = pii.encrypt("13812345678", "phone")
    index = pii.blind_index("13812345678", "phone")
    old = pii.keyring().active_kid
    kid = keys.add_file_key()
    assert kid != old and pii.keyring().active_kid == kid
    assert stat.S_IMODE((tmp_path / "pii_keys.json").stat().st_mode) == 0o600
    assert pii.decrypt(token, "phone") == "13812345678"
    assert pii.blind_index("13812345678", "phone") == index  # the index key did not rotate


def test_a_process_with_stale_keys_rereads_the_file_for_an_unknown_kid(pii_keys):
    pii_keys.ZHILI_PII_KEYS = ""
    pii_keys.ZHILI_PII_INDEX_KEY = ""
    stale = pii.keyring()
    keys.add_file_key()
    token = pii.encrypt("13812345678", "phone")
    keys._cached = stale  # as in a web worker started before the new key was added
    assert pii.decrypt(token, "phone") == "13812345678"


# --- blind index -----------------------------------------------------------------------------


def test_blind_index_normalises_phones():
    expected = pii.blind_index("13812345678", "phone")
    assert len(expected) == 64 and int(expected, 16) >= 0
    for spelling in ("138 1234 5678", "+8613812345678", "+86 138-1234-5678",
                     "0086 13812345678", "8613812345678", "１３８１２３４５６７８"):
        assert pii.blind_index(spelling, "phone") == expected, spelling
    landline = pii.blind_index("0513-85123456", "phone")
    assert pii.blind_index("+86 513 8512 3456", "phone") == landline
    assert pii.blind_index("(0513) 8512 3456", "phone") == landline


def test_blind_index_normalises_id_numbers_and_addresses():
    assert pii.blind_index("11010519491231002x", "id_number") == pii.blind_index(
        " 110105 19491231 002X ", "id_number")
    # A first-generation 15-digit number finds its 18-digit successor.
    assert pii.blind_index("110105491231002", "id_number") == pii.blind_index(
        "11010519491231002X", "id_number")
    assert pii.blind_index("南通市  崇川区\n工农路", "address") == pii.blind_index(
        "南通市 崇川区 工农路", "address")


def test_blind_index_is_separated_by_kind_and_depends_only_on_the_index_key(pii_keys):
    phone = pii.blind_index("13812345678", "phone")
    assert pii.blind_index("13812345678", "address") != phone
    pii_keys.ZHILI_PII_KEYS = f"kb:{KEY_B},ka:{KEY_A}"  # encryption keys rotate …
    assert pii.blind_index("13812345678", "phone") == phone  # … searches still match
    pii_keys.ZHILI_PII_INDEX_KEY = KEY_B
    assert pii.blind_index("13812345678", "phone") != phone


def test_blind_index_uses_sm3_with_sm4_unless_pinned(pii_keys):
    sha = pii.blind_index("13812345678", "phone")
    pii_keys.ZHILI_PII_CIPHER = "sm4"
    sm3 = pii.blind_index("13812345678", "phone")
    assert len(sm3) == 64 and sm3 != sha
    pii_keys.ZHILI_PII_INDEX_HASH = "sha256"
    assert pii.blind_index("13812345678", "phone") == sha


# --- validation ------------------------------------------------------------------------------


def test_valid_id_numbers():
    check = pii.validate_id_number("360426199101010071")
    assert check.number == "360426199101010071"
    assert check.birth_date == date(1991, 1, 1)
    assert check.sex == "male" and check.region_code == "360426"
    assert check.warnings == [] and not check.legacy
    check = pii.validate_id_number(" 11010519491231002x ")
    assert check.number == "11010519491231002X"
    assert check.birth_date == date(1949, 12, 31) and check.sex == "female"
    assert pii.validate_id_number("１１０１０５１９４９１２３１００２Ｘ").number == check.number


def test_fifteen_digit_numbers_are_converted():
    check = pii.validate_id_number("110105491231002")
    assert check.number == "11010519491231002X" and check.legacy
    assert check.birth_date == date(1949, 12, 31)
    body = "320602" + "19" + "900101" + "123"
    assert pii.validate_id_number("320602900101123").number == body + _check_digit(body)


def test_unknown_region_is_a_warning_not_an_error():
    body = "990000" + "19900101" + "001"
    check = pii.validate_id_number(body + _check_digit(body))
    assert check.region_code == "990000"
    assert len(check.warnings) == 1 and "990000" in check.warnings[0]


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("", "length"),
        ("3604261991010100", "length"),
        ("3604261991010100711", "length"),
        ("36042619910101007Y", "characters"),
        ("3604261991010100-1", "characters"),
        ("36042619910101X071", "characters"),
        ("11010549123100X", "characters"),
        ("360426199102300071", "birth_date"),  # 30 February
        ("360426189901010071", "birth_date"),
        ("360426199101010072", "check_digit"),
        ("11010519491231002Y", "characters"),
    ],
)
def test_invalid_id_numbers(raw, code):
    with pytest.raises(pii.InvalidIdNumber) as caught:
        pii.validate_id_number(raw)
    assert caught.value.code == code and isinstance(caught.value, ValueError)
    assert caught.value.message


def test_future_birth_date_is_refused():
    body = "320602" + "20300101" + "001"
    with pytest.raises(pii.InvalidIdNumber) as caught:
        pii.validate_id_number(body + _check_digit(body), today=date(2026, 1, 1))
    assert caught.value.code == "future_birth_date" and "2030-01-01" in caught.value.message
    assert pii.validate_id_number(body + _check_digit(body), today=date(2030, 1, 1))


@pytest.mark.parametrize(
    ("raw", "normalised"),
    [
        ("13812345678", "13812345678"),
        ("138 1234 5678", "13812345678"),
        ("+86 138-1234-5678", "13812345678"),
        ("008619912345678", "19912345678"),
        ("0513-85123456", "0513-85123456"),
        ("051385123456", "0513-85123456"),
        ("(0513) 8512 345", "0513-8512345"),
        ("010-62345678", "010-62345678"),
        ("021 6234 5678", "021-62345678"),
        ("+86 513 8512 3456", "0513-85123456"),
    ],
)
def test_valid_phones(raw, normalised):
    assert pii.validate_phone(raw) == normalised


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("", "format"),
        (None, "format"),
        ("138-1234-567a", "characters"),
        ("12812345678", "format"),
        ("1381234567", "format"),
        ("138123456789", "format"),
        ("0513-0512345", "format"),
        ("0513-123456789", "format"),
        ("85123456", "format"),
        ("+1 415 555 0100", "format"),
        ("+44 13812345678", "format"),
    ],
)
def test_invalid_phones(raw, code):
    with pytest.raises(pii.InvalidPhone) as caught:
        pii.validate_phone(raw)
    assert caught.value.code == code


# --- masking ---------------------------------------------------------------------------------


def test_masking():
    assert pii.mask_id_number("320602199001011234") == "3206**********1234"
    assert pii.mask_id_number("110105491231002") == "1101*******1002"
    assert pii.mask_id_number("1234567") == "*******"
    assert pii.mask_phone("13812345678") == "138****5678"
    assert pii.mask_phone("+86 138 1234 5678") == "138****5678"
    assert pii.mask_phone("0513-85123456") == "0513-****3456"
    assert pii.mask_phone("12345") == "*****"
    assert pii.mask_name("张三丰") == "张**"
    assert pii.mask_name("张三") == "张*"
    assert pii.mask_name("张") == "*"
    for mask in (pii.mask_id_number, pii.mask_phone, pii.mask_name, pii.mask_address):
        assert mask(None) == "" and mask("") == ""


@pytest.mark.parametrize(
    ("address", "masked"),
    [
        ("江苏省南通市崇川区和平桥街道工农路123号3幢201室", "江苏省南通市崇川区和平桥街道****"),
        ("江苏省 镇江市 京口区 正东路街道 中山东路1号", "江苏省镇江市京口区正东路街道****"),
        ("北京市朝阳区建国门外街道光华路1号", "北京市朝阳区建国门外街道****"),
        ("南通市崇川区工农路123号", "南通市崇川区****"),
        ("江苏省如皋市城北街道花园路8号", "江苏省如皋市城北街道****"),
        ("内蒙古自治区呼和浩特市新城区海东路街道1号", "内蒙古自治区呼和浩特市新城区海东路街道****"),
        ("南通市崇川区", "南通市崇川区"),
        ("工农路123号3幢201室", "工农路****"),
        ("人民路1号", "人****"),
        ("12 Main Street", "****"),
    ],
)
def test_address_masking_keeps_the_town_level(address, masked):
    assert pii.mask_address(address) == masked


# --- the field, the companion index and rotation (a table of a test-only model) -------------


@pytest.fixture
def person_model(live_db):
    """A model that exists only in this test: isolated app registry, its own table."""
    with isolate_apps("zhili.core") as test_apps:

        class Person(models.Model):
            name = models.CharField(max_length=20, blank=True)
            phone = pii.EncryptedTextField(kind="phone", blank=True, null=True)
            phone_bidx = pii.blind_index_field(null=True)
            id_number = pii.EncryptedTextField(kind="id_number", blank=True)
            updated = models.DateTimeField(auto_now=True)

            class Meta:
                app_label = "core"

            def __str__(self):
                return self.name

        with connection.schema_editor() as editor:
            editor.create_model(Person)
        Person.test_apps = test_apps
        try:
            yield Person
        finally:
            with connection.schema_editor() as editor:
                editor.delete_model(Person)


def _raw_column(model, column: str) -> list:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM {model._meta.db_table} ORDER BY id")
        return [row[0] for row in cursor.fetchall()]


def test_field_stores_ciphertext_and_searches_by_blind_index(person_model):
    Person = person_model
    person = Person(name="a")
    assert pii.assign(person, "phone", "138 1234 5678") == ["phone", "phone_bidx"]
    assert pii.assign(person, "id_number", "360426199101010071") == ["id_number"]
    person.save()
    Person.objects.create(name="b", id_number="")  # phone NULL, id number empty
    stored_phone, stored_id = _raw_column(Person, "phone")[0], _raw_column(Person, "id_number")[0]
    assert stored_phone.startswith("v1.aes.ka.") and "1234" not in stored_phone
    assert stored_id.startswith("v1.aes.ka.")
    assert _raw_column(Person, "phone")[1] is None and _raw_column(Person, "id_number")[1] == ""
    loaded = Person.objects.get(name="a")
    assert loaded.phone == "138 1234 5678" and loaded.id_number == "360426199101010071"
    found = Person.objects.filter(pii.lookup_q(Person, "phone", "+86 13812345678"))
    assert list(found.values_list("name", flat=True)) == ["a"]
    assert not Person.objects.filter(pii.lookup_q(Person, "phone", "---")).exists()
    assert Person.objects.filter(phone__isnull=True).count() == 1
    assert Person.objects.filter(phone=None).count() == 1
    assert Person.objects.filter(id_number="").count() == 1
    for refused in ({"phone": "13812345678"}, {"phone__contains": "138"},
                    {"id_number__startswith": "3604"}, {"phone__lower": "x"}):
        with pytest.raises(FieldError, match="blind index"):
            list(Person.objects.filter(**refused))
    with pytest.raises(FieldError, match="no 'id_number_bidx'"):
        pii.lookup_q(Person, "id_number", "360426199101010071")
    assert Person.check() == []


def test_an_unreadable_column_names_itself_but_not_its_value(person_model):
    person_model.objects.create(name="a", phone="13812345678")
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {person_model._meta.db_table} SET phone = 'plain 13900000000'")
    with pytest.raises(pii.DecryptionError, match="core.Person.phone") as caught:
        person_model.objects.get()
    assert "13900000000" not in str(caught.value)


def test_field_deconstructs_with_its_kind(person_model):
    name, path, args, kwargs = person_model._meta.get_field("phone").deconstruct()
    assert path == "zhili.core.pii.EncryptedTextField"
    assert kwargs["kind"] == "phone" and kwargs["null"] is True
    rebuilt = pii.EncryptedTextField(*args, **kwargs)
    assert rebuilt.kind == "phone"


def test_dumped_values_are_ciphertext_and_load_back(person_model):
    field = person_model._meta.get_field("phone")
    person = person_model(phone="13812345678")
    dumped = field.value_to_string(person)
    assert dumped.startswith("v1.aes.ka.")
    assert field.to_python(dumped) == "13812345678"
    assert field.to_python("13812345678") == "13812345678"


def test_unique_encrypted_fields_are_refused_by_the_checks():
    with isolate_apps("zhili.core"):

        class Broken(models.Model):
            phone = pii.EncryptedTextField(kind="phone", unique=True)
            phone_bidx = models.CharField(max_length=32)

            class Meta:
                app_label = "core"

            def __str__(self):
                return "broken"

        ids = {error.id for error in Broken.check()}
    assert {"zhili.pii.E001", "zhili.pii.E002"} <= ids


def test_rotation_reencrypts_under_the_new_key(person_model, pii_keys):
    Person = person_model
    for i in range(5):
        person = Person(name=str(i), id_number="360426199101010071")
        pii.assign(person, "phone", f"1381234567{i}")
        person.save()
    before = _raw_column(Person, "updated")
    pii_keys.ZHILI_PII_KEYS = f"kb:{KEY_B},ka:{KEY_A}"  # B becomes active, A only decrypts
    assert rotation.encrypted_models(Person.test_apps) == [Person]
    assert rotation.count_stale(Person) == 5
    batches = []
    result = rotation.rotate_model(Person, batch_size=2, on_batch=lambda r: batches.append(
        r.rows_checked))
    assert batches == [2, 4, 5]
    assert result.rows_updated == 5 and result.values_reencrypted == 10
    assert result.failed == [] and result.indexes_stale == 0
    assert all(v.startswith("v1.aes.kb.") for v in _raw_column(Person, "phone"))
    assert all(v.startswith("v1.aes.kb.") for v in _raw_column(Person, "id_number"))
    assert _raw_column(Person, "updated") == before  # update(), not save()
    assert sorted(Person.objects.values_list("phone", flat=True)) == [
        f"1381234567{i}" for i in range(5)]
    assert Person.objects.filter(pii.lookup_q(Person, "phone", "13812345673")).count() == 1
    again = rotation.rotate_model(Person)
    assert again.rows_checked == 0 and again.rows_updated == 0  # safe to re-run


def test_rotation_command_switches_cipher_and_reports_unreadable_rows(person_model, pii_keys,
                                                                      monkeypatch):
    Person = person_model
    monkeypatch.setattr(rotation, "encrypted_models", lambda: [Person])
    person = Person(name="a")
    pii.assign(person, "phone", "13812345678")
    person.save()
    Person.objects.create(name="b", phone="13900000000")
    pii_keys.ZHILI_PII_CIPHER = "sm4"
    pii_keys.ZHILI_PII_INDEX_HASH = "sha256"  # pinned, so the cipher switch keeps indexes
    pii_keys.ZHILI_PII_KEYS = f"kb:{KEY_B},ka:{KEY_A}"
    with pytest.raises(CommandError):
        call_command("rotate_pii_keys", "--check", stdout=StringIO())
    out = StringIO()
    call_command("rotate_pii_keys", "--batch-size", "1", stdout=out, stderr=StringIO())
    text = out.getvalue()
    assert "active: cipher sm4, key kb" in text and "2 rows checked, 2 updated" in text
    assert all(v.startswith("v1.sm4.kb.") for v in _raw_column(Person, "phone"))
    assert Person.objects.get(name="a").phone == "13812345678"
    call_command("rotate_pii_keys", "--check", stdout=StringIO())
    assert Person.objects.filter(pii.lookup_q(Person, "phone", "138 1234 5678")).count() == 1

    # A value under a key that is no longer configured is reported and left alone.
    pii_keys.ZHILI_PII_KEYS = f"kc:{KEY_A}"
    err = StringIO()
    with pytest.raises(CommandError, match="could not be decrypted"):
        call_command("rotate_pii_keys", stdout=StringIO(), stderr=err)
    assert "phone cannot be decrypted" in err.getvalue()
    assert all(v.startswith("v1.sm4.kb.") for v in _raw_column(Person, "phone"))


def test_reindex_repairs_indexes_after_an_index_key_change(person_model, pii_keys):
    Person = person_model
    person = Person(name="a")
    pii.assign(person, "phone", "13812345678")
    person.save()
    Person.objects.create(name="b")  # no phone: its index stays empty
    pii_keys.ZHILI_PII_INDEX_KEY = KEY_B
    assert not Person.objects.filter(pii.lookup_q(Person, "phone", "13812345678")).exists()
    assert rotation.rotate_model(Person).indexes_stale == 0  # nothing stale to look at
    result = rotation.rotate_model(Person, reindex=True)
    assert result.rows_checked == 2 and result.indexes_fixed == 1
    assert result.values_reencrypted == 0
    assert Person.objects.filter(pii.lookup_q(Person, "phone", "13812345678")).exists()


def test_rotate_command_runs_with_the_installed_apps(db):
    out = StringIO()
    call_command("rotate_pii_keys", stdout=out)
    assert "active: cipher aes, key ka" in out.getvalue()


def test_new_key_option_with_environment_keys_only_prints_one(db):
    out = StringIO()
    call_command("rotate_pii_keys", "--new-key", stdout=out)
    assert "put k" in out.getvalue() and pii.keyring().active_kid == "ka"
