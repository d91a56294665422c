"""The seeded roles and the permissions each groups (kept in sync after every migrate).

Permissions are named `<app>.<action>_<model>`; a later module adds its models' permissions
to the roles here. Administrators may add permissions to a role in the admin site; syncing
only adds what is declared here, it never removes.
"""

from django.utils.translation import gettext_lazy as _

from zhili.core.scoping import AREA, ORG

# Every role: background jobs are visible only to whoever started them.
COMMON = ["core.view_job"]
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

# code: (name, scope kind, permissions)
ROLES = {
    "sysadmin": (_("System administrator"), AREA,
                 [*MANAGE_AREA, *MANAGE_ORGS, *MANAGE_USERS, "core.view_auditlog"]),
    "area_admin": (_("Area administrator"), AREA,
                   [*MANAGE_AREA, *MANAGE_ORGS, *MANAGE_USERS]),
    "leader": (_("Leader (read only)"), AREA,
               [*VIEW_BASE, "accounts.view_user", "accounts.view_position"]),
    "dispatcher": (_("Governance-centre dispatcher"), AREA,
                   [*VIEW_BASE, "accounts.view_user", "accounts.view_position"]),
    "grid_leader": (_("Grid leader"), AREA,
                    [*VIEW_BASE, "accounts.view_user", "accounts.view_position"]),
    "grid_worker": (_("Grid worker"), AREA, [*VIEW_BASE]),
    "handler": (_("Department handler"), ORG, [*VIEW_BASE]),
    "mediator": (_("Mediator"), ORG, [*VIEW_BASE]),
    "courier_regulator": (_("Courier regulator"), AREA, [*VIEW_BASE]),
    "outlet_staff": (_("Courier outlet staff"), ORG, [*VIEW_BASE]),
    "assessment_officer": (_("Assessment officer"), AREA,
                           [*VIEW_BASE, "accounts.view_user"]),
    "auditor": (_("Auditor"), AREA,
                [*VIEW_BASE, "accounts.view_user", "accounts.view_position",
                 "core.view_auditlog"]),
    "api_client": (_("Machine client (API key)"), ORG, [*VIEW_BASE]),
}
