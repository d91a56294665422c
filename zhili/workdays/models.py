"""The exceptions to the working week: statutory holidays on weekdays and make-up workdays
(调休) on weekends. Every other day follows the default rule: Monday–Friday work, Saturday and
Sunday rest. The State Council publishes the year's exceptions each winter; `zhili.workdays.clock`
reads this table to count time limits in working hours and working days."""

import datetime as dt

from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from zhili.workdays.querysets import CalendarDayQuerySet


def default_is_workday(day: dt.date) -> bool:
    """The rule for a day without an exception: Monday to Friday are working days."""
    return day.weekday() < 5


class CalendarDay(models.Model):
    date = models.DateField(_("date"), unique=True)
    is_workday = models.BooleanField(
        _("working day"),
        help_text=_("Off: a holiday on a weekday. On: a make-up workday on a weekend."),
    )
    name = models.CharField(_("name"), max_length=100, help_text=_("e.g. 国庆节"))
    # The clock compares count and latest change to notice edits made by other processes.
    updated_at = models.DateTimeField(auto_now=True)

    objects = CalendarDayQuerySet.as_manager()

    class Meta:
        ordering = ["date"]
        verbose_name = _("holiday or make-up workday")
        verbose_name_plural = _("holidays and make-up workdays")

    def __str__(self):
        return f"{self.date:%Y-%m-%d} {self.name}"

    def get_absolute_url(self):
        return f"{reverse('workdays:calendar')}?year={self.date.year}"
