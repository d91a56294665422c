"""Forms of the registry pages (companies, outlets, staff, imports). They collect; the
services in `registry` judge, and their field-level messages come back onto the form.

Edit forms never put personal data in clear into the page: phone and ID number start empty
with the masked value as placeholder, and a field left empty keeps what is stored.
"""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from zhili.areas.models import Area
from zhili.core import pii
from zhili.core.forms import FastSelectsMixin
from zhili.delivery import codetables
from zhili.delivery.choices import StaffDuty
from zhili.delivery.models import CourierCompany, Outlet
from zhili.orgs.models import Organisation

DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
COORDINATE = forms.NumberInput(attrs={"step": "any"})
XLSX_OR_CSV = (".csv", ".xlsx", ".xls", ".txt")
SKIP, UPDATE = "skip", "update"


def table_choices(table: dict) -> list[tuple[str, str]]:
    # The standard's names are the codes' official wording (Chinese, as printed).
    return [("", "—"), *((code, f"{code} {name}") for code, name in table.items())]


class AreaField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.short_code} {obj.name}"


class CompanyField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.brand} · {obj.org.name}"


class OutletField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.org.name} ({obj.code})"


class _MaskedPersonalData:
    """Encrypted fields of an edit form: empty, with the stored value masked as placeholder;
    left empty, the stored value stays (the view sends only changed fields)."""

    personal_fields: tuple[str, ...] = ()

    def mask_personal(self, instance) -> None:
        for name in self.personal_fields:
            stored = getattr(instance, name, None) if instance is not None else None
            if stored:
                field = self.fields[name]
                field.required = False
                field.widget.attrs["placeholder"] = pii.mask_field(instance, name)
                field.help_text = _("Leave empty to keep the registered value.")


class CompanyForm(FastSelectsMixin, _MaskedPersonalData, forms.Form):
    org = forms.ModelChoiceField(
        label=_("Existing organisation"), required=False, queryset=Organisation.objects.none(),
        help_text=_("If the company is already an organisation of the kind courier company, "
                    "choose it: its name, area and credit code are used unless you change "
                    "them."))
    name = forms.CharField(label=_("Company name"), max_length=200, required=False)
    uscc = forms.CharField(label=_("Unified social credit code"), max_length=24,
                           required=False)
    brand = forms.CharField(label=_("Service brand"), max_length=50,
                            help_text=_("The brand the public knows, e.g. 顺丰, 中通."))
    area = AreaField(label=_("Area"), required=False, queryset=Area.objects.none())
    address = forms.CharField(label=_("Address"), max_length=200, required=False)
    licence_no = forms.CharField(label=_("Courier business licence"), max_length=40,
                                 required=False)
    registration_type = forms.ChoiceField(label=_("Registration type (5.51)"), required=False,
                                          choices=table_choices(codetables.REGISTRATION_TYPES))
    holding = forms.ChoiceField(label=_("Holding (5.52)"), required=False,
                                choices=table_choices(codetables.HOLDINGS))
    business_scope = forms.MultipleChoiceField(
        label=_("Business scope (5.53)"), required=False,
        choices=list(codetables.BUSINESS_SCOPES.items()),
        widget=forms.CheckboxSelectMultiple(attrs={"class": "form-check-input"}))
    enterprise_type = forms.ChoiceField(label=_("Enterprise type (5.54)"), required=False,
                                        choices=table_choices(codetables.ENTERPRISE_TYPES))
    person_in_charge = forms.CharField(label=_("Person in charge"), max_length=50,
                                       required=False)
    phone = forms.CharField(label=_("Contact phone"), max_length=40, required=False,
                            widget=forms.TextInput(attrs={"inputmode": "tel"}))

    personal_fields = ("phone",)

    def __init__(self, *args, areas, orgs=None, instance=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["area"].queryset = areas
        if orgs is None:
            del self.fields["org"]
        else:
            self.fields["org"].queryset = orgs
        self.mask_personal(instance)


class OutletForm(FastSelectsMixin, _MaskedPersonalData, forms.Form):
    company = CompanyField(label=_("Company"), queryset=CourierCompany.objects.none())
    code = forms.CharField(label=_("Outlet code"), max_length=60,
                           help_text=_("The company's own code for the outlet, used in its "
                                       "data feeds."))
    name = forms.CharField(label=_("Outlet name"), max_length=200)
    area = AreaField(label=_("Area"), queryset=Area.objects.none(),
                     help_text=_("The town/street (or a smaller area) the outlet is in."))
    licence_no = forms.CharField(label=_("Licence or filing number"), max_length=40,
                                 required=False)
    address = forms.CharField(label=_("Address"), max_length=200, required=False)
    person_in_charge = forms.CharField(label=_("Person in charge"), max_length=50,
                                       required=False)
    phone = forms.CharField(label=_("Contact phone"), max_length=40, required=False,
                            widget=forms.TextInput(attrs={"inputmode": "tel"}))
    lat = forms.DecimalField(label=_("Latitude"), required=False, widget=COORDINATE)
    lng = forms.DecimalField(label=_("Longitude"), required=False, widget=COORDINATE)

    personal_fields = ("phone",)

    def __init__(self, *args, areas, companies=None, instance=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["area"].queryset = areas
        if companies is None:  # editing: an outlet stays with its company
            del self.fields["company"]
        else:
            self.fields["company"].queryset = companies.select_related("org")
        self.mask_personal(instance)


class StaffForm(FastSelectsMixin, _MaskedPersonalData, forms.Form):
    outlet = OutletField(label=_("Outlet"), queryset=Outlet.objects.none())
    name = forms.CharField(label=_("Name"), max_length=50)
    id_number = forms.CharField(label=_("ID number"), max_length=30)
    phone = forms.CharField(label=_("Phone"), max_length=40, required=False,
                            widget=forms.TextInput(attrs={"inputmode": "tel"}))
    duty = forms.ChoiceField(label=_("Duty"), choices=StaffDuty.choices)
    background_checked_on = forms.DateField(label=_("Background checked on"), required=False,
                                            widget=DATE_WIDGET)
    trained_on = forms.DateField(label=_("Trained on"), required=False, widget=DATE_WIDGET)

    personal_fields = ("id_number", "phone")

    def __init__(self, *args, outlets, instance=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["outlet"].queryset = outlets.select_related("org")
        self.mask_personal(instance)


# --- list filters --------------------------------------------------------------------------------

class CompanyFilterForm(forms.Form):
    q = forms.CharField(label=_("Name, brand or credit code"), required=False)
    area = forms.RegexField(label=_("Area code"), required=False, regex=r"^\d{1,15}$")
    inactive = forms.BooleanField(label=_("Include closed"), required=False)


class OutletFilterForm(FastSelectsMixin, forms.Form):
    q = forms.CharField(label=_("Name or outlet code"), required=False)
    company = forms.ModelChoiceField(label=_("Company"), required=False,
                                     queryset=CourierCompany.objects.none(),
                                     empty_label=_("All companies"))
    area = forms.RegexField(label=_("Area code"), required=False, regex=r"^\d{1,15}$")
    inactive = forms.BooleanField(label=_("Include closed"), required=False)

    def __init__(self, *args, companies, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["company"].queryset = companies


class StaffFilterForm(FastSelectsMixin, forms.Form):
    q = forms.CharField(label=_("Name"), required=False)
    id_number = forms.CharField(label=_("ID number (exact)"), required=False, max_length=30)
    duty = forms.ChoiceField(label=_("Duty"), required=False,
                             choices=[("", _("Any duty")), *StaffDuty.choices])
    missing = forms.ChoiceField(label=_("Missing"), required=False, choices=[
        ("", "—"), ("background", _("No background check")),
        ("training", _("No training"))])
    outlet = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)
    inactive = forms.BooleanField(label=_("Include those who left"), required=False)


# --- imports -------------------------------------------------------------------------------------

DUPLICATE_CHOICES = [(SKIP, _("Skip them (keep what is registered)")),
                     (UPDATE, _("Update them with the non-empty cells of the file"))]


class ImportOptionsForm(forms.Form):
    strict = forms.BooleanField(
        label=_("All or nothing"), required=False, initial=True,
        help_text=_("If any row is wrong, nothing is written. Untick to import the valid rows "
                    "and leave the wrong ones out."))
    on_duplicate = forms.ChoiceField(label=_("Records already registered"),
                                     choices=DUPLICATE_CHOICES, initial=SKIP,
                                     widget=forms.RadioSelect)


class ImportForm(ImportOptionsForm):
    file = forms.FileField(label=_("File (Excel .xlsx, or CSV in UTF-8 or GB18030/GBK)"))
    company = CompanyField(
        label=_("Company"), required=False, queryset=CourierCompany.objects.none(),
        help_text=_("For a file of one company: its rows may leave the company column "
                    "empty."))
    field_order = ["file", "company", "strict", "on_duplicate"]

    def __init__(self, *args, companies, max_mb: int, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["company"].queryset = companies.select_related("org")
        self.max_mb = max_mb

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > self.max_mb * 1024 * 1024:
            raise forms.ValidationError(_("The file is larger than %(n)d MB: split it.")
                                        % {"n": self.max_mb})
        if not upload.name.lower().endswith(XLSX_OR_CSV):
            raise forms.ValidationError(_("Upload an Excel (.xlsx) or CSV file."))
        return upload
