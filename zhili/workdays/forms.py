from django import forms
from django.utils.translation import gettext_lazy as _

from zhili.workdays.models import CalendarDay

HOLIDAY, WORKDAY = "holiday", "workday"
KIND_CHOICES = [(HOLIDAY, _("Holiday: no work")), (WORKDAY, _("Make-up workday: work"))]


def _is_workday(value: str) -> bool:
    return value == WORKDAY


class DayChangeForm(forms.Form):
    """What a day is; the date itself is fixed (edit another date by adding it)."""

    is_workday = forms.TypedChoiceField(label=_("Kind"), choices=KIND_CHOICES,
                                        coerce=_is_workday)
    name = forms.CharField(label=_("Name"), required=False,
                           max_length=CalendarDay._meta.get_field("name").max_length,
                           help_text=_("e.g. 国庆节; not needed when the day goes back to the "
                                       "usual rule."))


class DayForm(DayChangeForm):
    date = forms.DateField(label=_("Date"),
                           widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))

    field_order = ["date", "is_workday", "name"]


def kind_of(is_workday: bool) -> str:
    return WORKDAY if is_workday else HOLIDAY
