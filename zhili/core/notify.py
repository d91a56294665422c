"""Notifications: in-app rows written in the caller's transaction, plus outside channels (SMS,
e-mail) through pluggable backends called after commit. The default backend only logs, so an
intranet without an SMS gateway loses nothing; a deployment adds its gateway as a backend."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from django.conf import settings
from django.db import transaction
from django.utils.module_loading import import_string

from zhili.core.models import Notification

logger = logging.getLogger(__name__)


class LoggingBackend:
    """Writes each message to the log (the default)."""

    def send(self, notification: Notification) -> None:
        logger.info("notify user=%s kind=%s title=%s url=%s", notification.user_id,
                    notification.kind, notification.title, notification.url)


def _backends():
    paths = getattr(settings, "ZHILI_NOTIFICATION_BACKENDS", ["zhili.core.notify.LoggingBackend"])
    return [import_string(path)() for path in paths]


def notify(users: Iterable, *, kind: str, title: str, url: str = "", body: str = "") -> int:
    """Tell each user (deduplicated, inactive and service accounts skipped)."""
    seen, rows = set(), []
    for user in users:
        if user is None or user.pk in seen or not user.is_active or \
                getattr(user, "is_service", False):
            continue
        seen.add(user.pk)
        rows.append(Notification(user=user, kind=kind, title=str(title)[:200], url=url,
                                 body=str(body)))
    if not rows:
        return 0
    created = Notification.objects.bulk_create(rows)

    def deliver():
        for backend in _backends():
            for row in created:
                try:
                    backend.send(row)
                except Exception:  # an SMS gateway failure must not break the workflow
                    logger.exception("notification backend %s failed", type(backend).__name__)

    transaction.on_commit(deliver)
    return len(rows)
