"""Re-encrypting stored values under the active cipher and key (`rotate_pii_keys`).

Every concrete, managed model with an `EncryptedTextField` takes part, so a module added later
needs no extra code. Rows are walked in primary-key order in batches, each batch its own
transaction with its rows locked (SELECT … FOR UPDATE on PostgreSQL; SQLite's IMMEDIATE
transactions serialise writers), so a concurrent edit is never overwritten with the old value.
Rows are written with `QuerySet.update()`: no save(), no signals, no history rows, no
auto_now. Only values not yet under the active key are selected, so a re-run (after a crash,
or to catch values written by processes still on the old key) resumes where it stopped.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from django.apps import apps as global_apps
from django.db import models, router, transaction
from django.db.models import ExpressionWrapper, F, Q

from zhili.core.pii.crypto import DecryptionError, active_prefix, blind_index, decrypt
from zhili.core.pii.fields import EncryptedTextField, companion_field, empty_index

BATCH_SIZE = 1000


@dataclass
class RotationResult:
    model: str
    rows_checked: int = 0
    rows_updated: int = 0
    values_reencrypted: int = 0
    indexes_fixed: int = 0
    indexes_stale: int = 0  # companions that disagree with their value (run --reindex)
    failed: list[tuple[object, str]] = field(default_factory=list)  # (pk, field) unreadable


def encrypted_fields(model) -> list[EncryptedTextField]:
    # Local fields only: a multi-table child does not re-walk its parent's table.
    return [f for f in model._meta.local_concrete_fields if isinstance(f, EncryptedTextField)]


def encrypted_models(app_registry=None) -> list[type[models.Model]]:
    """Models whose own table holds encrypted columns (proxies and unmanaged ones skipped)."""
    found = []
    for model in (app_registry or global_apps).get_models():
        if model._meta.proxy or not model._meta.managed:
            continue
        if encrypted_fields(model):
            found.append(model)
    return found


def _raw(model):
    """{alias: raw column} — the stored ciphertext, read without the field's decryption."""
    return {f"_pii_raw_{f.attname}": ExpressionWrapper(F(f.attname),
                                                       output_field=models.TextField())
            for f in encrypted_fields(model)}


def _stale_q(aliases) -> Q:
    prefix = active_prefix()
    stale = Q()
    for alias in aliases:
        stale |= (Q(**{f"{alias}__isnull": False}) & ~Q(**{alias: ""})
                  & ~Q(**{f"{alias}__startswith": prefix}))
    return stale


def count_stale(model) -> int:
    """Rows with at least one value not under the active cipher and key."""
    raw = _raw(model)
    return model._base_manager.annotate(**raw).filter(_stale_q(raw)).count()


def rotate_model(
    model,
    *,
    reindex: bool = False,
    batch_size: int = BATCH_SIZE,
    on_batch: Callable[[RotationResult], None] | None = None,
) -> RotationResult:
    """Re-encrypt `model`'s stale values; with `reindex`, also walk every row and rewrite the
    blind-index companions that disagree with their value (after an index key change)."""
    fields = encrypted_fields(model)
    raw = _raw(model)
    aliases = list(raw)
    companions = [companion_field(model, f.name) for f in fields]
    companion_names = [c.attname for c in companions if c is not None]
    manager = model._base_manager
    result = RotationResult(model=model._meta.label)
    selected = Q() if reindex else _stale_q(aliases)
    last_pk = None
    while True:
        with transaction.atomic(using=router.db_for_write(model)):
            qs = manager.annotate(**raw).filter(selected)
            if last_pk is not None:
                qs = qs.filter(pk__gt=last_pk)
            rows = list(qs.select_for_update().order_by("pk")
                        .values_list("pk", *aliases, *companion_names)[:batch_size])
            if not rows:
                break
            for row in rows:
                updates = _row_updates(row, fields, companions, reindex, result)
                if updates:
                    manager.filter(pk=row[0]).update(**updates)
                    result.rows_updated += 1
        result.rows_checked += len(rows)
        last_pk = rows[-1][0]
        if on_batch:
            on_batch(result)
    return result


def _row_updates(row, fields, companions, reindex: bool, result: RotationResult) -> dict:
    pk, tokens = row[0], row[1:1 + len(fields)]
    stored_indexes = iter(row[1 + len(fields):])
    prefix = active_prefix()
    updates = {}
    for field_, token, companion in zip(fields, tokens, companions, strict=True):
        stored_index = next(stored_indexes) if companion is not None else None
        if token is None or token == "":
            plaintext = token
        else:
            try:
                plaintext = decrypt(token, field_.kind)
            except DecryptionError:
                result.failed.append((pk, field_.name))
                continue
            if not token.startswith(prefix):
                # A plaintext update: the field encrypts it under the active key.
                updates[field_.attname] = plaintext
                result.values_reencrypted += 1
        if companion is None:
            continue
        if plaintext is None or plaintext == "":
            expected = empty_index(companion)
            agrees = stored_index in (None, "")
        else:
            expected = blind_index(plaintext, field_.kind)
            agrees = stored_index == expected
        if not agrees:
            if reindex:
                updates[companion.attname] = expected
                result.indexes_fixed += 1
            else:
                result.indexes_stale += 1
    return updates


@dataclass
class FieldUsage:
    """How one encrypted column's stored values are spread over ciphers and keys."""

    model: str
    field: str
    by_key: dict[str, int]  # "<cipher>:<kid>" → values under it (keys of the keyring only)
    other: int = 0  # values under a key the keyring does not hold (or not ciphertext at all)
    empty: int = 0  # NULL or ""

    @property
    def total(self) -> int:
        return sum(self.by_key.values()) + self.other


def key_usage(model) -> list[FieldUsage]:
    """Per encrypted field of `model`: values per cipher and key id, in one table scan."""
    from django.db.models import Count

    from zhili.core.pii import keys as keystore

    ring = keystore.keyring()
    combos = [(cipher, kid) for cipher in keystore.CIPHERS for kid in ring.keys]
    raw = _raw(model)
    aggregates = {}
    for n, alias in enumerate(raw):
        filled = Q(**{f"{alias}__isnull": False}) & ~Q(**{alias: ""})
        aggregates[f"f{n}_filled"] = Count("pk", filter=filled)
        aggregates[f"f{n}_all"] = Count("pk")
        for m, (cipher, kid) in enumerate(combos):
            aggregates[f"f{n}_k{m}"] = Count(
                "pk", filter=Q(**{f"{alias}__startswith": f"v1.{cipher}.{kid}."}))
    counts = model._base_manager.annotate(**raw).aggregate(**aggregates)
    usage = []
    for n, field_ in enumerate(encrypted_fields(model)):
        by_key = {f"{cipher}:{kid}": counts[f"f{n}_k{m}"]
                  for m, (cipher, kid) in enumerate(combos) if counts[f"f{n}_k{m}"]}
        filled = counts[f"f{n}_filled"]
        usage.append(FieldUsage(model=model._meta.label, field=field_.name, by_key=by_key,
                                other=filled - sum(by_key.values()),
                                empty=counts[f"f{n}_all"] - filled))
    return usage
