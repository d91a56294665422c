"""Settings of the server that bench/events.py measures: the application's own settings, with
one extra URL (bench/urls.py) for the bare baseline the report API is compared with."""

from zhili.config.settings import *  # noqa: F403 - the application exactly as deployed

ROOT_URLCONF = "bench.urls"
