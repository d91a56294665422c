from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DevicesConfig(AppConfig):
    name = "zhili.devices"
    verbose_name = _("Devices")

    def ready(self):
        from zhili.core.navigation import NavItem, register

        register(NavItem(_("Devices"), _("Devices"), "devices:list", "camera-video",
                         "devices.view_device", order=70))
