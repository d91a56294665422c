from django.db import models
from django.utils.translation import gettext_lazy as _


class DeviceKind(models.TextChoices):
    CAMERA = "camera", _("Camera")
    XRAY = "xray", _("X-ray screening machine")
    NVR = "nvr", _("Video recorder (NVR)")
    GATE = "gate", _("Access gate")
    OTHER = "other", _("Other")


# Kinds identified by a GB/T 28181 code; others (X-ray machines) by the maker's serial.
GB28181_KINDS = (DeviceKind.CAMERA, DeviceKind.NVR, DeviceKind.GATE)


class DeviceStatus(models.TextChoices):
    ONLINE = "online", _("Online")
    OFFLINE = "offline", _("Offline")
    FAULT = "fault", _("Fault")
    RETIRED = "retired", _("Retired")
