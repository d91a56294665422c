from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


def _calendar_changed(sender, **kwargs):
    from zhili.workdays import clock

    clock.invalidate()


class WorkdaysConfig(AppConfig):
    name = "zhili.workdays"
    verbose_name = _("Working-day calendar")

    def ready(self):
        from django.db.models.signals import post_delete, post_save

        from zhili.core.navigation import NavItem, register
        from zhili.workdays import checks  # noqa: F401  (registers the ZHILI_WORK_PERIODS check)
        from zhili.workdays.models import CalendarDay

        # The services invalidate the clock themselves; this also covers rows saved elsewhere
        # (the admin site, fixtures, tests). Bulk updates are caught by the periodic re-check.
        post_save.connect(_calendar_changed, sender=CalendarDay, dispatch_uid="workdays.save")
        post_delete.connect(_calendar_changed, sender=CalendarDay,
                            dispatch_uid="workdays.delete")
        register(NavItem(_("System"), _("Working-day calendar"), "workdays:calendar",
                         "calendar3", "workdays.view_calendarday", order=85))
