"""Category suggestions from the report text: a classifier trained on events whose category a
dispatcher confirmed, updated as dispatchers correct it; keywords until there is history."""

from __future__ import annotations

import threading
import zlib

from django.db import transaction
from django.utils import timezone

from zhili.core.textclass import KeywordMatcher, TextClassifier
from zhili.core.textclass import suggest as choose
from zhili.events.models import ClassifierState, Event, EventCategory

NAME = "event-category"
_cache = threading.local()


def _keywords() -> KeywordMatcher:
    return KeywordMatcher({str(c.pk): c.keyword_list() for c in EventCategory.objects.active()
                           if c.keywords})


def _classifier() -> TextClassifier | None:
    """The shared model, reloaded only when another process saved a newer version."""
    row = ClassifierState.objects.filter(name=NAME).only("version").first()
    if row is None:
        return None
    cached = getattr(_cache, "model", None)
    if cached is not None and cached[0] == row.version:
        return cached[1]
    data = ClassifierState.objects.filter(pk=row.pk).values_list("data", flat=True).first()
    model = TextClassifier.from_bytes(zlib.decompress(bytes(data)))
    _cache.model = (row.version, model)
    return model


def suggest(text: str, k: int = 3) -> list[tuple[EventCategory, float]]:
    if not (text or "").strip():
        return []
    ranked = choose(text, classifier=_classifier(), keywords=_keywords(), k=k)
    categories = EventCategory.objects.in_bulk([int(label) for label, _ in ranked])
    return [(categories[int(label)], score) for label, score in ranked
            if int(label) in categories and categories[int(label)].is_active]


def _training_rows(since=None):
    qs = Event.objects.filter(category_confirmed=True)
    if since is not None:
        qs = qs.filter(accepted_at__gt=since)
    return list(qs.order_by("pk").values_list("title", "description", "category_id")[:200_000])


def _save(model: TextClassifier, version: int) -> None:
    ClassifierState.objects.update_or_create(name=NAME, defaults={
        "version": version, "data": zlib.compress(model.to_bytes(), 6),
        "n_samples": model.n_samples, "trained_at": timezone.now()})


@transaction.atomic
def train(full: bool = False) -> int:
    """Full retrain (nightly, or when a new category appears) or an online update with the
    dispatchers' confirmations since the last training. Returns the samples used."""
    state = ClassifierState.objects.select_for_update().filter(name=NAME).first()
    # A private copy: training must not change the shared cached model before it is saved.
    model = None if full or state is None else TextClassifier.from_bytes(
        zlib.decompress(bytes(state.data)))
    rows = _training_rows(None if model is None else state.trained_at)
    if not rows:
        return 0
    texts = [f"{title} {description}" for title, description, _ in rows]
    labels = [str(category) for _, _, category in rows]
    if model is None:
        if len(set(labels)) < 2:
            return 0
        model = TextClassifier()
        model.fit(texts, labels)
    else:
        model.partial_fit(texts, labels)
        if model.needs_refit:
            return train(full=True)
    _save(model, (state.version if state else 0) + 1)
    return len(rows)
