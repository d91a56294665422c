"""The 整改通知书 (rectification order) as Word and PDF, generated on demand from the order.

Nothing is stored: the figures are the order's own snapshot, so the document reads the same
whenever it is made. Downloads are audited (who took an official notice, and when). The Word
document comes from the default template next to this module (order_template.docx), the PDF
from templates/documents/rectification_order.html; both take `order_context()`:

    number        order number, e.g. "通邮整改〔2026〕第3号"
    outlet_name   the outlet's organisation name
    outlet_code   the company's code of the outlet
    outlet_address
    company_name
    period        "2026年3月1日至2026年3月31日" (one day: "2026年3月5日")
    figures       list of {name, required, done, rate} for 实名收寄, 开箱验视, 过机安检
    parcels       parcels taken in during the period
    flagged       parcels whose goods matched the prohibited-goods list
    findings      what was found (multi-line)
    legal_basis   the provisions the order rests on
    requirements  what must be done (multi-line)
    deadline      date string (年月日) by which to answer
    authority     the issuing authority
    issued_on     date string (年月日)
"""

from __future__ import annotations

from pathlib import Path

from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _

from zhili.core import audit
from zhili.core.documents import render_docx, render_pdf
from zhili.core.scoping import require
from zhili.core.services import ServiceError
from zhili.delivery.models import RectificationOrder

DEFAULT_TEMPLATE = Path(__file__).with_name("order_template.docx")
PDF_TEMPLATE = "documents/rectification_order.html"
CONTENT_TYPES = {
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "pdf": "application/pdf",
}
# The document's wording, not UI text: it is an official Chinese document in every language.
LEGAL_BASIS = ("《快递暂行条例》第二十二条、第三十一条、第三十二条，"
               "《中华人民共和国反恐怖主义法》第二十条")
RULES = (("real_name", "实名收寄"), ("inspected", "开箱验视"), ("xrayed", "过机安检"))


def _date(value) -> str:
    if value is None:
        return ""
    if hasattr(value, "tzinfo"):
        value = timezone.localtime(value).date()
    return f"{value.year}年{value.month}月{value.day}日"


def _rate(value) -> str:
    return "—" if value is None else f"{value:g}%"


def order_context(order: RectificationOrder) -> dict:
    outlet = order.outlet
    figures = order.figures or {}
    parcels = int(figures.get("parcels") or 0)
    rows = [{"name": label, "required": parcels, "done": int(figures.get(key) or 0),
             "rate": _rate(figures.get(f"{key}_rate"))} for key, label in RULES]
    return {
        "number": order.number or "",
        "outlet_name": outlet.org.name,
        "outlet_code": outlet.code,
        "outlet_address": outlet.address,
        "company_name": outlet.company.org.name,
        "period": _date(order.period_start) if order.period_start == order.period_end
        else f"{_date(order.period_start)}至{_date(order.period_end)}",
        "figures": rows,
        "parcels": parcels,
        "flagged": int(figures.get("flagged") or 0),
        "findings": order.findings,
        "legal_basis": LEGAL_BASIS,
        "requirements": order.requirements,
        "deadline": _date(order.deadline_at) if order.deadline_at else "",
        "authority": figures.get("authority") or "",
        "issued_on": _date(order.issued_at),
    }


def render_order(order: RectificationOrder, fmt: str) -> bytes:
    context = order_context(order)
    if fmt == "docx":
        return render_docx(DEFAULT_TEMPLATE, context)
    return render_pdf(render_to_string(PDF_TEMPLATE, context))


def download_order(*, actor, order: RectificationOrder, fmt: str) -> tuple[bytes, str, str]:
    """(content, filename, content type) of the order's notice; the download is audited."""
    if fmt not in CONTENT_TYPES:
        raise ServiceError("not_found", _("Choose Word (docx) or PDF."), status=404)
    require(actor, RectificationOrder, "view")
    order = RectificationOrder.objects.select_related("outlet__org", "outlet__company__org").get(
        pk=order.pk)
    content = render_order(order, fmt)
    audit.record(actor=actor, action="delivery.order.download", target=order,
                 changes={"format": fmt, "number": order.number})
    return content, f"{order.number or order.pk}.{fmt}", CONTENT_TYPES[fmt]
