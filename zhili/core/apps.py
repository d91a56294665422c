from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "zhili.core"
    verbose_name = _("Platform")

    def ready(self):
        from django.db.models.signals import post_migrate

        from zhili.core import checks, jobs, tasks  # noqa: F401  (registers checks and jobs)

        post_migrate.connect(_install_audit_guard, sender=self)


def _install_audit_guard(sender, using="default", **kwargs):
    """(Re)install the append-only guard after every migrate or flush, idempotently."""
    from django.db import connections

    from zhili.core import dbguard

    connection = connections[using]
    if "core_auditlog" in connection.introspection.table_names():
        dbguard.install(connection)
