"""The compliance rate as the supervision pages show it, written in Python: a report page shows
hundreds of rates, and an `{% include %}` per rate cost more than the report's queries."""

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

register = template.Library()


def rate_html(value, drop=None) -> SafeString:
    """A rate in percent (floored, see reports.rate): red below 100 %, green at 100 %, a dash
    without parcels; `drop` adds a badge with the points lost against the previous period."""
    if value is None:
        html = mark_safe('<span class="text-muted">—</span>')
    else:
        text = f"{value:.2f}".removesuffix(".00")
        html = (format_html('<span class="text-danger fw-semibold" data-below="1">{}%</span>',
                            text) if value < 100
                else format_html('<span class="text-success">{}%</span>', text))
    if drop:
        html += format_html(' <span class="badge text-bg-warning" title="{}">↓{}</span>',
                            _("Points lost against the previous period"), drop)
    return html


register.simple_tag(rate_html, name="rate")
