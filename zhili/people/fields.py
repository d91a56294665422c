"""`EncryptedJSONField`: a small JSON document encrypted at rest as one value.

Residency details (income, family circumstances, difficulties, help received) are personal
information that is read with its record but never searched, so the whole document is one
ciphertext rather than one column per item.
"""

from __future__ import annotations

import json

from django.core.exceptions import ValidationError

from zhili.core.pii import EncryptedTextField, encrypt


class EncryptedJSONField(EncryptedTextField):
    """A dict in Python, `v1.<cipher>…` ciphertext of its JSON in the database ("" when empty)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("kind", "details")
        kwargs.setdefault("default", dict)
        kwargs.setdefault("blank", True)
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, _path, args, kwargs = super().deconstruct()
        return name, "zhili.people.fields.EncryptedJSONField", args, kwargs

    def from_db_value(self, value, expression, connection):
        return _load(super().from_db_value(value, expression, connection))

    def to_python(self, value):
        if isinstance(value, dict):
            return value
        return _load(super().to_python(value))

    def get_prep_value(self, value):
        value = self.to_python(value)
        if not value:
            return ""
        return encrypt(json.dumps(value, ensure_ascii=False, sort_keys=True), self.kind)

    def formfield(self, **kwargs):
        return None  # edited through the per-kind fields, never as raw JSON


def _load(text) -> dict:
    if not text:
        return {}
    try:
        value = json.loads(text)
    except ValueError:
        raise ValidationError("The details are not valid JSON.", code="invalid") from None
    if not isinstance(value, dict):
        raise ValidationError("The details must be a JSON object.", code="invalid")
    return value
