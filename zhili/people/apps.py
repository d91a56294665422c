from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class PeopleConfig(AppConfig):
    name = "zhili.people"
    verbose_name = _("People and places")

    def ready(self):
        from zhili.core.navigation import NavItem, register
        from zhili.people import exports  # noqa: F401  (job handlers)
        from zhili.people.imports import jobs  # noqa: F401

        register(
            NavItem(_("People and places"), _("Persons"), "people:persons", "people",
                    "people.view_person", order=40),
            NavItem(_("People and places"), _("Houses"), "people:houses", "house",
                    "people.view_house", order=41),
            NavItem(_("People and places"), _("Buildings"), "people:buildings", "building",
                    "people.view_building", order=42),
            NavItem(_("People and places"), pgettext_lazy("organisation", "Units"),
                    "people:units", "briefcase", "people.view_unit", order=43),
            NavItem(_("People and places"), _("Registry on the phone"), "people:mobile",
                    "phone", "people.add_person", order=44),
            NavItem(_("People and places"), _("Import"), "people:import", "upload",
                    "people.import_person", order=45),
            NavItem(_("People and places"), _("Export"), "people:export", "download",
                    "people.export_person", order=46),
        )
