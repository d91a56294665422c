"""Forms of the registry pages. They collect; the services judge (field-level messages come
back onto the form through ServiceError.apply_to_form).

Edit forms never put personal data in clear into the page: encrypted fields start empty, show
the masked value as a placeholder, and are left unchanged when left empty.
"""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from zhili.areas.models import Area
from zhili.core import pii
from zhili.people import codes, details
from zhili.people.choices import HouseRelation, InactiveReason, ResidencyKind
from zhili.people.models import Building, House

DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class AreaField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.short_code} {obj.name}"


def registry_areas(user):
    """Where registry rows may be placed: villages/communities and grids in reach."""
    return Area.objects.restrict(user).active().filter(level__gte=4).order_by("code")


def code_choices(table: type[codes.CodeTable]):
    return [("", "—"), *table.choices()]


def form_field(spec_field: details.Field) -> forms.Field:
    """The form field for a spec field (required as the standard says)."""
    kind, label, required = spec_field.kind, spec_field.label, spec_field.required
    if kind == details.CODE:
        return forms.ChoiceField(label=label, required=required,
                                 choices=code_choices(spec_field.table))
    if kind == details.BOOL:
        return forms.BooleanField(label=label, required=False)
    if kind in (details.DATE, details.FUTURE_DATE):
        return forms.DateField(label=label, required=required, widget=DATE_WIDGET)
    if kind == details.INT:
        return forms.IntegerField(label=label, required=required, min_value=0)
    if kind in (details.DECIMAL, details.LAT, details.LNG):
        return forms.DecimalField(label=label, required=required,
                                  widget=forms.NumberInput(attrs={"step": "any"}))
    if kind == details.PHONE:
        return forms.CharField(label=label, required=required, max_length=40,
                               widget=forms.TextInput(attrs={"inputmode": "tel"}))
    max_length = {details.ID_NUMBER: 30, details.DOCUMENT: 30, details.USCC: 24,
                  details.REGION: 15, details.COUNTRY: 3}.get(kind, spec_field.max_length)
    widget = forms.Textarea(attrs={"rows": 3}) if max_length > 300 else forms.TextInput
    return forms.CharField(label=label, required=required, max_length=max_length,
                           widget=widget)


class SpecForm(forms.Form):
    """A form whose fields come from a `details.Spec` (buildings, houses, units, residency).

    With `instance`, the form edits it: plain fields start with the stored values, encrypted
    ones start empty (masked placeholder) and are kept when left empty."""

    spec: details.Spec = details.BUILDING

    def __init__(self, *args, spec=None, instance=None, extra_fields=None, **kwargs):
        self.spec = spec or self.spec
        self.instance = instance
        initial = kwargs.pop("initial", None) or {}
        encrypted = set()
        if instance is not None:
            stored = getattr(instance, "details", {}) or {}
            for f in self.spec.fields:
                value = getattr(instance, f.name) if f.column else stored.get(f.name)
                if pii.field_kind(type(instance), f.name) is not None and f.column:
                    encrypted.add(f.name)
                    continue
                initial.setdefault(f.name, value)
        super().__init__(*args, initial=initial, **kwargs)
        for name, field in (extra_fields or {}).items():
            self.fields[name] = field
        for f in self.spec.fields:
            field = form_field(f)
            if f.name in encrypted:
                field.required = False
                masked = pii.mask_field(instance, f.name)
                field.widget.attrs["placeholder"] = masked or ""
                if masked:
                    field.help_text = _("Stored: %(masked)s. Leave empty to keep it.") % {
                        "masked": masked}
            self.fields[f.name] = field
        self.encrypted = encrypted

    def data_for_service(self) -> dict:
        """What to send to the service: everything, except encrypted fields left empty."""
        data = {}
        for f in self.spec.fields:
            value = self.cleaned_data.get(f.name)
            if f.name in self.encrypted and value in (None, ""):
                continue
            data[f.name] = value
        return data


class BuildingForm(SpecForm):
    spec = details.BUILDING

    def __init__(self, *args, user=None, **kwargs):
        extra = {} if kwargs.get("instance") else {
            "area": AreaField(label=_("Grid or village/community"), queryset=registry_areas(user))}
        super().__init__(*args, extra_fields=extra, **kwargs)


class HouseForm(SpecForm):
    spec = details.HOUSE

    def __init__(self, *args, user=None, **kwargs):
        instance = kwargs.get("instance")
        extra = {"building": forms.ModelChoiceField(
            label=_("Building"), required=False,
            queryset=Building.objects.restrict(user).active().order_by("estate", "name"))}
        if instance is None:
            extra["area"] = AreaField(label=_("Grid or village/community"), required=False,
                                      queryset=registry_areas(user),
                                      help_text=_("Not needed when a building is chosen."))
        else:
            kwargs.setdefault("initial", {})["building"] = instance.building_id
        super().__init__(*args, extra_fields=extra, **kwargs)


class UnitForm(SpecForm):
    def __init__(self, *args, user=None, kind=None, **kwargs):
        instance = kwargs.get("instance")
        kind = instance.kind if instance is not None else kind
        extra = {} if instance else {
            "area": AreaField(label=_("Grid or village/community"), queryset=registry_areas(user))}
        spec = details.merged(details.UNIT_COMMON, details.UNIT[kind])
        super().__init__(*args, spec=spec, extra_fields=extra, **kwargs)
        self.kind = kind


class ResidencyForm(SpecForm):
    def __init__(self, *args, kind, **kwargs):
        super().__init__(*args, spec=details.RESIDENCY[kind], **kwargs)


# --- persons --------------------------------------------------------------------------------------

PERSON_ENCRYPTED = ("id_number", "phone", "registered_address", "current_address")


class PersonForm(forms.Form):
    """The common block (GB/T 31000 fields 1–19) plus where the person lives."""

    name = forms.CharField(label=_("Name"), max_length=50)
    id_type = forms.ChoiceField(label=_("ID document type"), choices=codes.IdType.choices,
                                initial=codes.RESIDENT_ID)
    id_number = forms.CharField(label=_("ID number"), max_length=30, required=False,
                                help_text=_("Sex and birth date are read from a resident ID "
                                            "number."))
    sex = forms.ChoiceField(label=_("Sex"), choices=code_choices(codes.Sex), required=False)
    birth_date = forms.DateField(label=_("Birth date"), required=False, widget=DATE_WIDGET)
    former_name = forms.CharField(label=_("Former name"), max_length=50, required=False)
    ethnicity = forms.ChoiceField(label=_("Ethnicity"), choices=code_choices(codes.Ethnicity),
                                  required=False)
    phone = forms.CharField(label=_("Contact phone"), max_length=40, required=False,
                            widget=forms.TextInput(attrs={"inputmode": "tel"}))
    native_place = forms.CharField(label=_("Native place (division code)"), max_length=15,
                                   required=False)
    marital_status = forms.ChoiceField(label=_("Marital status"), required=False,
                                       choices=code_choices(codes.MaritalStatus))
    political_status = forms.ChoiceField(label=_("Political status"), required=False,
                                         choices=code_choices(codes.PoliticalStatus))
    education = forms.ChoiceField(label=_("Education"), required=False,
                                  choices=code_choices(codes.Education))
    religion = forms.ChoiceField(label=_("Religion"), required=False,
                                 choices=code_choices(codes.Religion))
    occupation_class = forms.CharField(label=_("Occupation class (GB/T 6565)"), max_length=5,
                                       required=False)
    occupation = forms.CharField(label=_("Occupation"), max_length=30, required=False)
    workplace = forms.CharField(label=_("Workplace"), max_length=100, required=False)
    registered_place = forms.CharField(label=_("Registered place (division code)"),
                                       max_length=15, required=False)
    registered_address = forms.CharField(label=_("Registered address"), max_length=200,
                                         required=False)
    current_address = forms.CharField(label=_("Current address"), max_length=200,
                                      required=False)
    house_relation = forms.ChoiceField(label=_("Lives in the house as"), required=False,
                                       choices=[("", "—"), *HouseRelation.choices])
    lat = forms.DecimalField(label=_("Latitude"), required=False,
                             widget=forms.NumberInput(attrs={"step": "any"}))
    lng = forms.DecimalField(label=_("Longitude"), required=False,
                             widget=forms.NumberInput(attrs={"step": "any"}))
    note = forms.CharField(label=_("Note"), required=False,
                           widget=forms.Textarea(attrs={"rows": 2}))

    field_order = ["area", "house", "name", "id_type", "id_number", "sex", "birth_date"]

    def __init__(self, *args, user=None, instance=None, **kwargs):
        self.instance = instance
        initial = kwargs.pop("initial", None) or {}
        if instance is not None:
            for name in self.base_fields:
                if name not in PERSON_ENCRYPTED:
                    initial.setdefault(name, getattr(instance, name))
            initial.setdefault("house", instance.house_id)
        super().__init__(*args, initial=initial, **kwargs)
        self.fields["house"] = forms.ModelChoiceField(
            label=_("House (record number)"), required=False,
            queryset=House.objects.restrict(user).active(),
            widget=forms.NumberInput, help_text=_("The number shown on the house's page."))
        if instance is None:
            self.fields["area"] = AreaField(label=_("Grid or village/community"),
                                            queryset=registry_areas(user), required=False,
                                            help_text=_("Not needed when a house is given."))
            self.fields["take_over"] = forms.BooleanField(
                label=_("If this person moved here from another area, take over their record"),
                required=False)
        else:
            for name in PERSON_ENCRYPTED:
                masked = pii.mask_field(instance, name)
                self.fields[name].widget.attrs["placeholder"] = masked
                if masked:
                    self.fields[name].help_text = _(
                        "Stored: %(masked)s. Leave empty to keep it.") % {"masked": masked}
        self.order_fields(self.field_order)

    def data_for_service(self) -> dict:
        data = {}
        for name in self.base_fields:
            value = self.cleaned_data.get(name)
            if self.instance is not None and name in PERSON_ENCRYPTED and value in (None, ""):
                continue
            data[name] = value if value is not None else ""
        return data

    def clean(self):
        data = super().clean()
        if self.instance is None and not data.get("area") and not data.get("house"):
            self.add_error("area", _("Choose the grid or village/community, or give the "
                                     "house."))
        return data


class MoveForm(forms.Form):
    area = AreaField(label=_("Moves to (grid or village/community)"), queryset=Area.objects.none())
    house = forms.ModelChoiceField(label=_("House (record number)"), required=False,
                                   queryset=House.objects.none(), widget=forms.NumberInput)
    current_address = forms.CharField(label=_("New current address"), max_length=200,
                                      required=False)

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["area"].queryset = registry_areas(user)
        self.fields["house"].queryset = House.objects.restrict(user).active()


class DeactivateForm(forms.Form):
    reason = forms.ChoiceField(label=_("Reason"), choices=InactiveReason.choices)
    on = forms.DateField(label=_("Inactive since"), required=False, widget=DATE_WIDGET)
    note = forms.CharField(label=_("Note"), max_length=500, required=False)


class SearchForm(forms.Form):
    q = forms.CharField(label=_("Name, ID number or phone"), required=False, max_length=60)
    area = forms.ModelChoiceField(label=_("Area"), required=False, queryset=Area.objects.none())
    kind = forms.ChoiceField(label=_("Residency"), required=False,
                             choices=[("", _("All")), *ResidencyKind.choices])
    status = forms.ChoiceField(label=_("Status"), required=False, choices=[
        ("", _("Active")), ("inactive", _("No longer active")), ("all", _("All"))])

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["area"].queryset = Area.objects.restrict(user).active().filter(
            level__lte=4).order_by("code")
        self.fields["area"].label_from_instance = lambda a: f"{'· ' * a.level}{a.name}"
