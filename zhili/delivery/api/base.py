from zhili.core.api import ScopedRouter

router = ScopedRouter(tags=["delivery"])
