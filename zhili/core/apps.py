from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "zhili.core"
    verbose_name = _("Platform")

    def ready(self):
        from zhili.core import checks, jobs, tasks  # noqa: F401  (registers checks and jobs)
