from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from zhili.areas.models import Area
from zhili.core.forms import MultipleFileField
from zhili.events.choices import Urgency
from zhili.events.models import EventCategory, RoutingRule, SLARule
from zhili.orgs.models import Organisation


class AreaField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.short_code} {obj.name}"


class ReportForm(forms.Form):
    category = forms.ModelChoiceField(label=_("Category"),
                                      queryset=EventCategory.objects.active().filter(
                                          parent__isnull=False))
    title = forms.CharField(label=pgettext_lazy("event", "Title"), max_length=120,
                            required=False)
    description = forms.CharField(label=_("Description"), widget=forms.Textarea(
        attrs={"rows": 3}))
    urgency = forms.ChoiceField(label=_("Urgency"), required=False,
                                choices=[("", _("Category default")), *Urgency.choices])
    area = AreaField(label=_("Area (grid or village)"), required=False,
                     queryset=Area.objects.none())
    lat = forms.DecimalField(label=_("Latitude"), required=False, max_digits=9,
                             decimal_places=6, widget=forms.NumberInput(attrs={"step": "any"}))
    lng = forms.DecimalField(label=_("Longitude"), required=False, max_digits=9,
                             decimal_places=6, widget=forms.NumberInput(attrs={"step": "any"}))
    address = forms.CharField(label=_("Address"), max_length=200, required=False)
    reporter_name = forms.CharField(label=_("Reporter / caller"), max_length=60, required=False)
    reporter_contact = forms.CharField(label=_("Contact phone"), max_length=40, required=False)
    people = forms.CharField(label=_("People involved"), required=False,
                             widget=forms.Textarea(attrs={"rows": 2}),
                             help_text=_("One per line: name, phone (optional)"))
    photos = MultipleFileField(label=_("Photos"), required=False)
    solved_on_spot = forms.BooleanField(label=_("Solved on the spot (closes it now; needs a "
                                                "photo)"), required=False)

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        if user is not None:
            self.fields["area"].queryset = Area.objects.restrict(user).active().filter(
                level__gte=4).order_by("code")

    def clean(self):
        data = super().clean()
        if data.get("lat") is None and data.get("lng") is None and not data.get("area"):
            self.add_error("area", _("Give the location on the map or choose the area."))
        if (data.get("lat") is None) != (data.get("lng") is None):
            self.add_error("lat", _("Give both latitude and longitude, or neither."))
        return data

    def people_list(self):
        from zhili.events.services import Person

        people = []
        for line in (self.cleaned_data.get("people") or "").splitlines():
            parts = [p.strip() for p in line.replace("，", ",").split(",")]
            if parts and parts[0]:
                people.append(Person(name=parts[0], contact=parts[1] if len(parts) > 1 else ""))
        return people


class RoutingRuleForm(forms.ModelForm):
    class Meta:
        model = RoutingRule
        fields = ["area", "category", "lead_org", "assist_orgs", "note", "is_active"]

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["area"] = AreaField(label=_("Area"), queryset=Area.objects.restrict(
            user).active().filter(level__lte=4).order_by("code"))
        orgs = Organisation.objects.restrict(user).active().order_by("area_code", "name")
        self.fields["lead_org"].queryset = orgs
        self.fields["assist_orgs"].queryset = orgs
        self.fields["category"].queryset = EventCategory.objects.active().filter(
            parent__isnull=False)


class CategoryForm(forms.ModelForm):
    class Meta:
        model = EventCategory
        fields = ["code", "name", "parent", "description", "keywords", "default_urgency",
                  "handling_level", "is_public", "is_active", "dup_radius_m", "dup_hours"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["parent"].queryset = EventCategory.objects.filter(parent__isnull=True)


class SLARuleForm(forms.ModelForm):
    class Meta:
        model = SLARule
        fields = ["category", "urgency", "step", "amount", "unit"]


class ImportForm(forms.Form):
    file = forms.FileField(label=_("Hotline tickets (CSV in UTF-8 or GB18030, or XLSX)"))

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if not upload.name.lower().endswith((".csv", ".xlsx", ".txt")):
            raise forms.ValidationError(_("Upload a .csv or .xlsx file."))
        return upload
