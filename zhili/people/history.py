"""The change history of a registry record, as people read it: who, when, which fields,
from what to what — personal data masked, the JSON details reduced to the items changed."""

from __future__ import annotations

from zhili.core import pii

SKIPPED = {"history_id", "history_date", "history_change_reason", "history_type",
           "history_user", "created_at", "created_by", "area"}


def _shown(model, name: str, value):
    if value is None or value == "":
        return ""
    kind = pii.field_kind(model, name)
    if name == "details" or isinstance(value, dict):
        return ""  # never the content of the encrypted document
    if kind is not None and kind != "name":
        return pii.mask_value(value, kind)
    field = model._meta.get_field(name)
    if field.choices:
        return str(dict(field.choices).get(value, value))
    return str(value)


def history_rows(obj, limit: int = 200) -> list[dict]:
    """Newest first: {"when", "who", "type", "changes": [(label, old, new)]}."""
    model = type(obj)
    records = list(obj.history.select_related("history_user").order_by(
        "-history_date", "-history_id")[: limit + 1])
    rows = []
    for index, record in enumerate(records[:limit]):
        previous = records[index + 1] if index + 1 < len(records) else None
        changes = []
        if previous is not None:
            delta = record.diff_against(previous)
            for change in delta.changes:
                if change.field in SKIPPED:
                    continue
                label = model._meta.get_field(change.field).verbose_name
                if change.field == "details":
                    old, new = change.old or {}, change.new or {}
                    items = sorted(k for k in set(old) | set(new) if old.get(k) != new.get(k))
                    changes.append((label, "", ", ".join(items)))
                    continue
                changes.append((label, _shown(model, change.field, change.old),
                                _shown(model, change.field, change.new)))
        user = record.history_user
        rows.append({"when": record.history_date, "type": record.get_history_type_display(),
                     "who": (getattr(user, "display_name", "") or user.username) if user else "",
                     "changes": changes, "first": previous is None})
    return rows
