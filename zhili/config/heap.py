"""The collector and the start-up heap of a long-running process.

A Django process holds a few hundred thousand objects after start-up (modules, URL resolvers,
templates, translations) that live as long as the process. Python's full collection walks all
of them, and one lands in roughly one request in a hundred, pausing it for longer than the
request itself. Loading what the first request would load and then freezing the heap moves
those objects out of the collector's reach (what CPython added `gc.freeze()` for), so a full
collection only walks what requests allocate.

The young generation's threshold is raised too, from a collection every 700 allocations to
one every 10,000: a list or report page builds thousands of objects that live for the whole
request, and at the default the collector keeps re-walking them. Much higher thresholds were
measured slower, not faster (a 50-row inbox page: p99 40 ms at 10,000, 70 ms at 50,000): the
cyclic garbage of many requests then piles up between collections."""

import gc


def settle_heap() -> None:
    from django.conf import settings
    from django.urls import get_resolver
    from django.utils import translation

    resolver = get_resolver()
    resolver.url_patterns  # noqa: B018  imports every view module
    resolver._populate()
    for code, _name in settings.LANGUAGES:
        translation.trans_real.translation(code)  # the message catalogues
    gc.collect()
    gc.freeze()
    gc.set_threshold(10_000, 10, 10)
