"""Personal-data protection (PIPL 个人信息保护法, 等保 2.0): encryption at rest, masking by
default, exact search without decrypting everything.

Used by every module that stores ID numbers (身份证号), phone numbers or detailed addresses:

- **Store** them in `EncryptedTextField(kind=...)` (kinds: `ID_NUMBER`, `PHONE`, `ADDRESS`, or
  any other lower-case name). Values are AES-256-GCM (default) or SM4-GCM
  (`ZHILI_PII_CIPHER=sm4`, 国密) ciphertext in the database, plaintext in Python.
- **Search** them through a companion `<name>_bidx` column (`blind_index_field()`), written
  together with the value by `assign()` and queried with `lookup_q()`. The blind index is an
  HMAC of the normalised value, so "+86 138 1234 5678" finds "13812345678". Filtering on the
  encrypted field itself is refused (ciphertext is randomised), except isnull.
- **Show** them masked (`mask_id_number`, `mask_phone`, `mask_name`, `mask_address`;
  `mask_field(obj, name)` picks the rule by the field's kind); templates use
  `{% load pii %}{% pii obj "field" %}`, which shows the value in clear only while the user
  holds an unmask grant (`zhili.core.unmask`: a permission, a stated purpose, time-limited,
  audited).
- **Validate** input with `validate_id_number` (GB 11643, 15-digit numbers upgraded),
  `validate_phone` and `validate_uscc` (统一社会信用代码, GB 32100), which raise
  `PiiValueError` subclasses with a stable `code` and a translated message (for
  `ServiceError`/`field_error`).

Keys live outside the database (`keys`): `ZHILI_PII_KEYS` + `ZHILI_PII_INDEX_KEY`, or
`$ZHILI_DATA_DIR/pii_keys.json`, generated on first use. Encryption keys rotate (`zhili keys
rotate`; `zhili keys status` shows how many values each key holds); the blind-index key does
not (see `keys` for both procedures).
"""

from zhili.core.pii.crypto import (
    DecryptionError,
    active_prefix,
    blind_index,
    decrypt,
    encrypt,
    encrypter,
    is_current,
)
from zhili.core.pii.fields import (
    BIDX_SUFFIX,
    EncryptedTextField,
    assign,
    blind_index_field,
    lookup_q,
)
from zhili.core.pii.keys import Keyring, keyring
from zhili.core.pii.masking import (
    field_kind,
    mask_address,
    mask_field,
    mask_id_number,
    mask_name,
    mask_phone,
    mask_value,
)
from zhili.core.pii.validation import (
    ADDRESS,
    ID_NUMBER,
    PHONE,
    IdCheck,
    InvalidIdNumber,
    InvalidPhone,
    InvalidUscc,
    PiiValueError,
    normalise,
    uscc_warnings,
    validate_id_number,
    validate_phone,
    validate_uscc,
)

__all__ = [
    "ADDRESS",
    "BIDX_SUFFIX",
    "ID_NUMBER",
    "PHONE",
    "DecryptionError",
    "EncryptedTextField",
    "IdCheck",
    "InvalidIdNumber",
    "InvalidPhone",
    "InvalidUscc",
    "Keyring",
    "PiiValueError",
    "active_prefix",
    "assign",
    "blind_index",
    "blind_index_field",
    "decrypt",
    "encrypt",
    "encrypter",
    "field_kind",
    "is_current",
    "keyring",
    "lookup_q",
    "mask_address",
    "mask_field",
    "mask_id_number",
    "mask_name",
    "mask_phone",
    "mask_value",
    "normalise",
    "uscc_warnings",
    "validate_id_number",
    "validate_phone",
    "validate_uscc",
]
