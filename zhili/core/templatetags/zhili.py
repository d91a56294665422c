from django import forms, template
from django.utils.http import urlencode

register = template.Library()


@register.filter
def bs(bound_field):
    """Render a form field's widget with Bootstrap classes (and the invalid state)."""
    widget = bound_field.field.widget
    if isinstance(widget, forms.CheckboxInput | forms.RadioSelect |
                  forms.CheckboxSelectMultiple):
        css = "form-check-input"
    elif isinstance(widget, forms.Select | forms.SelectMultiple):
        css = "form-select"
    else:
        css = "form-control"
    if bound_field.errors:
        css += " is-invalid"
    return bound_field.as_widget(attrs={"class": css})


@register.filter
def is_checkbox(bound_field):
    return isinstance(bound_field.field.widget, forms.CheckboxInput)


@register.simple_tag(takes_context=True)
def page_url(context, page_number):
    query = context.get("querystring", "")
    base = urlencode({"page": page_number})
    return f"?{query}&{base}" if query else f"?{base}"
