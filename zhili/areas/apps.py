from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AreasConfig(AppConfig):
    name = "zhili.areas"
    verbose_name = _("Areas")

    def ready(self):
        from zhili.areas import tasks, transfer  # noqa: F401  (registers jobs and cron)
        from zhili.core.navigation import NavItem, register

        register(NavItem(_("Grids and areas"), _("Area tree"), "areas:tree", "diagram-3",
                         "areas.view_area", order=10))
