"""The rows of the case list, written in Python.

Fifty rows of a dozen template variables each are most of the list page's time when the
template engine renders them (variable lookups, escaping, a `{% url %}` and two date filters per
row); the same markup from `format_html` costs a fraction of that. The list's p99 is a
benchmark target (a body's case list at 300,000 cases)."""

from __future__ import annotations

from django import template
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

register = template.Library()

BADGES = {"closed": "secondary", "rejected": "light", "registered": "info"}


@register.simple_tag
def dispute_rows(rows):
    if not rows:
        return format_html('<tr><td colspan="8" class="text-muted">{}</td></tr>',
                           _("Nothing here."))
    zone = timezone.get_default_timezone()
    detail = reverse("disputes:detail", args=[0])[:-2]  # ".../0/" → the prefix
    group = format_html(' <span class="badge text-bg-warning">{}</span>', _("Group"))
    risk = format_html(' <span class="badge text-bg-danger" title="{}"><i class="bi '
                       'bi-exclamation-triangle"></i></span>',
                       _("May intensify or affect stability"))
    supervised = format_html(' <span class="badge text-bg-dark">{}</span>', _("Supervised"))
    overdue_badge = format_html(' <span class="badge text-bg-danger">{}</span>', _("Overdue"))
    out = []
    for d in rows:
        css = "table-danger" if d.overdue else "table-warning" if d.warned and \
            d.deadline_at else ""
        flags = mark_safe((group if d.is_group else "")  # noqa: S308  (format_html pieces)
                          + (risk if d.may_intensify or d.stability_risk else "")
                          + (supervised if d.supervised else ""))
        if d.deadline_at:
            deadline = format_html('<span class="{}">{}</span>{}',
                                   "text-danger fw-bold" if d.overdue else "",
                                   d.deadline_at.astimezone(zone).strftime("%m-%d %H:%M"),
                                   overdue_badge if d.overdue else "")
        else:
            deadline = "—"
        out.append(format_html(
            '<tr class="{}"><td class="text-nowrap"><a href="{}{}/">{}</a></td>'
            "<td>{}{}</td><td>{}</td><td>{}</td><td>{}</td>"
            '<td class="text-nowrap"><span class="badge text-bg-{}">{}</span></td>'
            '<td class="text-nowrap">{}</td><td class="text-nowrap">{}</td></tr>',
            css, detail, d.pk, d.number or "", d.title, flags, d.type_display(),
            d.area.name if d.area_id else "", d.body.org.name if d.body_id else "—",
            BADGES.get(d.state, "primary"), d.get_state_display(), deadline,
            d.registered_at.astimezone(zone).strftime("%Y-%m-%d")))
    return mark_safe("\n".join(out))  # noqa: S308  (every row built by format_html)

