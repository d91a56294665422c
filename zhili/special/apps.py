from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SpecialConfig(AppConfig):
    name = "zhili.special"
    verbose_name = _("Special populations")

    def ready(self):
        from zhili.core.navigation import NavItem, register
        from zhili.special import tasks  # noqa: F401  (cron: the per-minute sweep)

        section = _("Special populations")
        register(
            NavItem(section, _("Persons under management"), "special:list", "shield-check",
                    "special.view_supervision", order=50),
            NavItem(section, _("Put under management"), "special:intake", "person-plus",
                    "special.add_supervision", order=51),
            NavItem(section, _("My visits"), "special:mobile", "phone",
                    "special.add_visit", order=52),
            NavItem(section, _("Handovers"), "special:handovers", "arrow-left-right",
                    "special.view_handover", order=53),
            NavItem(section, _("Coverage"), "special:coverage", "bar-chart",
                    "special.view_coverage", order=54),
            NavItem(section, _("Categories"), "special:categories", "tags",
                    "special.change_specialcategory", order=55),
        )
