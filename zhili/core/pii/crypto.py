"""Authenticated encryption of single values, and the blind index for exact search.

Ciphertext text format: `v1.<cipher>.<kid>.<base64url(nonce | ciphertext | tag)>`, no padding.
`v1` fixes the construction: GCM with a random 96-bit nonce and a 128-bit tag;
`aes` = AES-256-GCM with the 32-byte key; `sm4` = SM4-GCM (GB/T 32907, 国密) with a 128-bit key
derived from the 32-byte key by HKDF-SM3. A random nonce per value is safe far beyond what one
key will ever encrypt here (the GCM bound is 2^32 values per key).

The associated data is `zhili-pii/v1/<cipher>/<kid>/<kind>`: a value encrypted as a phone
number does not decrypt as an ID number, so ciphertexts cannot be moved between kinds of
field, and the header cannot be edited to point at another cipher or key. It does not bind a
value to its row (the primary key does not exist before the first INSERT).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac as stdlib_hmac
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, hmac
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from zhili.core.pii import keys as keystore
from zhili.core.pii.validation import normalise

VERSION = "v1"
NONCE_BYTES = 12
TAG_BYTES = 16
KIND_RE = re.compile(r"^[a-z][a-z0-9_]{0,31}$")


class DecryptionError(Exception):
    """A stored value cannot be read: altered, another kind's, or its key is missing.

    Messages never contain the value, its plaintext or key material.
    """


@dataclass(frozen=True)
class Envelope:
    version: str
    cipher: str
    kid: str
    payload: bytes  # nonce | ciphertext | tag


def check_kind(kind: str) -> str:
    if not isinstance(kind, str) or not KIND_RE.match(kind):
        raise ValueError(f"a personal-data kind is lower-case letters, digits and '_', "
                         f"not {kind!r}")
    return kind


def parse(token: str) -> Envelope:
    parts = token.split(".") if isinstance(token, str) else []
    if len(parts) != 4 or parts[0] != VERSION or parts[1] not in keystore.CIPHERS:
        raise DecryptionError("not a Zhili v1 ciphertext")
    data = parts[3]
    try:
        payload = base64.urlsafe_b64decode(data + "=" * (-len(data) % 4))
    except (binascii.Error, ValueError):
        raise DecryptionError("ciphertext is not valid base64url") from None
    if len(payload) < NONCE_BYTES + TAG_BYTES:
        raise DecryptionError("ciphertext is too short")
    return Envelope(parts[0], parts[1], parts[2], payload)


def looks_encrypted(text: str) -> bool:
    try:
        parse(text)
    except DecryptionError:
        return False
    return True


def active_prefix() -> str:
    """What every value under the active cipher and key starts with."""
    ring = keystore.keyring()
    return f"{VERSION}.{ring.cipher}.{ring.active_kid}."


def is_current(token: str) -> bool:
    """Whether a stored value is already under the active cipher and key."""
    return token.startswith(active_prefix())


@lru_cache(maxsize=256)
def _aad(cipher: str, kid: str, kind: str) -> bytes:
    return f"zhili-pii/{VERSION}/{cipher}/{kid}/{kind}".encode("ascii")


@lru_cache(maxsize=32)
def _sm4_key(key: bytes) -> bytes:
    # SM4 takes 128-bit keys. Deriving (rather than truncating) keeps the SM4 key independent
    # of the AES key when one stored key serves both ciphers during a cipher switch.
    return HKDF(algorithm=hashes.SM3(), length=16, salt=None,
                info=b"zhili-pii/v1/sm4-gcm").derive(key)


# Bulk imports encrypt millions of values: the key schedule and the checks are done once per
# key and kind, not per value (the objects hold no per-message state).
@lru_cache(maxsize=32)
def _aesgcm(key: bytes) -> AESGCM:
    return AESGCM(key)


@lru_cache(maxsize=64)
def _known_kind(kind: str) -> str:
    return check_kind(kind)


def _seal(cipher: str, key: bytes, nonce: bytes, data: bytes, aad: bytes) -> bytes:
    if cipher == "aes":
        return _aesgcm(key).encrypt(nonce, data, aad)
    # cryptography has no SM4 AEAD class, but SM4 with the GCM mode works (OpenSSL 3).
    encryptor = Cipher(algorithms.SM4(_sm4_key(key)), modes.GCM(nonce)).encryptor()
    encryptor.authenticate_additional_data(aad)
    return encryptor.update(data) + encryptor.finalize() + encryptor.tag


def _open(cipher: str, key: bytes, nonce: bytes, sealed: bytes, aad: bytes) -> bytes:
    if cipher == "aes":
        return _aesgcm(key).decrypt(nonce, sealed, aad)
    body, tag = sealed[:-TAG_BYTES], sealed[-TAG_BYTES:]
    decryptor = Cipher(algorithms.SM4(_sm4_key(key)),
                       modes.GCM(nonce, tag, min_tag_length=TAG_BYTES)).decryptor()
    decryptor.authenticate_additional_data(aad)
    return decryptor.update(body) + decryptor.finalize()


def encrypt(plaintext: str, kind: str) -> str:
    """Encrypt under the active cipher and key, bound to `kind` (e.g. "phone")."""
    return encrypter(kind)(plaintext)


def encrypter(kind: str) -> Callable[[str], str]:
    """`encrypt(…, kind)` as a function of the plaintext, with the key, the cipher and the
    associated data looked up once: for a batch (an import, a feed) that encrypts thousands
    of values. Every value still gets its own random nonce."""
    _known_kind(kind)
    ring = keystore.keyring()
    cipher, kid = ring.cipher, ring.active_kid
    key, aad = ring.keys[kid], _aad(cipher, kid, kind)
    prefix = f"{VERSION}.{cipher}.{kid}."
    seal = _aesgcm(key).encrypt if cipher == "aes" else \
        (lambda nonce, data, aad: _seal(cipher, key, nonce, data, aad))
    urandom, b64 = os.urandom, base64.urlsafe_b64encode

    def one(plaintext: str) -> str:
        nonce = urandom(NONCE_BYTES)
        body = b64(nonce + seal(nonce, plaintext.encode("utf-8"), aad))
        return prefix + body.rstrip(b"=").decode("ascii")

    return one


def decrypt(token: str, kind: str) -> str:
    """Decrypt with the key the value names (any configured key, active or not)."""
    _known_kind(kind)
    envelope = parse(token)
    ring = keystore.keyring()
    if envelope.kid not in ring.keys:
        ring = keystore.reload_for_unknown_kid(envelope.kid)
    key = ring.keys.get(envelope.kid)
    if key is None:
        raise DecryptionError(f"no personal-data key {envelope.kid!r} is configured (was it "
                              "removed before rotate_pii_keys finished?)")
    nonce, sealed = envelope.payload[:NONCE_BYTES], envelope.payload[NONCE_BYTES:]
    try:
        data = _open(envelope.cipher, key, nonce, sealed,
                     _aad(envelope.cipher, envelope.kid, kind))
        return data.decode("utf-8")
    except (InvalidTag, UnicodeDecodeError):
        raise DecryptionError(
            f"a {kind} value under key {envelope.kid!r} ({envelope.cipher}) failed "
            "authentication: it was altered, or it belongs to another kind of field"
        ) from None


def blind_index(value: str, kind: str) -> str:
    """64 hex characters: HMAC (SHA-256, or SM3 when configured) of the normalised value.

    Domain-separated by kind, so equal strings of different kinds never share an index. Computed
    with the index key, which does not rotate with the encryption keys (see `keys`).
    """
    _known_kind(kind)
    ring = keystore.keyring()
    data = normalise(value, kind).encode("utf-8")
    if ring.index_hash == "sm3":
        mac = hmac.HMAC(ring.index_key, hashes.SM3())
        mac.update(_bidx_prefix(kind))
        mac.update(data)
        return mac.finalize().hex()
    mac = _sha256_mac(ring.index_key, kind).copy()  # the key and prefix are absorbed once
    mac.update(data)
    return mac.hexdigest()


def _bidx_prefix(kind: str) -> bytes:
    return f"zhili-pii-bidx/{VERSION}/{kind}\x00".encode("ascii")


@lru_cache(maxsize=64)
def _sha256_mac(key: bytes, kind: str):
    return stdlib_hmac.new(key, _bidx_prefix(kind), hashlib.sha256)

