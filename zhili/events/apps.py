from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EventsConfig(AppConfig):
    name = "zhili.events"
    verbose_name = _("Grid events")

    def ready(self):
        from zhili.core.navigation import NavItem, register
        from zhili.events import exports, ingest, tasks  # noqa: F401  (jobs and cron)

        register(
            NavItem(_("Grid events"), _("Event inbox"), "events:inbox", "inbox",
                    "events.view_event", order=30),
            NavItem(_("Grid events"), _("Report an event"), "events:report", "plus-circle",
                    "events.add_event", order=31),
            NavItem(_("Grid events"), _("Mobile reporting"), "events:mobile", "phone",
                    "events.add_event", order=32),
            NavItem(_("Grid events"), _("Event statistics"), "events:stats", "bar-chart",
                    "events.view_event", order=33),
            NavItem(_("Grid events"), _("Routing table"), "events:routing", "signpost-split",
                    "events.view_routingrule", order=34),
            NavItem(_("Grid events"), _("Categories and time limits"), "events:categories",
                    "tags", "events.view_eventcategory", order=35),
            NavItem(_("Grid events"), _("Hotline import"), "events:import", "telephone-inbound",
                    "events.add_event", order=36),
        )
