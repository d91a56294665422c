"""The seeded roles and the permissions each groups (kept in sync after every migrate).

Permissions are named `<app>.<action>_<model>`; a later module adds its models' permissions
to the roles here. Administrators may add permissions to a role in the admin site; syncing
only adds what is declared here, it never removes.
"""

from django.utils.translation import gettext_lazy as _

from zhili.core.scoping import AREA, ORG

# Every role: background jobs are visible only to whoever started them.
COMMON = ["core.view_job", "core.view_notification", "workdays.view_calendarday"]
VIEW_BASE = ["areas.view_area", "orgs.view_organisation"]
MANAGE_AREA = [
    "areas.view_area", "areas.add_area", "areas.change_area", "areas.merge_area",
    "areas.import_area",
]
MANAGE_ORGS = [
    "orgs.view_organisation", "orgs.add_organisation", "orgs.change_organisation",
]
MANAGE_USERS = [
    "accounts.view_user", "accounts.add_user", "accounts.change_user",
    "accounts.view_position", "accounts.add_position", "accounts.change_position",
    "accounts.view_apikey", "accounts.add_apikey", "accounts.change_apikey",
]

EVENT_VIEW = [
    "events.view_event", "events.view_eventphoto", "events.view_eventcategory",
    "events.view_slarule", "events.view_routingrule", "events.view_eventstat",
]
EVENT_CONFIG = [
    "events.add_routingrule", "events.change_routingrule", "events.delete_routingrule",
]
EVENT_CATALOGUE = [
    "events.add_eventcategory", "events.change_eventcategory", "events.add_slarule",
    "events.change_slarule", "events.delete_slarule",
]
EVENT_DISPATCH = [
    *EVENT_VIEW, "events.add_event", "events.dispatch_event", "events.evaluate_event",
    "events.supervise_event", "events.export_event",
]

# Which roles the holders of a role may hand out (a system-wide superuser grants any).
# Area administrators staff their area but cannot create administrators or auditors.
OPERATIONAL = ["leader", "dispatcher", "grid_leader", "grid_worker", "handler", "mediator",
               "courier_regulator", "outlet_staff", "assessment_officer", "api_client"]
GRANTS = {
    "sysadmin": ["sysadmin", "area_admin", "auditor", *OPERATIONAL],
    "area_admin": OPERATIONAL,
}

# code: (name, scope kind, permissions)
ROLES = {
    "sysadmin": (_("System administrator"), AREA,
                 [*MANAGE_AREA, *MANAGE_ORGS, *MANAGE_USERS, "core.view_auditlog",
                  *EVENT_DISPATCH, "events.handle_event", "events.verify_event", *EVENT_CONFIG,
                  *EVENT_CATALOGUE,
                  "workdays.add_calendarday", "workdays.change_calendarday",
                  "workdays.delete_calendarday"]),
    "area_admin": (_("Area administrator"), AREA,
                   [*MANAGE_AREA, *MANAGE_ORGS, *MANAGE_USERS, *EVENT_VIEW, *EVENT_CONFIG,
                    "events.add_event"]),
    "leader": (_("Leader (read only)"), AREA,
               [*VIEW_BASE, "accounts.view_user", "accounts.view_position", *EVENT_VIEW,
                "events.export_event"]),
    "dispatcher": (_("Governance-centre dispatcher"), AREA,
                   [*VIEW_BASE, "accounts.view_user", "accounts.view_position",
                    *EVENT_DISPATCH]),
    "grid_leader": (_("Grid leader"), AREA,
                    [*VIEW_BASE, "accounts.view_user", "accounts.view_position", *EVENT_VIEW,
                     "events.add_event", "events.verify_event", "events.evaluate_event"]),
    "grid_worker": (_("Grid worker"), AREA,
                    [*VIEW_BASE, *EVENT_VIEW, "events.add_event", "events.verify_event"]),
    "handler": (_("Department handler"), ORG,
                [*VIEW_BASE, *EVENT_VIEW, "events.handle_event", "events.supervise_event"]),
    "mediator": (_("Mediator"), ORG, [*VIEW_BASE, *EVENT_VIEW, "events.handle_event"]),
    "courier_regulator": (_("Courier regulator"), AREA,
                          [*VIEW_BASE, *EVENT_VIEW, "events.add_event"]),
    "outlet_staff": (_("Courier outlet staff"), ORG, [*VIEW_BASE]),
    "assessment_officer": (_("Assessment officer"), AREA,
                           [*VIEW_BASE, "accounts.view_user", *EVENT_VIEW,
                            "events.export_event"]),
    "auditor": (_("Auditor"), AREA,
                [*VIEW_BASE, "accounts.view_user", "accounts.view_position",
                 "core.view_auditlog"]),
    "api_client": (_("Machine client (API key)"), ORG,
                   [*VIEW_BASE, "events.view_event", "events.view_eventcategory",
                    "events.add_event"]),
}

# People and places (一标三实): grid staff collect, centres and leaders read and export,
# administrators also import and unmask; dispatchers unmask to act on a case.
PEOPLE_VIEW = ["people.view_person", "people.view_residency", "people.view_house",
               "people.view_building", "people.view_unit"]
PEOPLE_COLLECT = [*PEOPLE_VIEW, "people.add_person", "people.change_person",
                  "people.add_residency", "people.change_residency", "people.add_house",
                  "people.change_house", "people.add_building", "people.change_building",
                  "people.add_unit", "people.change_unit"]
PEOPLE_ALL = [*PEOPLE_COLLECT, "people.unmask_person", "people.import_person",
              "people.export_person"]
for _code, _perms in {
    "sysadmin": PEOPLE_ALL, "area_admin": PEOPLE_ALL,
    "grid_leader": PEOPLE_COLLECT, "grid_worker": PEOPLE_COLLECT,
    "dispatcher": [*PEOPLE_VIEW, "people.export_person", "people.unmask_person"],
    "leader": [*PEOPLE_VIEW, "people.export_person"],
}.items():
    ROLES[_code][2].extend(_perms)

# Special populations (回归工程): listing them needs special.view_supervision, which the
# people-registry roles above do not give. Leaders and assessors see the coverage figures only.
SPECIAL_VIEW = ["special.view_supervision", "special.view_specialcategory", "special.view_visit",
                "special.view_visitphoto", "special.view_handover", "special.view_coverage"]
SPECIAL_CONFIG = ["special.view_specialcategory", "special.add_specialcategory",
                  "special.change_specialcategory", "special.view_coverage"]
for _code, _perms in {
    "dispatcher": [*SPECIAL_VIEW, "special.add_supervision", "special.change_supervision",
                   "special.release_supervision", "special.handover_supervision",
                   "special.add_visit", "special.unmask_supervision"],
    "grid_leader": [*SPECIAL_VIEW, "special.add_visit"],
    "grid_worker": [*SPECIAL_VIEW, "special.add_visit"],
    "leader": ["special.view_coverage", "special.view_specialcategory"],
    "assessment_officer": ["special.view_coverage", "special.view_specialcategory"],
    "sysadmin": SPECIAL_CONFIG, "area_admin": SPECIAL_CONFIG,
}.items():
    ROLES[_code][2].extend(_perms)

# Disputes (大调解): centres take cases in, route and supervise them; mediators (scoped to
# their body) accept and mediate; grid staff register what they find; leaders and assessors
# read the statistics. Administrators keep the registry of bodies and mediators.
DISPUTE_VIEW = ["disputes.view_dispute", "disputes.view_mediationbody",
                "disputes.view_mediator", "disputes.view_disputealert",
                "disputes.view_disputestat", "disputes.view_casefile"]
DISPUTE_REGISTRY = ["disputes.view_mediationbody", "disputes.add_mediationbody",
                    "disputes.change_mediationbody", "disputes.view_mediator",
                    "disputes.add_mediator", "disputes.change_mediator"]
for _code, _perms in {
    "dispatcher": [*DISPUTE_VIEW, "disputes.add_dispute", "disputes.route_dispute",
                   "disputes.supervise_dispute", "disputes.export_dispute",
                   "disputes.unmask_dispute"],
    "mediator": [*DISPUTE_VIEW, "disputes.mediate_dispute", "disputes.add_dispute",
                 "disputes.unmask_dispute"],
    "grid_leader": ["disputes.view_dispute", "disputes.add_dispute",
                    "disputes.view_mediationbody", "disputes.view_casefile"],
    "grid_worker": ["disputes.view_dispute", "disputes.add_dispute",
                    "disputes.view_mediationbody", "disputes.view_casefile"],
    "leader": ["disputes.view_disputestat", "disputes.view_mediationbody",
               "disputes.export_dispute"],
    "assessment_officer": ["disputes.view_disputestat", "disputes.view_mediationbody"],
    "sysadmin": [*DISPUTE_VIEW, *DISPUTE_REGISTRY],
    "area_admin": [*DISPUTE_REGISTRY, "disputes.view_disputestat"],
}.items():
    ROLES[_code][2].extend(_perms)

# Courier safety (三台合一): regulators keep the registry and supervise; outlet staff work at
# their outlet (look up, inspect, answer orders); a company's API key pushes its feeds; centres
# and leaders read the compliance figures.
DELIVERY_VIEW = ["delivery.view_couriercompany", "delivery.view_outlet",
                 "delivery.view_courierstaff", "delivery.view_outletday",
                 "delivery.view_rectificationorder", "delivery.view_spotcheck",
                 "delivery.view_penalty", "devices.view_device"]
DELIVERY_REGISTRY = ["delivery.add_couriercompany", "delivery.change_couriercompany",
                     "delivery.add_outlet", "delivery.change_outlet",
                     "delivery.add_courierstaff", "delivery.change_courierstaff",
                     "devices.add_device", "devices.change_device"]
for _code, _perms in {
    "courier_regulator": [*DELIVERY_VIEW, *DELIVERY_REGISTRY, "delivery.supervise_outlet",
                          "delivery.view_shipment", "delivery.view_ingestbatch",
                          "delivery.add_rectificationorder", "delivery.add_spotcheck",
                          "delivery.add_penalty", "delivery.view_prohibitedterm",
                          "delivery.change_prohibitedterm", "delivery.add_prohibitedterm"],
    "outlet_staff": ["delivery.view_outlet", "delivery.view_outletday",
                     "delivery.view_courierstaff",
                     "delivery.view_shipment", "delivery.add_inspection",
                     "delivery.view_rectificationorder", "delivery.change_rectificationorder",
                     "delivery.view_spotcheck", "devices.view_device"],
    "api_client": ["delivery.view_outlet", "delivery.ingest_outlet", "delivery.view_shipment",
                   "delivery.view_couriercompany", "delivery.view_courierstaff",
                   "delivery.view_ingestbatch", "devices.view_device"],
    "dispatcher": ["delivery.view_outlet", "delivery.view_outletday", "delivery.view_shipment",
                   "delivery.view_couriercompany", "devices.view_device"],
    "leader": ["delivery.view_outlet", "delivery.view_outletday",
               "delivery.view_couriercompany"],
    "sysadmin": [*DELIVERY_VIEW, *DELIVERY_REGISTRY],
    "area_admin": ["devices.view_device", "devices.add_device", "devices.change_device"],
}.items():
    ROLES[_code][2].extend(_perms)
