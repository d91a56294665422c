from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "zhili.accounts"
    verbose_name = _("Users and roles")

    def ready(self):
        from zhili.accounts.seeding import sync_roles
        from zhili.core.navigation import NavItem, register

        # After the last app's post_migrate, when every app's permissions exist.
        post_migrate.connect(sync_roles)
        register(
            NavItem(_("System"), _("Users"), "accounts:users", "people", "accounts.view_user",
                    order=80),
            NavItem(_("System"), _("Audit log"), "core:audit", "shield-check",
                    "core.view_auditlog", order=90),
            NavItem(_("System"), _("Background jobs"), "core:jobs", "hourglass-split",
                    "core.view_job", order=95),
        )
