from django.db import models
from django.utils.translation import gettext_lazy as _


class OrgKind(models.TextChoices):
    GOVERNANCE_CENTRE = "centre", _("Governance centre")
    DEPARTMENT = "department", _("Government department")
    POLICE_STATION = "police", _("Police station")
    JUDICIAL_OFFICE = "judicial", _("Judicial office")
    LAW_FIRM = "law_firm", _("Law firm")
    MEDIATION_BODY = "mediation", _("Mediation body")
    COURIER_COMPANY = "courier", _("Courier company")
    COURIER_OUTLET = "outlet", _("Courier outlet")
    SECURITY_COMPANY = "security", _("Security company")
    COMMITTEE = "committee", _("Village/residents' committee")
    OTHER = "other", _("Other")


# Which kinds may sit under which parent organisation (None: no parent needed).
PARENT_KINDS = {
    OrgKind.COURIER_OUTLET: {OrgKind.COURIER_COMPANY},
}
