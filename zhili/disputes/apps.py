from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DisputesConfig(AppConfig):
    name = "zhili.disputes"
    verbose_name = _("Disputes")

    def ready(self):
        from zhili.core.navigation import NavItem, register
        from zhili.disputes import (  # noqa: F401  (cron tasks; the report job's handler)
            exports,
            tasks,
        )

        section = _("Disputes")
        register(
            NavItem(section, _("Dispute cases"), "disputes:list", "people",
                    "disputes.view_dispute", order=40),
            NavItem(section, _("Register a dispute"), "disputes:register", "plus-circle",
                    "disputes.add_dispute", order=41),
            NavItem(section, _("Risk alerts"), "disputes:alerts", "exclamation-triangle",
                    "disputes.view_disputealert", order=42),
            NavItem(section, _("Mediation bodies"), "disputes:bodies", "building",
                    "disputes.view_mediationbody", order=43),
            NavItem(section, _("Statistics"), "disputes:stats", "bar-chart",
                    "disputes.view_disputestat", order=44),
        )
