from django import forms
from django.utils.translation import gettext_lazy as _

from zhili.accounts.models import Role
from zhili.areas.models import Area
from zhili.orgs.models import Organisation


class LoginForm(forms.Form):
    username = forms.CharField(label=_("User name"), max_length=150,
                               widget=forms.TextInput(attrs={"autofocus": True,
                                                             "autocomplete": "username"}))
    password = forms.CharField(label=_("Password"), strip=False,
                               widget=forms.PasswordInput(attrs={"autocomplete":
                                                                 "current-password"}))


class AreaField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.short_code} {obj.name}"


class PositionFields(forms.Form):
    role = forms.ModelChoiceField(label=_("Role"), queryset=Role.objects.all())
    area = AreaField(label=_("Area"), queryset=Area.objects.none())
    org = forms.ModelChoiceField(label=_("Organisation"), required=False,
                                 queryset=Organisation.objects.none())
    title = forms.CharField(label=_("Title"), max_length=60, required=False)

    def __init__(self, *args, areas, orgs, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["area"].queryset = areas
        self.fields["org"].queryset = orgs
        self.fields["role"].queryset = Role.objects.exclude(code="api_client")


class UserCreateForm(PositionFields):
    username = forms.CharField(label=_("User name"), max_length=150)
    display_name = forms.CharField(label=_("Full name"), max_length=60, required=False)
    email = forms.EmailField(label=_("Email"), required=False)
    password = forms.CharField(label=_("Initial password"), strip=False,
                               widget=forms.PasswordInput(render_value=True))
    field_order = ["username", "display_name", "email", "password", "role", "area", "org",
                   "title"]


class UserEditForm(forms.Form):
    display_name = forms.CharField(label=_("Full name"), max_length=60, required=False)
    email = forms.EmailField(label=_("Email"), required=False)


class PasswordResetForm(forms.Form):
    password = forms.CharField(label=_("New password"), strip=False,
                               widget=forms.PasswordInput)


class OwnPasswordForm(forms.Form):
    old_password = forms.CharField(label=_("Current password"), strip=False,
                                   widget=forms.PasswordInput)
    new_password = forms.CharField(label=_("New password"), strip=False,
                                   widget=forms.PasswordInput)


class UserFilterForm(forms.Form):
    q = forms.CharField(label=_("Name"), required=False)
    role = forms.ModelChoiceField(label=_("Role"), required=False, queryset=Role.objects.all(),
                                  empty_label=_("All roles"))
    inactive = forms.BooleanField(label=_("Include deactivated"), required=False)


class ApiKeyForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100,
                           help_text=_("The system that will use the key, e.g. 顺丰 parcel feed."))
