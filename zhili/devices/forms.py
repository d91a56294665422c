"""Forms of the device pages: they collect, the services judge."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from zhili.areas.models import Area
from zhili.core.forms import FastSelectsMixin
from zhili.devices.choices import DeviceKind, DeviceStatus
from zhili.devices.models import Device
from zhili.orgs.models import Organisation

DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
COORDINATE = forms.NumberInput(attrs={"step": "any"})


class AreaField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.short_code} {obj.name}"


class DeviceForm(FastSelectsMixin, forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=DeviceKind.choices)
    code = forms.CharField(
        label=_("Device code"), max_length=60,
        help_text=_("Cameras, recorders and gates: the 20-digit GB/T 28181 code. X-ray "
                    "machines: the maker's serial number, as the courier feeds quote it."))
    name = forms.CharField(label=_("Name"), max_length=100)
    org = forms.ModelChoiceField(label=_("Organisation"), required=False,
                                 queryset=Organisation.objects.none(),
                                 help_text=_("Where the device is installed, e.g. a courier "
                                             "outlet; leave empty for a street camera."))
    area = AreaField(label=_("Area"), required=False, queryset=Area.objects.none(),
                     help_text=_("Left empty: the organisation's area."))
    parent = forms.ModelChoiceField(label=_("Recorder"), required=False,
                                    queryset=Device.objects.none(),
                                    help_text=_("For a camera: the recorder (NVR) it is a "
                                                "channel of."))
    manufacturer = forms.CharField(label=_("Manufacturer"), max_length=60, required=False)
    model = forms.CharField(label=_("Model"), max_length=60, required=False)
    address = forms.CharField(label=_("Installed at"), max_length=200, required=False)
    lat = forms.DecimalField(label=_("Latitude"), required=False, widget=COORDINATE)
    lng = forms.DecimalField(label=_("Longitude"), required=False, widget=COORDINATE)
    status = forms.ChoiceField(label=_("Status"), choices=DeviceStatus.choices,
                               initial=DeviceStatus.ONLINE)
    installed_on = forms.DateField(label=_("Installed on"), required=False, widget=DATE_WIDGET)

    def __init__(self, *args, areas, orgs, recorders, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["area"].queryset = areas
        self.fields["org"].queryset = orgs
        self.fields["parent"].queryset = recorders


class DeviceFilterForm(FastSelectsMixin, forms.Form):
    q = forms.CharField(label=_("Name or code"), required=False)
    kind = forms.ChoiceField(label=_("Kind"), required=False,
                             choices=[("", _("All kinds")), *DeviceKind.choices])
    status = forms.ChoiceField(label=_("Status"), required=False,
                               choices=[("", _("Any status")), *DeviceStatus.choices])
    area = forms.RegexField(label=_("Area code"), required=False, regex=r"^\d{1,15}$",
                            error_messages={"invalid": _("Digits of an area code.")})
    org = forms.IntegerField(label=_("Organisation"), required=False, min_value=1,
                             widget=forms.HiddenInput)
