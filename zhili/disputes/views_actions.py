"""Every action the case page offers: its form, the states it applies to, the permission it
needs, and the service it calls. The page lists `available(...)`; the action view runs one."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from zhili.core.scoping import get_scope
from zhili.disputes import forms as f
from zhili.disputes import services
from zhili.disputes.choices import (
    AGREED_OUTCOMES,
    AgreementForm,
    ConfirmationResult,
    DisputeState,
    SupervisionState,
)
from zhili.disputes.models import Dispute

S = DisputeState
OPEN = (S.REGISTERED, S.ASSIGNED, S.MEDIATING, S.AGREED, S.PERFORMING)
EVERY = tuple(S.values)


@dataclass(frozen=True)
class Action:
    key: str
    label: object
    form: type[f.ActionForm]
    states: tuple[str, ...]
    perm: str  # route, mediate or supervise (of disputes.<perm>_dispute)
    run: Callable  # (actor, dispute, form) -> result
    style: str = "primary"
    when: Callable | None = None  # (dispute) -> bool: offered only then

    def permission(self, dispute: Dispute) -> str:
        if self.key == "answer_supervision":
            # Whoever holds the case answers: the body, or the centre before routing.
            return "mediate" if dispute.body_id else "route"
        return self.perm


def _v(form):
    return form.cleaned_data.get("version")


def _files(form) -> list[services.FileData]:
    uploads = form.files.getlist("files") if hasattr(form.files, "getlist") else []
    kind = form.cleaned_data.get("kind") or "evidence"
    return [services.FileData(u.read(), u.name, kind) for u in uploads]


def _route(actor, dispute, form):
    d = form.cleaned_data
    return services.route_dispute(actor=actor, dispute=dispute, body=d["body"],
                                  note=d["note"], version=_v(form))


def _accept(actor, dispute, form):
    d = form.cleaned_data
    return services.accept_dispute(actor=actor, dispute=dispute, mediators=list(d["mediators"]),
                                   lead=d["lead"], note=d["note"], version=_v(form))


def _session(actor, dispute, form):
    d = form.cleaned_data
    return services.record_session(actor=actor, dispute=dispute, held_at=d["held_at"],
                                   place=d["place"], participants=d["participants"],
                                   record=d["record"], mediators=list(d["mediators"]),
                                   files=_files(form), version=_v(form))


def _conclude(actor, dispute, form):
    d = form.cleaned_data
    agreed = d["outcome"] in AGREED_OUTCOMES
    return services.conclude_dispute(
        actor=actor, dispute=dispute, outcome=d["outcome"], note=d["note"],
        agreement=form.agreement_data() if agreed else None,
        guidance=d["guidance"], version=_v(form))


def _upload(actor, dispute, form):
    # Several files are kept together or not at all.
    with transaction.atomic():
        return [services.add_file(actor=actor, dispute=dispute, item=item)
                for item in _files(form)]


def _ruling(actor, dispute, form):
    d = form.cleaned_data
    return services.record_ruling(actor=actor, confirmation=d["confirmation"],
                                  result=d["result"], ruled_on=d["ruled_on"],
                                  ruling_number=d["ruling_number"], note=d["note"])


def _follow_up(actor, dispute, form):
    d = form.cleaned_data
    return services.record_follow_up(actor=actor, dispute=dispute, visited_on=d["visited_on"],
                                     method=d["method"], fulfilment=d["fulfilment"],
                                     satisfaction=d["satisfaction"], note=d["note"],
                                     version=_v(form))


def _written_in_force(dispute) -> bool:
    agreement = dispute.current_agreement()
    return (agreement is not None and agreement.form == AgreementForm.WRITTEN and
            agreement.effective_on is not None and not dispute.confirmations.filter(
                result=ConfirmationResult.PENDING).exists())


ACTIONS: dict[str, Action] = {a.key: a for a in [
    Action("route", _("Route to a mediation body"), f.RouteForm, (S.REGISTERED,), "route",
           _route),
    Action("reject", _("Do not accept"), f.ReasonForm, (S.REGISTERED,), "route",
           lambda actor, dispute, form: services.reject_dispute(
               actor=actor, dispute=dispute, reason=form.cleaned_data["reason"],
               version=_v(form)), style="outline-danger"),
    Action("escalate", _("Escalate to the level above"), f.ReasonForm,
           (S.REGISTERED, S.ASSIGNED), "route",
           lambda actor, dispute, form: services.escalate_dispute(
               actor=actor, dispute=dispute, reason=form.cleaned_data["reason"],
               version=_v(form)), style="outline-warning",
           when=lambda d: d.owner_level > 1),
    Action("accept", _("Accept the case"), f.AcceptForm, (S.ASSIGNED,), "mediate", _accept),
    Action("decline", _("Decline: back to the centre"), f.ReasonForm, (S.ASSIGNED,), "mediate",
           lambda actor, dispute, form: services.decline_dispute(
               actor=actor, dispute=dispute, reason=form.cleaned_data["reason"],
               version=_v(form)), style="outline-danger"),
    Action("session", _("Record a mediation session"), f.SessionForm, (S.MEDIATING,),
           "mediate", _session),
    Action("conclude", _("Conclude the mediation"), f.ConcludeForm, (S.MEDIATING,), "mediate",
           _conclude, style="success"),
    Action("extend", _("Extend the time limit"), f.ExtendForm, (S.MEDIATING,), "mediate",
           lambda actor, dispute, form: services.extend_mediation(
               actor=actor, dispute=dispute, days=form.cleaned_data["days"],
               reason=form.cleaned_data["reason"], version=_v(form)),
           style="outline-secondary",
           when=lambda d: d.extension_count < services.MAX_EXTENSIONS),
    Action("sign", _("Record the signatures"), f.SignForm, (S.AGREED,), "mediate",
           lambda actor, dispute, form: services.sign_agreement(
               actor=actor, dispute=dispute, signatures=form.signatures(),
               signed_on=form.cleaned_data["signed_on"], version=_v(form)), style="success"),
    Action("edit_agreement", _("Correct the agreement"), f.AgreementEditForm, (S.AGREED,),
           "mediate", lambda actor, dispute, form: services.update_agreement(
               actor=actor, dispute=dispute, data=form.agreement_data(), version=_v(form)),
           style="outline-primary"),
    Action("apply_confirmation", _("Apply for judicial confirmation"), f.ConfirmationForm,
           (S.PERFORMING,), "mediate", lambda actor, dispute, form: services.
           apply_for_confirmation(actor=actor, dispute=dispute,
                                  court=form.cleaned_data["court"],
                                  applied_on=form.cleaned_data["applied_on"]),
           style="outline-primary", when=_written_in_force),
    Action("ruling", _("Record the court's ruling"), f.RulingForm, EVERY, "mediate", _ruling,
           style="outline-primary",
           when=lambda d: d.confirmations.filter(result=ConfirmationResult.PENDING).exists()),
    Action("follow_up", _("Record a follow-up"), f.FollowUpForm, (S.PERFORMING,), "mediate",
           _follow_up, style="success"),
    Action("remediate", _("Mediate again"), f.ReasonForm, (S.PERFORMING,), "mediate",
           lambda actor, dispute, form: services.remediate_dispute(
               actor=actor, dispute=dispute, reason=form.cleaned_data["reason"],
               version=_v(form)), style="outline-danger"),
    Action("upload", _("Add files to the case"), f.UploadForm, EVERY, "mediate", _upload,
           style="outline-secondary"),
    Action("supervise", _("Issue a supervision order"), f.SuperviseForm, OPEN, "supervise",
           lambda actor, dispute, form: services.supervise_dispute(
               actor=actor, dispute=dispute, message=form.cleaned_data["message"]),
           style="outline-warning"),
    Action("answer_supervision", _("Answer the supervision order"), f.AnswerForm, EVERY,
           "mediate", lambda actor, dispute, form: services.answer_supervision(
               actor=actor, order=form.cleaned_data["order"],
               answer=form.cleaned_data["answer"]),
           when=lambda d: d.supervisions.filter(state=SupervisionState.ISSUED).exists()),
]}


def allowed(action: Action, dispute: Dispute, user) -> bool:
    """Whether the user's role and level let them take `action` on this case at all."""
    scope = get_scope(user)
    perm = action.permission(dispute)
    if not scope.can(f"disputes.{perm}_dispute"):
        return False
    if perm == "route" and not scope.unrestricted:
        # An escalated case is routed by the upper level's centre (as the service decides).
        position = user.active_position
        if position is not None and position.area.level > dispute.owner_level:
            return False
    return True


def available(dispute: Dispute, user) -> list[Action]:
    """The actions this user can take on this case now (what the page offers)."""
    return [a for a in ACTIONS.values()
            if dispute.state in a.states and allowed(a, dispute, user) and
            (a.when is None or a.when(dispute))]
