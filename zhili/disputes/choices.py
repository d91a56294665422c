from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class DisputeState(models.TextChoices):
    REGISTERED = "registered", _("Awaiting routing")
    ASSIGNED = "assigned", _("Awaiting acceptance by the body")
    MEDIATING = "mediating", _("In mediation")
    AGREED = "agreed", _("Agreement awaiting signature")
    PERFORMING = "performing", _("Agreement being performed")
    CLOSED = "closed", _("Closed")
    REJECTED = "rejected", _("Not accepted")


OPEN_STATES = (DisputeState.REGISTERED, DisputeState.ASSIGNED, DisputeState.MEDIATING,
               DisputeState.AGREED, DisputeState.PERFORMING)


class Step(models.TextChoices):
    """The clocks of a case (the deadline columns time one at a time)."""

    ROUTE = "route", _("Route to a body")
    ACCEPT = "accept", _("Body accepts or declines")
    MEDIATE = "mediate", _("Mediate")
    SIGN = "sign", _("Sign the agreement")
    FOLLOW_UP = "follow_up", _("Follow up the performance")


STEP_OF_STATE = {
    DisputeState.REGISTERED: Step.ROUTE,
    DisputeState.ASSIGNED: Step.ACCEPT,
    DisputeState.MEDIATING: Step.MEDIATE,
    DisputeState.AGREED: Step.SIGN,
    DisputeState.PERFORMING: Step.FOLLOW_UP,
}


class Channel(models.TextChoices):
    WALK_IN = "walk_in", _("Walk-in application")
    EVENT = "event", _("Grid event")
    HOTLINE = "hotline", _("Hotline (12345)")
    POLICE = "police", _("Police 110 referral")
    COURT = "court", _("Court pre-litigation referral")
    PETITION = "petition", _("Petition (信访)")
    PROACTIVE = "proactive", _("Found by screening")
    OTHER = "other", _("Other")


class BodyKind(models.TextChoices):
    COMPREHENSIVE = "comprehensive", _("Comprehensive mediation centre")
    PROFESSIONAL = "professional", _("Professional mediation body")
    COMMITTEE = "committee", _("People's mediation committee")


class Outcome(models.TextChoices):
    SUCCESS = "success", _("Success")
    PARTIAL = "partial", _("Partly successful")
    FAILURE = "failure", _("Failed")
    WITHDRAWN = "withdrawn", _("Withdrawn")


AGREED_OUTCOMES = (Outcome.SUCCESS, Outcome.PARTIAL)


class Guidance(models.TextChoices):
    """Where the parties were told to go when mediation failed (《人民调解法》第二十六条)."""

    LITIGATION = "litigation", _("Litigation")
    ARBITRATION = "arbitration", _("Arbitration")
    ADMINISTRATIVE = "administrative", _("Administrative channels")
    OTHER = "other", _("Other")


class PartySide(models.TextChoices):
    APPLICANT = "applicant", _("Applicant")
    RESPONDENT = "respondent", _("Respondent")
    THIRD = "third", _("Third party")


SIDE_TITLES = {PartySide.APPLICANT: "申请人", PartySide.RESPONDENT: "被申请人",
               PartySide.THIRD: "第三人"}


class PartyKind(models.TextChoices):
    PERSON = "person", _("Person")
    ORG = "org", _("Organisation")


class AgreementForm(models.TextChoices):
    WRITTEN = "written", _("Written agreement")
    ORAL = "oral", _("Oral agreement")


class Fulfilment(models.TextChoices):
    PENDING = "pending", _("Not yet due")
    PERFORMING = "performing", _("Being performed as agreed")
    FULFILLED = "fulfilled", _("Fulfilled")
    BROKEN = "broken", _("Broken")


class ConfirmationResult(models.TextChoices):
    PENDING = "pending", _("Awaiting the court")
    VALID = "valid", _("Confirmed valid")
    INVALID = "invalid", _("Ruled invalid")
    WITHDRAWN = "withdrawn", pgettext_lazy("application", "Withdrawn")


class FollowUpMethod(models.TextChoices):
    VISIT = "visit", _("Home visit")
    PHONE = "phone", _("Phone call")
    OFFICE = "office", _("At the office")


class Satisfaction(models.TextChoices):
    SATISFIED = "satisfied", _("Satisfied")
    BASICALLY = "basically", _("Basically satisfied")
    UNSATISFIED = "unsatisfied", _("Unsatisfied")


class AlertKind(models.TextChoices):
    GROUP = "group", _("Group dispute")
    REPEAT_PARTIES = "repeat_parties", _("Repeated dispute between the same parties")
    REPEAT_PLACE = "repeat_place", _("Repeated disputes at the same place")
    ESCALATING = "escalating", _("May intensify")
    OVERDUE = "overdue", _("Overdue")


class AlertState(models.TextChoices):
    OPEN = "open", _("Open")
    HANDLED = "handled", _("Handled")


class FileKind(models.TextChoices):
    EVIDENCE = "evidence", _("Evidence")
    RECORD = "record", _("Session record")
    SIGNED = "signed", _("Signed agreement")
    RULING = "ruling", _("Court ruling")
    OTHER = "other", _("Other")


class SupervisionState(models.TextChoices):
    ISSUED = "issued", _("Issued")
    ANSWERED = "answered", _("Answered")
    CLOSED = "closed", _("Closed")
