"""The event list filters, shared by the inbox page, the API and exports."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from zhili.core import codes
from zhili.core.forms import FastSelectsMixin
from zhili.core.scoping import ORG, get_scope
from zhili.events.choices import Channel, EventState, SupervisionState, Urgency
from zhili.events.models import EventCategory, EventTransition, SupervisionOrder

BOXES = [("todo", _("To do")), ("done", _("Done by me")), ("supervised", _("Supervised")),
         ("overdue", _("Overdue")), ("all", _("All"))]


class EventFilterForm(FastSelectsMixin, forms.Form):
    box = forms.ChoiceField(choices=BOXES, required=False)
    q = forms.CharField(label=_("Search"), required=False)
    area = forms.CharField(label=_("Area code"), required=False)
    category = forms.ModelChoiceField(label=_("Category"), required=False,
                                      queryset=EventCategory.objects.filter(parent__isnull=False),
                                      empty_label=_("All categories"))
    state = forms.ChoiceField(label=_("State"), required=False,
                              choices=[("", _("All states")), *EventState.choices])
    channel = forms.ChoiceField(label=_("Channel"), required=False,
                                choices=[("", _("All channels")), *Channel.choices])
    urgency = forms.ChoiceField(label=_("Urgency"), required=False,
                                choices=[("", _("Any urgency")), *Urgency.choices])
    date_from = forms.DateField(label=_("Reported from"), required=False,
                                widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(label=_("Reported to"), required=False,
                              widget=forms.DateInput(attrs={"type": "date"}))
    overdue = forms.BooleanField(label=_("Overdue only"), required=False)

    def clean_area(self):
        value = self.cleaned_data["area"].strip()
        if value and (not value.isdigit() or len(value) > codes.CODE_WIDTH):
            raise forms.ValidationError(_("An area code may contain digits only."))
        return value


class EventFilter:
    """Apply the filters (a dict as from a query string) to an already restricted queryset."""

    def __init__(self, params):
        self.form = EventFilterForm(params or None)
        self.valid = self.form.is_valid() if params else True

    @property
    def data(self) -> dict:
        return self.form.cleaned_data if self.valid and self.form.is_bound else {}

    def serializable(self) -> dict:
        out = {}
        for key, value in self.data.items():
            if value in (None, "", False):
                continue
            out[key] = value.pk if hasattr(value, "pk") else \
                value.isoformat() if isinstance(value, dt.date) else value
        return out

    def apply(self, queryset, user):
        data = self.data
        queryset = _box(queryset, data.get("box") or "all", user)
        if data.get("q"):
            q = data["q"].strip()
            queryset = queryset.filter(Q(number__icontains=q) | Q(title__icontains=q) |
                                       Q(description__icontains=q) | Q(address__icontains=q))
        if data.get("area"):
            queryset = queryset.filter(codes.range_q("area_code", data["area"]))
        for name in ("category", "state", "channel", "urgency"):
            if data.get(name):
                queryset = queryset.filter(**{name: data[name]})
        if data.get("date_from"):
            queryset = queryset.filter(reported_at__gte=_start(data["date_from"]))
        if data.get("date_to"):
            queryset = queryset.filter(reported_at__lt=_start(data["date_to"] +
                                                              dt.timedelta(days=1)))
        if data.get("overdue"):
            queryset = queryset.filter(overdue=True)
        return queryset


def _start(day: dt.date):
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def _box(queryset, box: str, user):
    """待办 / 已办 / 督办 / 超期: what this position has to do, has done, is supervised on."""
    S = EventState
    scope = get_scope(user)
    if box == "todo":
        wanted = Q(pk__in=[])
        if scope.can("events.dispatch_event"):
            position = user.active_position
            level = position.area.level if position else 1
            dispatch = Q(state__in=[S.REPORTED, S.ACCEPTED, S.RETURNED, S.VERIFIED])
            if not scope.unrestricted:
                dispatch &= Q(owner_level=level)
            wanted |= dispatch
        if scope.can("events.handle_event"):
            handle = Q(state__in=[S.DISPATCHED, S.HANDLING, S.WAITING])
            if scope.kind == ORG:
                handle &= Q(lead_org_id__in=scope.org_ids)
            wanted |= handle
        if scope.can("events.verify_event"):
            wanted |= Q(state=S.HANDLED)
        wanted |= Q(state=S.HANDLED, reporter_id=user.pk)
        return queryset.filter(wanted).order_by("deadline_at", "id")
    if box == "done":
        mine = EventTransition.objects.filter(event_id=OuterRef("pk"), actor_id=user.pk)
        return queryset.filter(Exists(mine))
    if box == "supervised":
        orders = SupervisionOrder.objects.filter(event_id=OuterRef("pk")).exclude(
            state=SupervisionState.CLOSED)
        return queryset.filter(Exists(orders))
    if box == "overdue":
        return queryset.open().filter(overdue=True).order_by("deadline_at", "id")
    return queryset
