from django import forms
from django.utils.translation import gettext_lazy as _

from zhili.areas.models import Area
from zhili.orgs.choices import OrgKind
from zhili.orgs.models import Organisation


class AreaChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.short_code} {obj.name}"


class OrganisationForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    short_name = forms.CharField(label=_("Short name"), max_length=60, required=False)
    kind = forms.ChoiceField(label=_("Kind"), choices=OrgKind.choices)
    area = AreaChoiceField(label=_("Area"), queryset=Area.objects.none())
    parent = forms.ModelChoiceField(label=_("Parent organisation"), required=False,
                                    queryset=Organisation.objects.none())
    uscc = forms.CharField(label=_("Unified social credit code"), max_length=18, required=False)
    address = forms.CharField(label=_("Address"), max_length=200, required=False)
    phone = forms.CharField(label=_("Office phone"), max_length=40, required=False)

    def __init__(self, *args, areas, parents, **kwargs):
        super().__init__(*args, **kwargs)
        # Up to town level in the select; deeper areas are picked via the ?area= link.
        self.fields["area"].queryset = areas
        self.fields["parent"].queryset = parents


class OrganisationFilterForm(forms.Form):
    q = forms.CharField(label=_("Name"), required=False)
    kind = forms.ChoiceField(label=_("Kind"), required=False, choices=[("", _("All kinds")),
                                                                      *OrgKind.choices])
    area = forms.CharField(label=_("Area code"), required=False)
    inactive = forms.BooleanField(label=_("Include closed"), required=False)
