"""`{% load pii %}` … `{% pii person "id_number" %}`: personal data masked by default.

The value is shown in clear only while the current user holds an active unmask grant for
that object and field (`zhili.core.unmask.active_fields`); otherwise it is masked by its kind
(ID number, phone, address, a person's name). Other fields are shown as they are. A path
through a relation works too: `{% pii supervision "person.id_number" %}`.
"""

from __future__ import annotations

from django import template

from zhili.core.pii.masking import mask_field
from zhili.core.unmask import active_fields, can_unmask, read

register = template.Library()


def _user(context):
    user = context.get("user")
    if user is None and context.get("request") is not None:
        user = getattr(context["request"], "user", None)
    return user


@register.simple_tag(takes_context=True)
def pii(context, obj, field_name):
    """`obj.field_name`, in clear when unmasked for the current user, masked otherwise."""
    if obj is None:
        return ""
    if field_name in active_fields(_user(context), obj):
        value = read(obj, field_name)
        return "" if value is None else str(value)
    return mask_field(obj, field_name)


@register.simple_tag(takes_context=True)
def pii_unmask_url(context, obj, fields=""):
    """The unmask form of `obj` (returning to the current page), or "" when the current user
    may not unmask it: `{% pii_unmask_url person "id_number,phone" as url %}{% if url %}…`."""
    from django.urls import reverse
    from django.utils.http import urlencode

    user = _user(context)
    if obj is None or getattr(obj, "pk", None) is None or not can_unmask(user, obj):
        return ""
    url = reverse("core:unmask", args=[obj._meta.app_label, obj._meta.model_name, obj.pk])
    query = {}
    request = context.get("request")
    if request is not None:
        query["next"] = request.get_full_path()
    if fields:
        query["fields"] = fields
    return f"{url}?{urlencode(query)}" if query else url
