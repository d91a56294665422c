from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class SupervisionState(models.TextChoices):
    """列管 status: under management, being handed over to another area, released."""

    ACTIVE = "active", _("Under management")
    HANDING_OVER = "handing_over", _("Being handed over")
    RELEASED = "released", _("Released from management")


OPEN_STATES = [SupervisionState.ACTIVE, SupervisionState.HANDING_OVER]


class ManagementLevel(models.TextChoices):
    """管理等级: decides how often the person is visited (days per level, per category)."""

    STRICT = "strict", _("Strict (严管)")
    KEY = "key", _("Key (重点)")
    GENERAL = "general", _("General (一般)")


class RiskScale(models.TextChoices):
    DANGER = "danger", _("Danger assessment 0–5 (GB/T 31000 5.32)")
    HML = "hml", _("High / medium / low (GB/T 31000 5.46)")


# The danger assessment of severe mental disorder patients (严重精神障碍 危险性评估), 0 lowest.
DANGER_LEVELS = [("0", _("Level 0")), ("1", _("Level 1")), ("2", _("Level 2")),
                 ("3", _("Level 3")), ("4", _("Level 4")), ("5", _("Level 5"))]
HML_LEVELS = [("high", pgettext_lazy("risk", "High")), ("medium", pgettext_lazy("risk", "Medium")),
              ("low", pgettext_lazy("risk", "Low"))]
RISK_LEVELS = {RiskScale.DANGER: DANGER_LEVELS, RiskScale.HML: HML_LEVELS}
# How the stored risk level is written in the standard's code tables (exports, exchange).
GBT_RISK_CODES = {RiskScale.DANGER: {str(n): f"0{n + 1}" for n in range(6)},
                  RiskScale.HML: {"high": "01", "medium": "02", "low": "03"}}
ALL_RISK_LABELS = dict(DANGER_LEVELS + HML_LEVELS)


class VisitMethod(models.TextChoices):
    HOME = "home", _("Home visit (上门)")
    PHONE = "phone", _("Phone call")
    VIDEO = "video", _("Video call")


class HelperRole(models.TextChoices):
    """Members of the helper team (帮扶小组). The first four are the 四个一 of severe mental
    disorder patients: a community doctor, a guardian, a village cadre, a community police
    officer."""

    DOCTOR = "doctor", _("Community doctor")
    GUARDIAN = "guardian", _("Guardian")
    CADRE = "cadre", _("Village/community cadre")
    POLICE = "police", _("Community police officer")
    JUDICIAL = "judicial", _("Judicial office staff")
    SOCIAL_WORKER = "social_worker", _("Social worker")
    VOLUNTEER = "volunteer", _("Volunteer")
    FAMILY = "family", _("Family member")
    CONTROLLER = "controller", _("Person in charge of control (管控人)")
    HELPER = "helper", _("Helper (帮扶人)")
    OTHER = "other", _("Other")


class ReleaseReason(models.TextChoices):
    """解除列管: why a person leaves management."""

    TERM_ENDED = "term_ended", _("Term ended")
    RISK_CLEARED = "risk_cleared", _("Recovered / risk cleared")
    CUSTODY = "custody", _("Taken into custody or hospital")
    DECEASED = "deceased", _("Deceased")
    LEFT = "left", _("Left the city")
    MISTAKE = "mistake", _("Registered by mistake")
    OTHER = "other", _("Other")


class HandoverState(models.TextChoices):
    """衔接: the sending area proposes, the receiving area accepts or disputes; a dispute goes
    to the common upper level, which assigns the person or sends them back."""

    PENDING = "pending", _("Awaiting the receiving area")
    DISPUTED = "disputed", _("Disputed, awaiting arbitration")
    ACCEPTED = "accepted", _("Accepted")
    RETURNED = "returned", _("Returned to the sending area")
    CANCELLED = "cancelled", _("Withdrawn")


OPEN_HANDOVER_STATES = [HandoverState.PENDING, HandoverState.DISPUTED]


class FieldType(models.TextChoices):
    TEXT = "text", _("Text")
    DATE = "date", _("Date")
    BOOL = "bool", _("Yes / no")
    INT = "int", _("Whole number")
    CHOICE = "choice", _("One code")
    MULTICHOICE = "multichoice", _("Several codes")


# How the entries of a record's history read (SupervisionTransition / HandoverTransition).
ACTION_LABELS = {
    "intake": _("Put under management"),
    "visit": _("Visit"),
    "risk": _("Risk level changed"),
    "level": _("Management level changed"),
    "details": _("Details changed"),
    "helper_added": _("Helper-team member added"),
    "helper_removed": _("Helper-team member left"),
    "lost_contact": _("Lost contact"),
    "found": _("Found again"),
    "release": _("Released from management"),
    "overdue": _("Visit overdue"),
    "escalation": _("Escalated"),
    "handover_proposed": _("Handover proposed"),
    "handover_disputed": _("Handover disputed"),
    "handover_moved": _("Handed over"),
    "handover_cancelled": _("Handover withdrawn"),
    "handover_returned": _("Handover decided: stays with the sending area"),
    "propose": _("Proposed"),
    "accept": _("Accepted"),
    "dispute": _("Disputed"),
    "assign": _("Assigned to the receiving area"),
    "send_back": _("Sent back to the sending area"),
    "withdraw": _("Withdrawn"),
}
