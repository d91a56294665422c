"""The case-list filters and its keyset pages (newest first, 50 a page).

The list is read at city scale (hundreds of thousands of cases): every filter is a column
condition the indexes serve, the pages are cut by (registered_at, id) rather than OFFSET, and
the total is counted only up to a cap.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django import forms
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from zhili.core import codes
from zhili.core.forms import FastSelectsMixin
from zhili.core.scoping import ORG, get_scope
from zhili.disputes import codetables
from zhili.disputes.choices import Channel, DisputeState
from zhili.disputes.models import MediationBody

PAGE_SIZE = 50
COUNT_CAP = 1000
S = DisputeState
# The states in which the body holds the case (accept, mediate, sign, follow up).
BODY_STATES = (S.ASSIGNED, S.MEDIATING, S.AGREED, S.PERFORMING)
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def type_groups() -> list[tuple[str, str]]:
    return [(code, name) for code, name in codetables.TYPES.items() if len(code) == 2]


class BodyChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return obj.org.name


class DisputeFilterForm(FastSelectsMixin, forms.Form):
    q = forms.CharField(label=_("Number or title"), required=False, max_length=100)
    state = forms.ChoiceField(label=_("State"), required=False,
                              choices=[("", _("All states")), ("open", _("Open cases")),
                                       *DisputeState.choices])
    channel = forms.ChoiceField(label=_("Channel"), required=False,
                                choices=[("", _("All channels")), *Channel.choices])
    type_group = forms.ChoiceField(label=_("Dispute type"), required=False)
    stat_class = forms.ChoiceField(label=_("Statistics class"), required=False)
    body = BodyChoiceField(label=_("Mediation body"), required=False,
                           queryset=MediationBody.objects.none(), empty_label=_("All bodies"))
    area = forms.ChoiceField(label=_("Area"), required=False)
    date_from = forms.DateField(label=_("Registered from"), required=False,
                                widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(label=_("Registered to"), required=False,
                              widget=forms.DateInput(attrs={"type": "date"}))
    overdue = forms.BooleanField(label=_("Overdue only"), required=False)
    group = forms.BooleanField(label=_("Group disputes only"), required=False)
    mine = forms.BooleanField(label=_("Mine to act on"), required=False)

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["type_group"].choices = [("", _("All types")), *type_groups()]
        self.fields["stat_class"].choices = [("", _("All classes")),
                                             *codetables.stat_class_choices()]
        if user is not None:
            self.fields["body"].queryset = (
                MediationBody.objects.restrict(user).select_related("org")
                .only("id", "org", "org__name").order_by("area_code", "org__name"))
            self.fields["area"].choices = [("", _("All my areas")), *area_choices(user)]

    def clean_q(self):
        return " ".join(self.cleaned_data["q"].split())


def area_choices(user) -> list[tuple[str, str]]:
    """The user's own area and two levels below it (a city sees its towns, a town its grids):
    enough to narrow a list without a choice per grid of the city."""
    from zhili.areas.models import Area
    from zhili.areas.queries import root_for

    root = root_for(user)
    if root is None:
        return []
    areas = (Area.objects.restrict(user).active().filter(level__lte=root.level + 2)
             .only("code", "name", "level").order_by("code"))
    return [(a.prefix, f"{'· ' * max(0, a.level - root.level)}{a.name}") for a in areas]


def _start(day: dt.date):
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def mine_q(user) -> Q:
    """What the user's position has to act on now: a routing centre the cases waiting at its
    level; a body the cases it holds."""
    scope = get_scope(user)
    wanted = Q(pk__in=[])
    if scope.can("disputes.route_dispute"):
        route = Q(state=S.REGISTERED)
        position = user.active_position
        if not scope.unrestricted and position is not None:
            route &= Q(owner_level=position.area.level)
        wanted |= route
    if scope.can("disputes.mediate_dispute"):
        held = Q(state__in=BODY_STATES)
        if scope.kind == ORG and not scope.unrestricted:
            held &= Q(body__org__in=scope.org_ids)
        wanted |= held
    return wanted


def apply_filters(queryset, form: DisputeFilterForm, user):
    """The cases matching the form; an invalid filter (shown with its error) matches none,
    rather than silently listing everything."""
    if not form.is_bound:
        return queryset
    if not form.is_valid():
        return queryset.none()
    data = form.cleaned_data
    if data.get("q"):
        q = data["q"]
        queryset = queryset.filter(Q(number__icontains=q) | Q(title__icontains=q))
    state = data.get("state")
    if state == "open":
        queryset = queryset.open()
    elif state:
        queryset = queryset.filter(state=state)
    if data.get("channel"):
        queryset = queryset.filter(channel=data["channel"])
    if data.get("type_group"):
        queryset = queryset.filter(type_code__startswith=data["type_group"])
    if data.get("stat_class"):
        queryset = queryset.filter(stat_class=data["stat_class"])
    if data.get("body"):
        queryset = queryset.filter(body=data["body"])
    if data.get("area"):
        queryset = queryset.filter(codes.range_q("area_code", data["area"]))
    if data.get("date_from"):
        queryset = queryset.filter(registered_at__gte=_start(data["date_from"]))
    if data.get("date_to"):
        queryset = queryset.filter(registered_at__lt=_start(data["date_to"] +
                                                            dt.timedelta(days=1)))
    if data.get("overdue"):
        queryset = queryset.filter(overdue=True)
    if data.get("group"):
        queryset = queryset.filter(is_group=True)
    if data.get("mine"):
        queryset = queryset.filter(mine_q(user))
    return queryset


# --- keyset pages --------------------------------------------------------------------------------

def encode_cursor(row) -> str:
    delta = row.registered_at - _EPOCH
    micros = (delta.days * 86400 + delta.seconds) * 1_000_000 + delta.microseconds
    return f"{micros}.{row.pk}"


def decode_cursor(raw: str | None):
    """(registered_at, id) from "micros.id", or None for a missing or mangled cursor."""
    try:
        micros, pk = (raw or "").split(".")
        return _EPOCH + dt.timedelta(microseconds=int(micros)), int(pk)
    except (ValueError, OverflowError):
        return None


@dataclass
class KeysetPage:
    rows: list
    next_cursor: str | None
    prev_cursor: str | None
    count: int
    capped: bool

    @property
    def count_label(self) -> str:
        return f"{self.count}+" if self.capped else str(self.count)


def keyset_page(queryset, params, *, size: int | None = None,
                cap: int = COUNT_CAP) -> KeysetPage:
    """One page of the queryset, newest first, after (`after=`) or before (`before=`) a cursor.

    The extra `registered_at <= t` bound lets the index on (…, registered_at, id) seek to the
    cursor instead of filtering rows one by one."""
    size = size or PAGE_SIZE
    after, before = decode_cursor(params.get("after")), decode_cursor(params.get("before"))
    base = queryset
    if before is not None:
        at, pk = before
        rows = list(base.filter(registered_at__gte=at)
                    .filter(Q(registered_at__gt=at) | Q(id__gt=pk))
                    .order_by("registered_at", "id")[:size + 1])
        more_newer = len(rows) > size
        rows = rows[:size][::-1]
        next_cursor = encode_cursor(rows[-1]) if rows else None
        prev_cursor = encode_cursor(rows[0]) if rows and more_newer else None
    else:
        page = base.order_by("-registered_at", "-id")
        if after is not None:
            at, pk = after
            page = page.filter(registered_at__lte=at).filter(
                Q(registered_at__lt=at) | Q(id__lt=pk))
        rows = list(page[:size + 1])
        more_older = len(rows) > size
        rows = rows[:size]
        next_cursor = encode_cursor(rows[-1]) if rows and more_older else None
        prev_cursor = encode_cursor(rows[0]) if rows and after is not None else None
    # Unordered and capped: counting stops after `cap` rows whatever the plan.
    counted = queryset.order_by()[:cap + 1].count()
    return KeysetPage(rows, next_cursor, prev_cursor, min(counted, cap), counted > cap)
