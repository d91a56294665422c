from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from zhili.areas.choices import CommunityType, UrbanRural
from zhili.areas.models import Area
from zhili.core.tabular import TableError

DATE = forms.DateInput(attrs={"type": "date"})


class AreaAttributesForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)
    urban_rural = forms.ChoiceField(label=_("Urban-rural class"), required=False,
                                    choices=[("", "—"), *UrbanRural.choices])
    community_type = forms.ChoiceField(label=_("Community type"), required=False,
                                       choices=[("", "—"), *CommunityType.choices])
    center_lng = forms.DecimalField(label=_("Centre longitude"), required=False,
                                    max_digits=9, decimal_places=6)
    center_lat = forms.DecimalField(label=_("Centre latitude"), required=False,
                                    max_digits=9, decimal_places=6)
    polygon = forms.CharField(label=_("Boundary (GeoJSON)"), required=False,
                              widget=forms.Textarea(attrs={"rows": 4, "class": "font-monospace"}))

    def __init__(self, *args, level: int, **kwargs):
        super().__init__(*args, **kwargs)
        if level != 4:
            del self.fields["community_type"]


class AreaCreateForm(AreaAttributesForm):
    code = forms.CharField(label=_("Code"), max_length=15, required=False,
                           help_text=_("The statistical division code; leave empty for a grid "
                                       "to take the next free number."))
    valid_from = forms.DateField(label=_("Valid from"), widget=DATE, initial=timezone.localdate)
    field_order = ["code", "name"]


class ChangeForm(forms.Form):
    effective_on = forms.DateField(label=_("Effective on"), widget=DATE,
                                   initial=timezone.localdate)
    note = forms.CharField(label=_("Reason / document number"), max_length=500, required=False)


class MergeForm(ChangeForm):
    target = forms.ModelChoiceField(label=_("Merge into"), queryset=Area.objects.none())
    field_order = ["target", "effective_on", "note"]

    def __init__(self, *args, targets, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["target"].queryset = targets


class RecodeForm(ChangeForm):
    new_code = forms.CharField(label=_("New code"), max_length=15)
    new_parent = forms.ModelChoiceField(label=_("New parent (optional)"), required=False,
                                        queryset=Area.objects.none())
    field_order = ["new_code", "new_parent", "effective_on", "note"]

    def __init__(self, *args, parents, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["new_parent"].queryset = parents


class SplitForm(ChangeForm):
    """Two or more new areas; every current sub-area is assigned to one of them."""

    def __init__(self, *args, children, parts: int, **kwargs):
        super().__init__(*args, **kwargs)
        self.part_count = parts
        choices = [(str(i), _("New area %(n)d") % {"n": i + 1}) for i in range(parts)]
        for i in range(parts):
            self.fields[f"name_{i}"] = forms.CharField(
                label=_("New area %(n)d: name") % {"n": i + 1}, max_length=100)
            self.fields[f"code_{i}"] = forms.CharField(
                label=_("New area %(n)d: code") % {"n": i + 1}, max_length=15)
        self.children = list(children)
        for child in self.children:
            self.fields[f"child_{child.pk}"] = forms.ChoiceField(
                label=f"{child.name} ({child.short_code})", choices=choices)

    def part_fields(self):
        return [(self[f"name_{i}"], self[f"code_{i}"]) for i in range(self.part_count)]

    def child_fields(self):
        return [self[f"child_{c.pk}"] for c in self.children]


class ImportForm(forms.Form):
    file = forms.FileField(label=_("File (CSV in UTF-8 or GB18030, or XLSX)"))
    dry_run = forms.BooleanField(label=_("Dry run: check only, write nothing"), required=False,
                                 initial=True)

    def clean_file(self):
        from django.conf import settings

        upload = self.cleaned_data["file"]
        if upload.size > settings.ZHILI_MAX_UPLOAD_MB * 1024 * 1024:
            raise forms.ValidationError(str(TableError(_("The file is larger than %(n)d MB.")
                                                       % {"n": settings.ZHILI_MAX_UPLOAD_MB})))
        if not upload.name.lower().endswith((".csv", ".xlsx", ".txt")):
            raise forms.ValidationError(_("Upload a .csv or .xlsx file."))
        return upload
