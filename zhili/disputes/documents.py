"""The 调解协议书 as Word and PDF, generated on demand from the case.

Nothing is stored: the document carries the parties' ID numbers in clear (the law requires
their basic situation), so it is made when asked for, by someone allowed to, and the download
is audited. The body's own Word template is used when it has uploaded one.
"""

from __future__ import annotations

from pathlib import Path

from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _

from zhili.core import audit
from zhili.core.documents import MEDIATION_AGREEMENT_FIELDS, render_docx, render_pdf
from zhili.core.scoping import require
from zhili.core.services import ServiceError
from zhili.disputes.choices import AgreementForm
from zhili.disputes.models import Agreement, Dispute

DEFAULT_TEMPLATE = Path(__file__).with_name("agreement_template.docx")
TEMPLATE_VARIABLES = MEDIATION_AGREEMENT_FIELDS
CONTENT_TYPES = {
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "pdf": "application/pdf",
}


def _date(value) -> str:
    return f"{value.year}年{value.month}月{value.day}日" if value else ""


def agreement_context(agreement: Agreement) -> dict:
    """The context contract of zhili.core.documents for one agreement."""
    from zhili.people.codes import Ethnicity, IdType, Sex

    dispute = agreement.dispute
    parties = []
    for party in dispute.parties.all():
        parties.append({
            "side": party.side_title, "name": party.name, "kind": party.kind,
            "sex": Sex.standard_name(party.sex) if party.sex else "",
            "ethnicity": Ethnicity.standard_name(party.ethnicity) if party.ethnicity else "",
            "birth_date": _date(party.birth_date),
            "id_type": IdType.standard_name(party.id_type) if party.id_type else "",
            "id_number": party.id_number or party.uscc or "",
            "address": party.address or "", "contact": party.phone or "",
            "representative": party.representative,
        })
    mediators = [m.name for m in dispute.mediators.all()]
    return {
        "number": agreement.number, "body_name": str(dispute.body) if dispute.body else "",
        "case_number": dispute.number, "parties": parties, "facts": agreement.facts,
        "issues": agreement.issues, "responsibilities": agreement.responsibilities,
        "terms": list(agreement.terms),
        "performance": {"method": agreement.performance_method,
                        "place": agreement.performance_place,
                        "deadline": _date(agreement.performance_due)},
        "mediators": mediators, "place": agreement.place or dispute.place,
        "signed_on": _date(agreement.effective_on or timezone.localdate()),
        "copies": agreement.copies,
    }


def render_agreement(agreement: Agreement, fmt: str) -> bytes:
    context = agreement_context(agreement)
    if fmt == "docx":
        body = agreement.dispute.body
        template = DEFAULT_TEMPLATE
        if body is not None and body.agreement_template:
            with body.agreement_template.open("rb") as handle:
                template = handle.read()
        return render_docx(template, context)
    return render_pdf(render_to_string("documents/mediation_agreement.html", context))


def download_agreement(*, actor, dispute: Dispute, fmt: str) -> tuple[bytes, str, str]:
    """(content, filename, content type) of the case's current written agreement; audited,
    because the document holds the parties' identity numbers in clear."""
    if fmt not in CONTENT_TYPES:
        raise ServiceError("invalid", _("Choose Word (docx) or PDF."), status=404)
    require(actor, Dispute, "view")
    agreement = dispute.current_agreement()
    if agreement is None or agreement.form != AgreementForm.WRITTEN:
        raise ServiceError("not_found", _("This case has no written agreement."), status=404)
    content = render_agreement(agreement, fmt)
    audit.record(actor=actor, action="dispute.agreement.download", target=dispute,
                 area_code=dispute.area_code, changes={"format": fmt,
                                                       "agreement": agreement.number})
    return content, f"{agreement.number or dispute.number}.{fmt}", CONTENT_TYPES[fmt]
