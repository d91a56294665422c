"""Re-zoning (区划调整) of live rows: rewrite `area_code` prefixes in batches, for every module.

Every scoped model whose queryset declares a concrete `scope_area_field` (and does not opt out
with `rezone = False`) takes part automatically, so a module added later needs no extra code.
"""

from __future__ import annotations

from collections.abc import Callable

from django.db import models, transaction
from django.db.models import Value
from django.db.models.functions import Concat, Substr

from zhili.core import codes
from zhili.core.scoping import scoped_models


def rezonable_models() -> list[tuple[type[models.Model], str]]:
    """(model, area-code field) pairs that hold live rows located by area code."""
    found = []
    for model in scoped_models():
        qs_class = type(model._default_manager.all())
        field = qs_class.scope_area_field
        if not field or not getattr(qs_class, "rezone", True) or "__" in field:
            continue
        found.append((model, field))
    return found


def rows_in_subtree(prefix: str, *, exclude: tuple = ()) -> dict[str, int]:
    """{model verbose name: count} of live rows located inside `prefix`, skipping empty ones."""
    counts = {}
    for model, field in rezonable_models():
        if model in exclude:
            continue
        n = model._default_manager.filter(codes.range_q(field, prefix)).count()
        if n:
            counts[str(model._meta.verbose_name_plural)] = n
    return counts


def rewrite_prefix(
    old_prefix: str,
    new_prefix: str,
    *,
    batch_size: int = 2000,
    on_batch: Callable[[int], None] | None = None,
) -> int:
    """Move every live row from the `old_prefix` subtree to `new_prefix`; returns rows moved.

    Batches are short transactions so a city-wide re-zoning never holds long locks; a crash in
    the middle is safe to re-run because moved rows no longer match the old range.
    """
    if len(old_prefix) != len(new_prefix):
        raise ValueError("re-zoning keeps the level: prefixes must have the same length")
    total = 0
    for model, field in rezonable_models():
        manager = model._default_manager
        rewritten = Concat(Value(new_prefix), Substr(field, len(old_prefix) + 1),
                           output_field=models.CharField())
        while True:
            with transaction.atomic():
                pks = list(
                    manager.filter(codes.range_q(field, old_prefix))
                    .order_by()
                    .values_list("pk", flat=True)[:batch_size]
                )
                if not pks:
                    break
                manager.filter(pk__in=pks).update(**{field: rewritten})
            total += len(pks)
            if on_batch:
                on_batch(len(pks))
    return total


def repoint_area_fk(old_area_id: int, new_area_id: int) -> int:
    """Rows that name the retired area by foreign key follow it to its successor."""
    from zhili.areas.models import Area

    moved = 0
    for model, _field in rezonable_models():
        for fk in model._meta.get_fields():
            if isinstance(fk, models.ForeignKey) and fk.related_model is Area and fk.name == "area":
                moved += model._default_manager.filter(area_id=old_area_id).update(
                    area_id=new_area_id
                )
    return moved
