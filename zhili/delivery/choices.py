from django.db import models
from django.utils.translation import gettext_lazy as _


class StaffDuty(models.TextChoices):
    COLLECT = "collect", _("Collection (收寄)")
    DELIVER = "deliver", _("Delivery (派送)")
    SCREEN = "screen", _("Security screening (安检)")
    MANAGER = "manager", _("Person in charge")


class InspectionResult(models.TextChoices):
    PASSED = "passed", _("Passed")
    REFUSED = "refused", _("Sender refused inspection")
    PROHIBITED = "prohibited", _("Prohibited goods found")
    SUSPICIOUS = "suspicious", _("Cannot be confirmed safe")


class FeedKind(models.TextChoices):
    SHIPMENTS = "shipments", _("Parcel records")
    INSPECTIONS = "inspections", _("Inspection records")
    SCANS = "scans", _("X-ray scan records")


class BatchState(models.TextChoices):
    RECEIVED = "received", _("Received")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")


class OrderState(models.TextChoices):
    ISSUED = "issued", _("Issued")
    ANSWERED = "answered", _("Answered by the outlet")
    CLOSED = "closed", _("Closed after re-check")
    ESCALATED = "escalated", _("Escalated")


class SpotCheckResult(models.TextChoices):
    COMPLIANT = "compliant", _("Compliant")
    PROBLEMS = "problems", _("Problems found")
