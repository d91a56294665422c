"""Small process-local caches for reference tables read on every request (categories, time
limits, role permissions). Entries expire after a few seconds, so a change made in another
process shows within that time; a change made here calls `.clear()` at once."""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Callable

_registry: list = []


def ttl_cache(seconds: float = 30.0):
    def decorator(fn: Callable):
        lock = threading.Lock()
        store: dict = {}

        @functools.wraps(fn)
        def wrapper(*args):
            now = time.monotonic()
            hit = store.get(args)
            if hit is not None and now - hit[0] < seconds:
                return hit[1]
            value = fn(*args)
            with lock:
                store[args] = (now, value)
            return value

        wrapper.clear = store.clear
        _registry.append(wrapper)
        return wrapper

    return decorator


def clear_all() -> None:
    """Forget every cached table (tests call this between cases)."""
    for cached in _registry:
        cached.clear()
