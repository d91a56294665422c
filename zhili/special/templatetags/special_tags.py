from django import template

register = template.Library()


@register.filter
def get_item(mapping, key):
    """`{{ people|get_item:row.pk }}`: look a row's prepared (masked) values up by key."""
    try:
        return mapping.get(key)
    except AttributeError:
        return None


@register.filter
def percent(value):
    return "—" if value is None else f"{value}%"
