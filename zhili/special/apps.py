from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SpecialConfig(AppConfig):
    name = "zhili.special"
    verbose_name = _("Special populations")
