from __future__ import annotations

from zhili.core.api import ScopedRouter

router = ScopedRouter(tags=["special"])
