"""Per-request facts services need for the audit trail without threading `request` everywhere."""

from __future__ import annotations

import contextvars
from dataclasses import dataclass


@dataclass(frozen=True)
class RequestInfo:
    request_id: str = ""
    ip: str | None = None
    channel: str = "system"  # web, api, cli, task, system


_current: contextvars.ContextVar[RequestInfo] = contextvars.ContextVar(
    "zhili_request", default=RequestInfo()  # noqa: B039 - frozen, so never mutated
)


def current() -> RequestInfo:
    return _current.get()


def bind(info: RequestInfo) -> contextvars.Token:
    return _current.set(info)


def reset(token: contextvars.Token) -> None:
    _current.reset(token)
