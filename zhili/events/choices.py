from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class Urgency(models.TextChoices):
    NORMAL = "normal", _("Normal")
    URGENT = "urgent", _("Urgent")
    CRITICAL = "critical", _("Critical")


class Channel(models.TextChoices):
    GRID = "grid", pgettext_lazy("channel", "Grid worker")
    WEB = "web", _("Centre registration")
    PUBLIC = "public", _("Public (Open311)")
    HOTLINE = "hotline", _("12345 hotline")
    DEVICE = "device", _("Device / sensor")
    API = "api", _("Other system")


class EventState(models.TextChoices):
    REPORTED = "reported", _("Awaiting acceptance")
    ACCEPTED = "accepted", _("Awaiting dispatch")
    DISPATCHED = "dispatched", _("Awaiting sign-off")
    HANDLING = "handling", _("Being handled")
    WAITING = "waiting", _("Waiting for the citizen")
    RETURNED = "returned", _("Returned, awaiting arbitration")
    HANDLED = "handled", _("Awaiting verification")
    VERIFIED = "verified", _("Awaiting closure")
    CLOSED = "closed", pgettext_lazy("event state", "Closed")
    REJECTED = "rejected", _("Not accepted")
    MERGED = "merged", _("Merged into another report")


OPEN_STATES = [EventState.REPORTED, EventState.ACCEPTED, EventState.DISPATCHED,
               EventState.HANDLING, EventState.WAITING, EventState.RETURNED,
               EventState.HANDLED, EventState.VERIFIED]
FINAL_STATES = [EventState.CLOSED, EventState.REJECTED, EventState.MERGED]


class Step(models.TextChoices):
    """The clock that runs in each state (what must happen next, by whom)."""

    ACCEPT = "accept", _("Accept")
    DISPATCH = "dispatch", _("Dispatch")
    SIGN = "sign", _("Sign for it")
    HANDLE = "handle", _("Handle")
    ARBITRATE = "arbitrate", _("Arbitrate a return")
    VERIFY = "verify", _("Verify on site")
    CLOSE = "close", pgettext_lazy("event step", "Close")


STEP_OF_STATE = {
    EventState.REPORTED: Step.ACCEPT,
    EventState.ACCEPTED: Step.DISPATCH,
    EventState.DISPATCHED: Step.SIGN,
    EventState.HANDLING: Step.HANDLE,
    EventState.RETURNED: Step.ARBITRATE,
    EventState.HANDLED: Step.VERIFY,
    EventState.VERIFIED: Step.CLOSE,
}


class Satisfaction(models.TextChoices):
    SATISFIED = "satisfied", _("Satisfied")
    BASICALLY = "basically", _("Basically satisfied")
    UNSATISFIED = "unsatisfied", _("Unsatisfied")


class AssignmentRole(models.TextChoices):
    LEAD = "lead", _("Lead (主办)")
    ASSIST = "assist", _("Assisting (协办)")


class PhotoStage(models.TextChoices):
    REPORT = "report", _("At report")
    PROGRESS = "progress", _("Progress")
    RESULT = "result", _("Result")
    VERIFY = "verify", _("Verification")


class SupervisionState(models.TextChoices):
    ISSUED = "issued", _("Issued, awaiting answer")
    ANSWERED = "answered", _("Answered")
    CLOSED = "closed", _("Closed")


class ExtensionState(models.TextChoices):
    PENDING = "pending", _("Pending")
    APPROVED = "approved", _("Approved")
    REFUSED = "refused", _("Refused")
