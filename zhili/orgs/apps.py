from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OrgsConfig(AppConfig):
    name = "zhili.orgs"
    verbose_name = _("Organisations")

    def ready(self):
        from zhili.core.navigation import NavItem, register

        register(NavItem(_("Grids and areas"), _("Organisations"), "orgs:list", "building",
                         "orgs.view_organisation", order=20))
