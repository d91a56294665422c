from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DeliveryConfig(AppConfig):
    name = "zhili.delivery"
    verbose_name = _("Courier safety")

    def ready(self):
        from zhili.core.navigation import NavItem, register
        from zhili.delivery import tasks  # noqa: F401  (cron: partitions, orders, reconcile)

        section = _("Courier safety")
        register(
            NavItem(section, _("Compliance"), "delivery:compliance", "clipboard-check",
                    "delivery.view_outletday", order=60),
            NavItem(section, _("Rectification orders"), "delivery:orders", "file-earmark-text",
                    "delivery.view_rectificationorder", order=61),
            NavItem(section, _("Spot checks"), "delivery:spot_checks", "search",
                    "delivery.view_spotcheck", order=62),
            NavItem(section, _("Penalties"), "delivery:penalties", "exclamation-octagon",
                    "delivery.view_penalty", order=63),
            NavItem(section, _("Outlet today"), "delivery:outlet_home", "phone",
                    "delivery.add_inspection", order=64),
            NavItem(section, _("Courier companies"), "delivery:companies", "building",
                    "delivery.view_couriercompany", order=65),
            NavItem(section, _("Courier outlets"), "delivery:outlets", "shop",
                    "delivery.view_outlet", order=66),
            NavItem(section, _("Courier staff"), "delivery:staff", "person-badge",
                    "delivery.view_courierstaff", order=67),
            NavItem(section, _("Video evidence"), "delivery:video_evidence", "camera-video",
                    "delivery.view_shipment", order=68),
        )
