"""The audit trail: `record()` appends a hash-chained row; `verify()` re-checks the chain."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC

from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone

from zhili.core import context
from zhili.core.models import AuditChainHead, AuditLog

GENESIS = "0" * 64


def _normalise(changes: dict | None) -> dict:
    # Round-trip through JSON so the hashed form equals what the database gives back later.
    return json.loads(json.dumps(changes or {}, cls=DjangoJSONEncoder, ensure_ascii=False))


def _payload(row: AuditLog) -> str:
    created = row.created_at.astimezone(UTC).isoformat(timespec="microseconds")
    fields = {
        "seq": row.seq,
        "created_at": created,
        "actor_id": row.actor_id,
        "actor_name": row.actor_name,
        "role": row.role,
        "ip": row.ip,
        "request_id": row.request_id,
        "channel": row.channel,
        "action": row.action,
        "target_type": row.target_type,
        "target_id": row.target_id,
        "target_repr": row.target_repr,
        "area_code": row.area_code,
        "changes": row.changes,
    }
    return json.dumps(fields, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def compute_hash(prev_hash: str, row: AuditLog) -> str:
    return hashlib.sha256((prev_hash + _payload(row)).encode("utf-8")).hexdigest()


def record(
    *,
    actor,
    action: str,
    target=None,
    area_code: str | None = None,
    changes: dict | None = None,
    actor_name: str | None = None,
) -> AuditLog:
    """Append one audit row in the caller's transaction (or its own, when there is none)."""
    info = context.current()
    position = getattr(actor, "active_position", None) if actor is not None else None
    if area_code is None:
        area_code = getattr(target, "area_code", None) or getattr(target, "code", None)
        if not area_code and position is not None:
            area_code = position.area_code
    with transaction.atomic():
        head = AuditChainHead.objects.select_for_update().filter(pk=1).first()
        if head is None:
            head = AuditChainHead.objects.create(pk=1, seq=0, hash=GENESIS)
        row = AuditLog(
            seq=head.seq + 1,
            created_at=timezone.now(),
            actor=actor if getattr(actor, "pk", None) else None,
            actor_name=(actor_name or getattr(actor, "username", "") or "")[:150],
            role=position.role.code if position is not None else "",
            ip=info.ip,
            request_id=info.request_id,
            channel=info.channel,
            action=action,
            target_type=target._meta.label_lower if target is not None else "",
            target_id=str(target.pk) if target is not None and target.pk is not None else "",
            target_repr=str(target)[:255] if target is not None else "",
            area_code=area_code or "",
            changes=_normalise(changes),
            prev_hash=head.hash,
        )
        row.hash = compute_hash(head.hash, row)
        row.save(force_insert=True)
        head.seq, head.hash = row.seq, row.hash
        head.save(update_fields=["seq", "hash"])
    return row


def diff(instance, before: dict, fields) -> dict:
    """`{field: [old, new]}` for the fields that changed since `before` was taken."""
    changes = {}
    for name in fields:
        old, new = before.get(name), getattr(instance, name)
        if old != new:
            changes[name] = [old, new]
    return changes


def snapshot(instance, fields) -> dict:
    return {name: getattr(instance, name) for name in fields}


@dataclass
class VerifyResult:
    checked: int
    problems: list[str]

    @property
    def ok(self) -> bool:
        return not self.problems


def verify(batch_size: int = 5000) -> VerifyResult:
    """Walk the chain in order: recompute every hash, detect gaps, edits and a moved tip."""
    problems: list[str] = []
    prev_hash, expected_seq, checked = GENESIS, 1, 0
    last_seq = 0
    while True:
        rows = list(AuditLog.objects.filter(seq__gt=last_seq).order_by("seq")[:batch_size])
        if not rows:
            break
        for row in rows:
            if row.seq != expected_seq:
                problems.append(f"rows {expected_seq}..{row.seq - 1} are missing")
                prev_hash = row.prev_hash  # resynchronise to keep checking the rest
            if row.prev_hash != prev_hash:
                problems.append(f"row {row.seq}: does not link to the row before it")
            if compute_hash(row.prev_hash, row) != row.hash:
                problems.append(f"row {row.seq}: content does not match its hash")
            prev_hash, expected_seq, last_seq = row.hash, row.seq + 1, row.seq
            checked += 1
    head = AuditChainHead.objects.filter(pk=1).first()
    if head is not None and (head.seq != last_seq or head.hash != prev_hash):
        problems.append(f"the chain tip says row {head.seq} but the last row is {last_seq}")
    return VerifyResult(checked=checked, problems=problems)
