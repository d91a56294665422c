"""`EncryptedTextField` and its companion blind-index column.

Design (one explicit rule): a model that must find rows by an encrypted value declares a
companion `<name>_bidx` column next to it, and services write both with `assign()`:

    class Resident(models.Model):
        phone = EncryptedTextField(kind="phone", blank=True)
        phone_bidx = blind_index_field()

        class Meta:
            indexes = [models.Index(fields=["phone_bidx"])]

    changed = pii.assign(resident, "phone", "13812345678")   # ["phone", "phone_bidx"]
    resident.save(update_fields=changed)
    Resident.objects.filter(pii.lookup_q(Resident, "phone", "+86 138 1234 5678"))

Nothing recomputes the index behind the service's back (no save() hook): bulk_create and
update() would bypass one anyway, so the only rule to remember is "write PII through
`assign()`". `rotate_pii_keys --reindex` repairs indexes if that rule was ever broken. The index
is declared in `Meta.indexes` rather than with `db_index=True` for the reason given in
docs/architecture.md (no useless LIKE pattern index on PostgreSQL).
"""

from __future__ import annotations

from django.core import checks
from django.core.exceptions import FieldDoesNotExist, FieldError, ValidationError
from django.db import models
from django.db.models import Q
from django.db.models.lookups import Exact, IsNull
from django.utils.translation import gettext_lazy as _

from zhili.core.pii.crypto import (
    DecryptionError,
    blind_index,
    check_kind,
    decrypt,
    encrypt,
    looks_encrypted,
)
from zhili.core.pii.validation import normalise

BIDX_SUFFIX = "_bidx"
BIDX_LENGTH = 64
FIELD_PATH = "zhili.core.pii.EncryptedTextField"


def _refusal(field, lookup: str) -> FieldError:
    where = f"{field.model._meta.label}.{field.name}" if hasattr(field, "model") else field.name
    return FieldError(
        f"{where} is encrypted: '{lookup}' cannot be evaluated on ciphertext. Search the "
        f"blind index instead (zhili.core.pii.lookup_q on '{field.name}{BIDX_SUFFIX}'); only "
        "isnull (and exact None or \"\") are allowed on the field itself."
    )


class _NullOrEmptyExact(Exact):
    """`filter(phone=None)` (Django turns it into isnull) and `filter(phone="")` only:
    empty values are stored as they are, everything else is randomised ciphertext."""

    def __init__(self, lhs, rhs):
        if rhs is not None and rhs != "":
            raise _refusal(lhs.output_field, "exact")
        super().__init__(lhs, rhs)


class EncryptedTextField(models.TextField):
    """Text encrypted at rest (`crypto.encrypt`), plaintext `str` (or None) in Python.

    None is stored as NULL and "" as "" (emptiness is not secret and stays filterable); every
    other value as `v1.<cipher>.<kid>.…`, decrypted when loaded. Serialisation (dumpdata) writes
    the ciphertext, so dumps do not spread plaintext; loading accepts ciphertext or plaintext.
    Lookups other than isnull are refused: see `_refusal`.
    """

    description = _("Encrypted text")

    def __init__(self, *args, kind: str, **kwargs):
        self.kind = check_kind(kind)
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, _path, args, kwargs = super().deconstruct()
        kwargs["kind"] = self.kind
        # The public path, so migrations survive moving the class inside the package.
        return name, FIELD_PATH, args, kwargs

    def from_db_value(self, value, expression, connection):
        if value is None or value == "":
            return value
        try:
            return decrypt(value, self.kind)
        except DecryptionError as exc:
            # Name the column for the operator; the message never contains the value.
            raise DecryptionError(f"{self.model._meta.label}.{self.name}: {exc}") from None

    def to_python(self, value):
        value = super().to_python(value)
        if value and looks_encrypted(value):
            try:
                return decrypt(value, self.kind)
            except DecryptionError as exc:
                raise ValidationError(str(exc), code="undecryptable") from None
        return value

    def get_prep_value(self, value):
        value = self.to_python(value)
        if value is None or value == "":
            return value
        return encrypt(value, self.kind)

    def value_to_string(self, obj):
        return self.get_prep_value(self.value_from_object(obj))

    def get_lookup(self, lookup_name):
        if lookup_name == "isnull":
            return IsNull
        if lookup_name == "exact":
            return _NullOrEmptyExact
        raise _refusal(self, lookup_name)

    def get_transform(self, lookup_name):
        raise _refusal(self, lookup_name)

    def formfield(self, **kwargs):
        # A phone or ID number is one line, not a textarea.
        from django import forms

        return super().formfield(**{"widget": forms.TextInput, **kwargs})

    def check(self, **kwargs):
        errors = super().check(**kwargs)
        if self.unique or self.primary_key or self.db_index:
            errors.append(checks.Error(
                "An EncryptedTextField cannot be unique, a primary key or indexed: its "
                "ciphertext differs every time.",
                hint=f"Put uniqueness or the index on '{self.name}{BIDX_SUFFIX}'.",
                obj=self, id="zhili.pii.E001"))
        companion = companion_field(self.model, self.name) if hasattr(self, "model") else None
        if companion is not None and not (isinstance(companion, models.CharField)
                                          and (companion.max_length or 0) >= BIDX_LENGTH):
            errors.append(checks.Error(
                f"'{companion.name}' holds the blind index of '{self.name}': it must be a "
                f"CharField with max_length >= {BIDX_LENGTH}.",
                hint="Declare it with zhili.core.pii.blind_index_field().",
                obj=self, id="zhili.pii.E002"))
        return errors


def blind_index_field(**kwargs) -> models.CharField:
    """The companion column: 64 hex characters, "" (or NULL with null=True) when empty."""
    options = {"max_length": BIDX_LENGTH, "blank": True, "default": "", "editable": False}
    return models.CharField(**{**options, **kwargs})


def companion_field(model, name: str) -> models.Field | None:
    try:
        return model._meta.get_field(name + BIDX_SUFFIX)
    except FieldDoesNotExist:
        return None


def _encrypted_field(model, name: str) -> EncryptedTextField:
    field = model._meta.get_field(name)
    if not isinstance(field, EncryptedTextField):
        raise TypeError(f"{model._meta.label}.{name} is not an EncryptedTextField")
    return field


def empty_index(companion: models.Field) -> str | None:
    return None if companion.null else ""


def assign(instance, name: str, value: str | None) -> list[str]:
    """Set an encrypted field and its `<name>_bidx` companion (if the model has one).

    Returns the names of the fields set, for `save(update_fields=...)`.
    """
    field = _encrypted_field(type(instance), name)
    setattr(instance, field.attname, value)
    companion = companion_field(type(instance), name)
    if companion is None:
        return [field.name]
    index = empty_index(companion) if value is None or value == "" else blind_index(
        value, field.kind)
    setattr(instance, companion.attname, index)
    return [field.name, companion.name]


def lookup_q(model, name: str, value: str | None) -> Q:
    """Q matching rows whose encrypted field equals `value` after normalisation.

    Searching for nothing (None, or a value that normalises to "") matches no row.
    """
    field = _encrypted_field(model, name)
    companion = companion_field(model, name)
    if companion is None:
        raise FieldError(f"{model._meta.label}.{name} has no '{name}{BIDX_SUFFIX}' blind-index "
                         "column to search")
    if value is None or not normalise(value, field.kind):
        return Q(pk__in=[])
    return Q(**{companion.name: blind_index(value, field.kind)})
