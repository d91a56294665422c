"""Structured logging: one line per event, JSON in production, readable on a console.

Every record passes `PiiFilter` first: ID numbers (18 characters) and mainland mobile numbers
(11 digits) in a message, its arguments, a structlog event's values or a traceback are masked
the way the UI masks them, so a value that slipped into a log line is not readable there.
"""

import logging
import re
import sys

import structlog

# Not part of a longer run of digits/letters: an 18-character ID number (last may be X) and an
# 11-digit mobile, optionally written with +86 / 0086 / 86.
_ID_RE = re.compile(r"(?<![0-9A-Za-z])(\d{4})\d{10}(\d{3}[0-9Xx])(?![0-9A-Za-z])")
_MOBILE_RE = re.compile(r"(?<![0-9])((?:\+|00)?86[ -]?)?(1[3-9]\d)\d{4}(\d{4})(?![0-9])")


def mask_text(text: str) -> str:
    """"身份证320602199001011234 手机13812345678" → "身份证3206**********1234 手机138****5678"."""
    text = _ID_RE.sub(lambda m: m.group(1) + "*" * 10 + m.group(2), text)
    return _MOBILE_RE.sub(lambda m: (m.group(1) or "") + m.group(2) + "****" + m.group(3), text)


def _mask(value, depth: int = 0):
    if isinstance(value, str):
        return mask_text(value)
    if depth > 4:
        return value
    if isinstance(value, dict):
        return {k: _mask(v, depth + 1) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_mask(v, depth + 1) for v in value)
    if isinstance(value, int) and not isinstance(value, bool) and value > 10**9:
        return mask_text(str(value))  # a phone number passed as a number
    return value


class PiiFilter(logging.Filter):
    """Mask personal data in every record before any formatter sees it (never drops one)."""

    _formatter = logging.Formatter()

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, dict):  # a structlog event dict
            event = _mask(record.msg)
            exc_info = event.pop("exc_info", None)
            if exc_info:
                # Rendered here, masked, instead of by the renderer from the live exception.
                event["exception"] = self._traceback(exc_info)
            record.msg = event
        else:
            try:
                message = record.getMessage()
            except Exception:  # noqa: BLE001 - a broken format string must still be logged
                message = f"{record.msg} {record.args!r}"
            record.msg, record.args = mask_text(message), None
            if record.exc_info or record.exc_text:
                record.msg += "\n" + (self._traceback(record.exc_info) if record.exc_info
                                      else mask_text(record.exc_text))
        record.exc_info, record.exc_text = None, None
        if record.stack_info:
            record.stack_info = mask_text(record.stack_info)
        return True

    def _traceback(self, exc_info) -> str:
        if exc_info is True:
            exc_info = sys.exc_info()
        elif isinstance(exc_info, BaseException):
            exc_info = (type(exc_info), exc_info, exc_info.__traceback__)
        if not isinstance(exc_info, tuple) or exc_info[0] is None:
            return ""
        return mask_text(self._formatter.formatException(exc_info))


def logging_config(*, level: str, json: bool) -> dict:
    shared = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso"),
    ]
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        cache_logger_on_first_use=True,
    )
    renderer = (
        structlog.processors.JSONRenderer(ensure_ascii=False)
        if json
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            "structured": {
                "()": structlog.stdlib.ProcessorFormatter,
                "processors": [
                    structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                    renderer,
                ],
                "foreign_pre_chain": shared,
            },
        },
        "filters": {"pii": {"()": PiiFilter}},
        "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "structured",
                                 "filters": ["pii"]}},
        "root": {"handlers": ["console"], "level": level},
        "loggers": {
            "django.db.backends": {"level": "WARNING"},
            "django.request": {"level": "ERROR"},
        },
    }


try:
    from gunicorn.glogging import Logger as _GunicornLogger
except ImportError:  # pragma: no cover - gunicorn is only needed to serve
    _GunicornLogger = None

if _GunicornLogger is not None:

    class GunicornLogger(_GunicornLogger):
        """gunicorn's access and error logs with the same masking (`--logger-class
        zhili.config.logs.GunicornLogger`): request lines carry query strings, and a search
        by ID number or phone puts one there."""

        def setup(self, cfg):
            super().setup(cfg)
            for log in (self.access_log, self.error_log):
                if not any(isinstance(f, PiiFilter) for f in log.filters):
                    log.addFilter(PiiFilter())
