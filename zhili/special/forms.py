from __future__ import annotations

import json

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from zhili.core.forms import MultipleFileField
from zhili.special.choices import (
    ALL_RISK_LABELS,
    FieldType,
    HelperRole,
    ManagementLevel,
    ReleaseReason,
    RiskScale,
    SupervisionState,
    VisitMethod,
)
from zhili.special.fields import FieldDef
from zhili.special.models import VISIT_UNITS, SpecialCategory

EMPTY = [("", "—")]
YES_NO = [("", "—"), ("true", _("Yes")), ("false", _("No"))]
DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def detail_field(d: FieldDef) -> forms.Field:
    """The form field for one category field (the service checks the values again)."""
    common = {"label": d.label, "required": d.required,
              "help_text": f"GB/T 31000 {d.gbt}" if d.gbt else d.help}
    if d.type == FieldType.TEXT:
        widget = forms.Textarea(attrs={"rows": 2}) if d.max_length > 200 else None
        return forms.CharField(max_length=d.max_length, widget=widget, **common)
    if d.type == FieldType.DATE:
        return forms.DateField(widget=DATE, **common)
    if d.type == FieldType.BOOL:
        return forms.ChoiceField(choices=YES_NO, **common)
    if d.type == FieldType.INT:
        return forms.IntegerField(min_value=0, max_value=d.max, **common)
    options = list(d.options().items())
    if d.type == FieldType.CHOICE:
        return forms.ChoiceField(choices=EMPTY + options, **common)
    return forms.MultipleChoiceField(choices=options, widget=forms.CheckboxSelectMultiple,
                                     **common)


class DetailFieldsMixin:
    """Adds the category's fields (named `details.<name>`) to a form."""

    def add_detail_fields(self, defs: list[FieldDef], details: dict | None = None):
        self.detail_defs = defs
        for d in defs:
            self.fields[d.key] = detail_field(d)
            value = (details or {}).get(d.name)
            if value is not None:
                self.initial[d.key] = ("true" if value else "false") \
                    if d.type == FieldType.BOOL else value

    def details_data(self) -> dict:
        data = {}
        for d in self.detail_defs:
            value = self.cleaned_data.get(d.key)
            if value in (None, "", []):
                continue
            data[d.name] = value.isoformat() if hasattr(value, "isoformat") else value
        return data


class FindPersonForm(forms.Form):
    category = forms.ModelChoiceField(label=_("Category"),
                                      queryset=SpecialCategory.objects.active())
    id_number = forms.CharField(label=_("ID number"), max_length=30,
                                help_text=_("The person must be registered in your area."))


class IntakeForm(DetailFieldsMixin, forms.Form):
    category = forms.IntegerField(widget=forms.HiddenInput)
    id_number = forms.CharField(widget=forms.HiddenInput)
    level = forms.ChoiceField(label=_("Management level"), choices=ManagementLevel.choices)
    risk_level = forms.ChoiceField(label=_("Risk level"))
    started_on = forms.DateField(label=_("Under management since"), widget=DATE,
                                 initial=timezone.localdate)
    note = forms.CharField(label=_("Note"), required=False,
                           widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, category: SpecialCategory, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["risk_level"].choices = EMPTY + category.risk_choices()
        self.add_detail_fields(category.field_defs())


class DetailsForm(DetailFieldsMixin, forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    note = forms.CharField(label=_("Note on the change"), required=False, max_length=500)

    def __init__(self, *args, supervision, **kwargs):
        super().__init__(*args, **kwargs)
        self.initial.setdefault("version", supervision.version)
        self.add_detail_fields(supervision.category.field_defs(), supervision.details)


class VisitForm(forms.Form):
    method = forms.ChoiceField(label=_("Method"), choices=VisitMethod.choices,
                               initial=VisitMethod.HOME)
    contact_made = forms.BooleanField(label=_("Met / reached the person"), required=False,
                                      initial=True)
    findings = forms.CharField(label=_("Findings"), widget=forms.Textarea(attrs={"rows": 4}))
    risk_proposed = forms.ChoiceField(label=_("Risk level now"), required=False)
    visited_at = forms.DateTimeField(label=_("Visited at (if not now)"), required=False,
                                     widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))
    place = forms.CharField(label=_("Place"), max_length=200, required=False)
    lat = forms.DecimalField(required=False, widget=forms.HiddenInput)
    lng = forms.DecimalField(required=False, widget=forms.HiddenInput)
    photos = MultipleFileField(label=_("Photos"), required=False)
    client_uuid = forms.UUIDField(required=False, widget=forms.HiddenInput)
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, supervision, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["risk_proposed"].choices = [("", _("Unchanged"))] + \
            supervision.category.risk_choices()
        self.initial.setdefault("version", supervision.version)


class RiskForm(forms.Form):
    risk_level = forms.ChoiceField(label=_("New risk level"))
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 2}))
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, supervision, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["risk_level"].choices = supervision.category.risk_choices()
        self.initial.setdefault("risk_level", supervision.proposed_risk or
                                supervision.risk_level)
        self.initial.setdefault("version", supervision.version)


class LevelForm(forms.Form):
    level = forms.ChoiceField(label=_("New management level"), choices=ManagementLevel.choices)
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 2}))
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)


class HelperForm(forms.Form):
    role = forms.ChoiceField(label=_("Role"), choices=HelperRole.choices)
    name = forms.CharField(label=_("Name"), max_length=50)
    phone = forms.CharField(label=_("Phone"), max_length=30, required=False)
    id_number = forms.CharField(label=_("ID number"), max_length=30, required=False,
                                help_text=_("For a guardian (GB/T 31000 T19/T22)."))
    address = forms.CharField(label=_("Address"), max_length=200, required=False)
    relation = forms.CharField(label=_("Relation to the person"), max_length=20,
                               required=False)
    org = forms.CharField(label=_("Workplace"), max_length=100, required=False)


class LostContactForm(forms.Form):
    note = forms.CharField(label=_("What happened"), widget=forms.Textarea(attrs={"rows": 2}))
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)


class ReleaseForm(forms.Form):
    reason = forms.ChoiceField(label=_("Reason"), choices=EMPTY + ReleaseReason.choices)
    released_on = forms.DateField(label=_("Released on"), widget=DATE,
                                  initial=timezone.localdate)
    note = forms.CharField(label=_("Note"), required=False,
                           widget=forms.Textarea(attrs={"rows": 2}))
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)


class HandoverForm(forms.Form):
    to_area = forms.CharField(label=_("Area the person moved to"), max_length=15,
                              help_text=_("Its code: 9 digits for a town or street, 12 for a "
                                          "village or community, 15 for a grid."))
    reason = forms.CharField(label=_("Reason (new address, since when …)"),
                             widget=forms.Textarea(attrs={"rows": 3}))
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)


class NoteForm(forms.Form):
    note = forms.CharField(label=_("Note"), required=False,
                           widget=forms.Textarea(attrs={"rows": 2}))
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)


class SupervisionFilterForm(forms.Form):
    category = forms.ModelChoiceField(label=_("Category"), required=False,
                                      queryset=SpecialCategory.objects.all())
    level = forms.ChoiceField(label=_("Management level"), required=False,
                              choices=EMPTY + ManagementLevel.choices)
    risk = forms.ChoiceField(label=_("Risk"), required=False,
                             choices=EMPTY + [(k, str(v)) for k, v in ALL_RISK_LABELS.items()])
    state = forms.ChoiceField(label=_("Status"), required=False,
                              choices=[("", _("Under management")), ("all", _("All")),
                                       *SupervisionState.choices])
    area = forms.RegexField(label=_("Area code"), required=False, regex=r"^\d{1,15}$")
    id_number = forms.CharField(label=_("ID number (exact)"), required=False, max_length=30)
    overdue = forms.BooleanField(label=_("Visits overdue"), required=False)
    lost_contact = forms.BooleanField(label=_("Lost contact"), required=False)
    handing_over = forms.BooleanField(label=_("Handover open"), required=False)


class CategoryForm(forms.Form):
    code = forms.SlugField(label=_("Code"), max_length=40)
    name = forms.CharField(label=_("Name"), max_length=60)
    description = forms.CharField(label=pgettext_lazy("category", "Description"),
                                  max_length=300, required=False)
    gbt_table = forms.CharField(label=_("GB/T 31000 table"), max_length=4, required=False)
    risk_scale = forms.ChoiceField(label=_("Risk scale"), choices=RiskScale.choices,
                                   initial=RiskScale.HML)
    visit_strict = forms.IntegerField(label=_("Days between visits: strict"), min_value=1,
                                      max_value=366, initial=7)
    visit_key = forms.IntegerField(label=_("Days between visits: key"), min_value=1,
                                   max_value=366, initial=15)
    visit_general = forms.IntegerField(label=_("Days between visits: general"), min_value=1,
                                       max_value=366, initial=30)
    visit_unit = forms.ChoiceField(label=_("Counted in"), choices=VISIT_UNITS)
    team_roles = forms.MultipleChoiceField(label=_("Expected helper team"), required=False,
                                           choices=HelperRole.choices,
                                           widget=forms.CheckboxSelectMultiple)
    field_definitions = forms.CharField(
        label=_("Field definitions (JSON)"), required=False,
        widget=forms.Textarea(attrs={"rows": 14, "class": "font-monospace"}),
        help_text=_('A list of {"name", "label", "type" (text, date, bool, int, choice, '
                    'multichoice), "required", and for codes "choices": {code: label} or '
                    '"table": a GB/T 31000 table such as "5.46"}.'))
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)
    sort = forms.IntegerField(label=_("Sort order"), min_value=0, max_value=32767, initial=100)

    def __init__(self, *args, category: SpecialCategory | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        if category is not None:
            days = category.visit_days or {}
            self.initial.update(
                code=category.code, name=category.name, description=category.description,
                gbt_table=category.gbt_table, risk_scale=category.risk_scale,
                visit_strict=days.get("strict"), visit_key=days.get("key"),
                visit_general=days.get("general"), visit_unit=category.visit_unit,
                team_roles=category.team_roles, is_active=category.is_active,
                sort=category.sort,
                field_definitions=json.dumps(category.field_definitions, ensure_ascii=False,
                                             indent=1))
            if category.builtin:
                for locked in ("code", "risk_scale", "gbt_table"):
                    self.fields[locked].disabled = True

    def service_data(self) -> dict:
        data = self.cleaned_data
        out = {k: data[k] for k in ("code", "name", "description", "gbt_table", "risk_scale",
                                    "visit_unit", "team_roles", "is_active", "sort")}
        out["visit_days"] = {"strict": data["visit_strict"], "key": data["visit_key"],
                             "general": data["visit_general"]}
        out["field_definitions"] = data["field_definitions"] or "[]"
        return out

