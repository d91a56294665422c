"""Where the personal-data keys come from: the environment, or a generated file under DATA_DIR.

Two kinds of key, with different lifecycles:

- **Encryption keys** (`ZHILI_PII_KEYS`, or `cipher_keys` in the file) are a list; the first
  (or `active`) one encrypts new values, the others only decrypt. Ciphertexts name their key, so
  rotation is: add a new key in front, restart every process, run `rotate_pii_keys`, and remove
  the old key only when `rotate_pii_keys --check` reports nothing left under it.
- **The blind-index key** (`ZHILI_PII_INDEX_KEY`, or `index_key` in the file) must NOT change
  with them: every stored `_bidx` column was computed with it, so a new index key makes every
  exact search miss until `rotate_pii_keys --reindex` has recomputed all of them. Change it only
  when it leaked, and then reindex straight away. The same holds for the index hash (SHA-256 or
  SM3), which is why an install that may switch ciphers should pin `ZHILI_PII_INDEX_HASH`.

Keys are never stored in the database: a stolen database dump (or backup) alone reveals no
personal data. Back the key file up separately from the database; without it the encrypted
columns are lost.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import os
import re
import secrets
import threading
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed

logger = logging.getLogger(__name__)

KEY_FILE = "pii_keys.json"
KEY_BYTES = 32
CIPHERS = ("aes", "sm4")
INDEX_HASHES = ("sha256", "sm3")
# Key ids appear inside every ciphertext ("v1.aes.<kid>.…"): no dots, short.
KID_RE = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
_SETTINGS = {"ZHILI_PII_KEYS", "ZHILI_PII_INDEX_KEY", "ZHILI_PII_CIPHER",
             "ZHILI_PII_INDEX_HASH", "DATA_DIR"}


@dataclass(frozen=True)
class Keyring:
    cipher: str  # for new values: "aes" (AES-256-GCM) or "sm4" (SM4-GCM)
    active_kid: str
    # repr=False: a keyring in a traceback or on Django's debug page must not print the keys.
    keys: dict[str, bytes] = field(repr=False)
    index_key: bytes = field(repr=False)
    index_hash: str = "sha256"
    source: str = ""  # "environment" or the key file's path, for messages

    @property
    def from_file(self) -> bool:
        return self.source != "environment"


_lock = threading.Lock()
_cached: Keyring | None = None


def keyring() -> Keyring:
    """The keys in force, loaded (and on first use generated) once per process."""
    global _cached
    ring = _cached
    if ring is None:
        with _lock:
            if _cached is None:
                _cached = _load()
            ring = _cached
    return ring


def reset() -> None:
    """Forget the loaded keys (tests; after `rotate_pii_keys --new-key` changed the file)."""
    global _cached
    with _lock:
        _cached = None


def reload_for_unknown_kid(kid: str) -> Keyring:
    """A ciphertext names a key this process has not loaded: another process may have added it
    to the key file since (`rotate_pii_keys --new-key`), so read the file once more before
    giving up. Environment keys cannot change under a running process."""
    ring = keyring()
    if ring.from_file and kid not in ring.keys:
        reset()
        ring = keyring()
    return ring


def _on_setting_changed(*, setting, **kwargs):
    if setting in _SETTINGS:
        reset()


setting_changed.connect(_on_setting_changed, dispatch_uid="zhili.core.pii.keys")


def new_key_entry(kid: str | None = None) -> tuple[str, str]:
    """A fresh random key: (kid, standard base64 of 32 bytes)."""
    key = base64.b64encode(secrets.token_bytes(KEY_BYTES)).decode("ascii")
    return kid or "k" + secrets.token_hex(4), key


def key_file() -> Path:
    return Path(settings.DATA_DIR) / KEY_FILE


def _load() -> Keyring:
    cipher = (getattr(settings, "ZHILI_PII_CIPHER", "") or "aes").strip().lower()
    if cipher not in CIPHERS:
        raise ImproperlyConfigured(f"ZHILI_PII_CIPHER must be one of {', '.join(CIPHERS)}, "
                                   f"not {cipher!r}")
    if cipher == "sm4":
        _require_sm4()
    # The index hash follows the cipher unless pinned (HMAC-SM3 beside SM4 for a 国密-only
    # install); see the module docstring for why switching it needs a reindex.
    index_hash = (getattr(settings, "ZHILI_PII_INDEX_HASH", "") or "").strip().lower()
    index_hash = index_hash or ("sm3" if cipher == "sm4" else "sha256")
    if index_hash not in INDEX_HASHES:
        raise ImproperlyConfigured(f"ZHILI_PII_INDEX_HASH must be one of "
                                   f"{', '.join(INDEX_HASHES)}, not {index_hash!r}")
    env_keys = (getattr(settings, "ZHILI_PII_KEYS", "") or "").strip()
    env_index = (getattr(settings, "ZHILI_PII_INDEX_KEY", "") or "").strip()
    if bool(env_keys) != bool(env_index):
        # Half from the environment and half generated would silently create a second key file
        # whose loss (an ephemeral container disk) breaks every search or every decryption.
        raise ImproperlyConfigured(
            "Set both ZHILI_PII_KEYS and ZHILI_PII_INDEX_KEY, or neither (then both are kept "
            f"in $ZHILI_DATA_DIR/{KEY_FILE})."
        )
    if env_keys:
        active, keys = _parse_env_keys(env_keys)
        index_key = _decode(env_index, "ZHILI_PII_INDEX_KEY", exact=False)
        source = "environment"
    else:
        path = key_file()
        data = _read_file(path)
        active, keys, index_key = _parse_file(data, path)
        source = str(path)
    return Keyring(cipher=cipher, active_kid=active, keys=keys, index_key=index_key,
                   index_hash=index_hash, source=source)


def _require_sm4() -> None:
    # SM4 comes from the OpenSSL that cryptography is built against; say so at start-up rather
    # than on the first write.
    from cryptography.exceptions import UnsupportedAlgorithm
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    try:
        Cipher(algorithms.SM4(bytes(16)), modes.GCM(bytes(12))).encryptor()
    except UnsupportedAlgorithm:
        raise ImproperlyConfigured("ZHILI_PII_CIPHER=sm4 needs SM4-GCM, which this build of "
                                   "cryptography/OpenSSL does not provide") from None


def _decode(text: str, what: str, *, exact: bool = True) -> bytes:
    # Accept standard and URL-safe base64, with or without padding (`openssl rand -base64 32`).
    cleaned = text.strip().replace("-", "+").replace("_", "/")
    cleaned += "=" * (-len(cleaned) % 4)
    try:
        raw = base64.b64decode(cleaned, validate=True)
    except (binascii.Error, ValueError):
        raise ImproperlyConfigured(f"{what} is not valid base64") from None
    if (exact and len(raw) != KEY_BYTES) or len(raw) < KEY_BYTES:
        need = "exactly" if exact else "at least"
        raise ImproperlyConfigured(f"{what} must decode to {need} {KEY_BYTES} bytes, "
                                   f"not {len(raw)}")
    return raw


def _check_kid(kid: str, what: str) -> str:
    if not KID_RE.match(kid):
        raise ImproperlyConfigured(f"{what}: key id {kid!r} must be 1-32 letters, digits, "
                                   "'-' or '_'")
    return kid


def _parse_env_keys(raw: str) -> tuple[str, dict[str, bytes]]:
    keys: dict[str, bytes] = {}
    for item in (part.strip() for part in raw.split(",")):
        if not item:
            continue
        kid, sep, b64 = item.partition(":")
        if not sep:
            raise ImproperlyConfigured("ZHILI_PII_KEYS must look like 'kid1:base64key,"
                                       "kid2:base64key' (first = active)")
        kid = _check_kid(kid.strip(), "ZHILI_PII_KEYS")
        if kid in keys:
            raise ImproperlyConfigured(f"ZHILI_PII_KEYS names key {kid!r} twice")
        keys[kid] = _decode(b64, f"ZHILI_PII_KEYS (key {kid!r})")
    if not keys:
        raise ImproperlyConfigured("ZHILI_PII_KEYS holds no key")
    return next(iter(keys)), keys


def _parse_file(data: dict, path: Path) -> tuple[str, dict[str, bytes], bytes]:
    try:
        active, entries, index_b64 = data["active"], data["cipher_keys"], data["index_key"]
    except (KeyError, TypeError):
        raise ImproperlyConfigured(f"{path} must hold 'active', 'cipher_keys' and "
                                   "'index_key'") from None
    if not isinstance(entries, dict) or active not in entries:
        raise ImproperlyConfigured(f"{path}: 'active' must name one of 'cipher_keys'")
    keys = {_check_kid(kid, str(path)): _decode(b64, f"{path} (key {kid!r})")
            for kid, b64 in entries.items()}
    return active, keys, _decode(index_b64, f"{path} (index_key)", exact=False)


def _read_file(path: Path) -> dict:
    if not path.exists():
        kid, key = new_key_entry()
        _write_new(path, {"active": kid, "cipher_keys": {kid: key},
                          "index_key": new_key_entry()[1]})
        logger.warning("generated personal-data keys in %s: back this file up apart from "
                       "the database", path)
    if os.name == "posix" and path.stat().st_mode & 0o077:
        logger.warning("%s is readable by other users: chmod 600 it", path)
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ImproperlyConfigured(f"cannot read {path}: {exc}") from None


NOTE = ("Zhili personal-data keys. Back this file up apart from the database: without it the "
        "encrypted columns cannot be read. Never change index_key (searches would stop "
        "finding anything until `zhili manage rotate_pii_keys --reindex`).")


def _write_new(path: Path, data: dict) -> bool:
    """Create the key file only if it does not exist yet; False when another process won.

    Like `generated_secret` the file is born with O_EXCL and mode 0600, but into a private
    temporary name that is then hard-linked into place: `link` fails if the name exists, so two
    processes starting together agree on one set of keys, and no process can ever read a
    half-written file (which O_EXCL on the final name alone would allow).
    """
    temp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    _write_private(temp, data)
    try:
        os.link(temp, path)
    except FileExistsError:
        return False
    finally:
        temp.unlink(missing_ok=True)
    return True


def _write_private(path: Path, data: dict) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump({"note": NOTE, **data}, handle, indent=2)
        handle.write("\n")
        handle.flush()
        os.fsync(handle.fileno())


def add_file_key() -> str:
    """Add a new encryption key to the key file and make it active; returns its id.

    Only for keys kept in the file (environment keys are changed where they are deployed).
    The previous keys stay for decryption; the index key is left alone on purpose.
    """
    ring = keyring()
    if not ring.from_file:
        raise ImproperlyConfigured("the keys come from ZHILI_PII_KEYS: add the new key there")
    path = Path(ring.source)
    data = json.loads(path.read_text(encoding="utf-8"))
    kid, key = new_key_entry()
    data.pop("note", None)
    data["cipher_keys"] = {kid: key, **data["cipher_keys"]}
    data["active"] = kid
    # Write the complete new file beside the old one, then rename over it (atomic on POSIX).
    temp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    _write_private(temp, data)
    os.replace(temp, path)
    reset()
    return kid
