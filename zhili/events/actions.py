"""Every action a user can take on an event: its form (used by the page and the API alike),
the states it applies to, the permission it needs, and the service it calls."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from zhili.core.forms import MultipleFileField
from zhili.core.scoping import ORG, get_scope
from zhili.core.services import ServiceError
from zhili.events import services
from zhili.events.choices import EventState, ExtensionState, Satisfaction, Urgency
from zhili.events.models import Event, EventCategory, ExtensionRequest, SupervisionOrder
from zhili.orgs.models import Organisation
from zhili.workdays.clock import Unit

S = EventState


class ActionForm(forms.Form):
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, user=None, event=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.user, self.event = user, event


class NoteForm(ActionForm):
    note = forms.CharField(label=_("Note"), required=False, max_length=2000,
                           widget=forms.Textarea(attrs={"rows": 2}))


class ReasonForm(ActionForm):
    reason = forms.CharField(label=_("Reason"), max_length=2000,
                             widget=forms.Textarea(attrs={"rows": 2}))


class PhotoNoteForm(NoteForm):
    photos = MultipleFileField(label=_("Photos"), required=False)


class AcceptForm(NoteForm):
    category = forms.ModelChoiceField(label=_("Category"), required=False,
                                      queryset=EventCategory.objects.active().filter(
                                          parent__isnull=False))
    urgency = forms.ChoiceField(label=_("Urgency"), required=False,
                                choices=[("", "—"), *Urgency.choices])
    field_order = ["category", "urgency", "note"]


class DispatchForm(NoteForm):
    lead_org = forms.ModelChoiceField(label=_("Lead organisation"),
                                      queryset=Organisation.objects.none())
    assist_orgs = forms.ModelMultipleChoiceField(label=_("Assisting organisations"),
                                                 required=False,
                                                 queryset=Organisation.objects.none())
    field_order = ["lead_org", "assist_orgs", "note"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        orgs = Organisation.objects.dispatchable(self.user).order_by("-area_code", "name") \
            if self.user is not None else Organisation.objects.none()
        self.fields["lead_org"].queryset = orgs
        self.fields["assist_orgs"].queryset = orgs
        if self.event is not None and not self.is_bound:
            from zhili.events.rules import route

            rule = route(self.event.area, self.event.category)
            if rule is not None:
                self.initial.setdefault("lead_org", rule.lead_org_id)
                self.initial.setdefault("assist_orgs", list(rule.assist_orgs.values_list(
                    "pk", flat=True)))


class MergeForm(NoteForm):
    into = forms.CharField(label=_("Original report (number)"), max_length=24)

    def clean_into(self):
        value = self.cleaned_data["into"].strip()
        event = Event.objects.restrict(self.user).filter(number=value).first()
        if event is None and value.isdigit():
            event = Event.objects.restrict(self.user).filter(pk=int(value)).first()
        if event is None:
            raise forms.ValidationError(_("No such event within your reach."))
        return event


class FinishForm(PhotoNoteForm):
    result = forms.CharField(label=_("Result"), max_length=2000,
                             widget=forms.Textarea(attrs={"rows": 3}))
    field_order = ["result", "photos"]


class ExtensionForm(ActionForm):
    amount = forms.DecimalField(label=_("Extra time"), min_value=0.25, max_value=1000,
                                decimal_places=2)
    unit = forms.ChoiceField(label=_("Unit"), choices=Unit.choices, initial=Unit.WORK_DAYS)
    reason = forms.CharField(label=_("Reason"), max_length=500)


class DecideExtensionForm(NoteForm):
    request = forms.ModelChoiceField(label=_("Request"), queryset=ExtensionRequest.objects.none(),
                                     widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.event is not None:
            self.fields["request"].queryset = self.event.extensions.filter(
                state=ExtensionState.PENDING)


class EvaluateForm(NoteForm):
    satisfaction = forms.ChoiceField(label=_("Satisfaction"), choices=Satisfaction.choices,
                                     widget=forms.RadioSelect)
    field_order = ["satisfaction", "note"]


class SuperviseForm(ActionForm):
    message = forms.CharField(label=_("Instruction"), max_length=2000,
                              widget=forms.Textarea(attrs={"rows": 2}))


class AnswerForm(ActionForm):
    order = forms.ModelChoiceField(label=_("Order"), queryset=SupervisionOrder.objects.none(),
                                   widget=forms.HiddenInput)
    answer = forms.CharField(label=_("Answer"), max_length=2000,
                             widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.event is not None:
            self.fields["order"].queryset = self.event.supervisions.filter(state="issued")


def _photos(form) -> list[services.Photo]:
    files = form.files.getlist("photos") if hasattr(form.files, "getlist") else []
    return [services.Photo(f.read(), f.name) for f in files]


@dataclass(frozen=True)
class Action:
    key: str
    label: object
    form: type[ActionForm]
    states: tuple[str, ...]
    perm: str  # dispatch, handle, verify, evaluate, supervise
    run: Callable
    style: str = "primary"
    needs_lead_org: bool = False


def _supervise(actor, event, data, form):
    from zhili.events.deadlines import issue_supervision

    services._check_actor(actor, event, "supervise")
    return issue_supervision(event, level=event.escalation_level or 1, issued_by=actor,
                             message=data["message"])


def _evaluate(actor, event, data, form):
    return services.evaluate_event(actor=actor, event=event, satisfaction=data["satisfaction"],
                                   note=data["note"], version=data.get("version"))


ACTIONS: dict[str, Action] = {a.key: a for a in [
    Action("accept", _("Accept"), AcceptForm, (S.REPORTED,), "dispatch",
           lambda actor, event, d, f: services.accept_event(
               actor=actor, event=event, version=d.get("version"), category=d["category"],
               urgency=d["urgency"], note=d["note"])),
    Action("reject", _("Do not accept"), ReasonForm, (S.REPORTED,), "dispatch",
           lambda actor, event, d, f: services.reject_event(
               actor=actor, event=event, reason=d["reason"], version=d.get("version")),
           style="outline-danger"),
    Action("merge", _("Merge as duplicate"), MergeForm, (S.REPORTED, S.ACCEPTED), "dispatch",
           lambda actor, event, d, f: services.merge_event(
               actor=actor, event=event, into=d["into"], note=d["note"],
               version=d.get("version")), style="outline-secondary"),
    Action("dispatch", _("Dispatch"), DispatchForm, (S.ACCEPTED, S.RETURNED), "dispatch",
           lambda actor, event, d, f: services.dispatch_event(
               actor=actor, event=event, lead_org=d["lead_org"],
               assist_orgs=list(d["assist_orgs"]), note=d["note"], version=d.get("version"))),
    Action("escalate", _("Escalate to the level above"), ReasonForm, (S.ACCEPTED, S.RETURNED),
           "dispatch", lambda actor, event, d, f: services.escalate_event(
               actor=actor, event=event, reason=d["reason"], version=d.get("version")),
           style="outline-warning"),
    Action("sign", _("Sign for it"), ActionForm, (S.DISPATCHED,), "handle",
           lambda actor, event, d, f: services.sign_event(actor=actor, event=event,
                                                          version=d.get("version")),
           needs_lead_org=True),
    Action("send_back", _("Return: not ours"), ReasonForm, (S.DISPATCHED, S.HANDLING), "handle",
           lambda actor, event, d, f: services.return_event(
               actor=actor, event=event, reason=d["reason"], version=d.get("version")),
           style="outline-danger", needs_lead_org=True),
    Action("progress", _("Report progress"), PhotoNoteForm, (S.HANDLING,), "handle",
           lambda actor, event, d, f: services.record_progress(
               actor=actor, event=event, note=d["note"], photos=_photos(f),
               version=d.get("version")), style="outline-primary", needs_lead_org=True),
    Action("wait_for_citizen", _("Wait for the citizen (pause)"), ReasonForm, (S.HANDLING,),
           "handle", lambda actor, event, d, f: services.wait_for_citizen(
               actor=actor, event=event, reason=d["reason"], version=d.get("version")),
           style="outline-secondary", needs_lead_org=True),
    Action("resume_work", _("Resume"), NoteForm, (S.WAITING,), "handle",
           lambda actor, event, d, f: services.resume_work(
               actor=actor, event=event, note=d["note"], version=d.get("version")),
           needs_lead_org=True),
    Action("request_extension", _("Ask for more time"), ExtensionForm, (S.HANDLING,), "handle",
           lambda actor, event, d, f: services.request_extension(
               actor=actor, event=event, amount=d["amount"], unit=d["unit"],
               reason=d["reason"]), style="outline-secondary", needs_lead_org=True),
    Action("finish", _("Report the result"), FinishForm, (S.HANDLING,), "handle",
           lambda actor, event, d, f: services.finish_event(
               actor=actor, event=event, result=d["result"], photos=_photos(f),
               version=d.get("version")), needs_lead_org=True),
    Action("approve_extension", _("Approve the extension"), DecideExtensionForm, (S.HANDLING,),
           "dispatch", lambda actor, event, d, f: services.decide_extension(
               actor=actor, request=d["request"], approve=True, note=d["note"])),
    Action("refuse_extension", _("Refuse the extension"), DecideExtensionForm, (S.HANDLING,),
           "dispatch", lambda actor, event, d, f: services.decide_extension(
               actor=actor, request=d["request"], approve=False, note=d["note"]),
           style="outline-danger"),
    Action("verify_ok", _("Verified: solved"), PhotoNoteForm, (S.HANDLED,), "verify",
           lambda actor, event, d, f: services.verify_event(
               actor=actor, event=event, passed=True, note=d["note"], photos=_photos(f),
               version=d.get("version"))),
    Action("verify_fail", _("Not solved: rework"), PhotoNoteForm, (S.HANDLED,), "verify",
           lambda actor, event, d, f: services.verify_event(
               actor=actor, event=event, passed=False, note=d["note"], photos=_photos(f),
               version=d.get("version")), style="outline-danger"),
    Action("close", pgettext_lazy("event action", "Close"), NoteForm, (S.VERIFIED,), "dispatch",
           lambda actor, event, d, f: services.close_event(
               actor=actor, event=event, note=d["note"], version=d.get("version"))),
    Action("evaluate", _("Record the evaluation"), EvaluateForm, (S.CLOSED,), "evaluate",
           _evaluate),
    Action("supervise", _("Issue a supervision order"), SuperviseForm,
           tuple(s for s in S.values if s not in (S.CLOSED, S.REJECTED, S.MERGED)), "supervise",
           _supervise, style="outline-warning"),
    Action("answer_supervision", _("Answer the supervision order"), AnswerForm,
           tuple(S.values), "supervise",
           lambda actor, event, d, f: services.answer_supervision(
               actor=actor, order=d["order"], answer=d["answer"])),
]}


def available(event: Event, user) -> list[Action]:
    """The actions this user can take on this event now (what the page offers)."""
    scope = get_scope(user)
    result = []
    for action in ACTIONS.values():
        if event.state not in action.states:
            continue
        perm = f"events.{action.perm}_event"
        if action.key == "evaluate" and event.reporter_id == user.pk:
            perm = "events.view_event"
        if not scope.can(perm):
            continue
        if action.needs_lead_org and scope.kind == ORG and event.lead_org_id not in scope.org_ids:
            continue
        if action.key in ("approve_extension", "refuse_extension") and not \
                event.extensions.filter(state=ExtensionState.PENDING).exists():
            continue
        if action.key == "answer_supervision" and not event.supervisions.filter(
                state="issued").exists():
            continue
        if action.key == "evaluate" and event.evaluated_at:
            continue
        result.append(action)
    return result


def perform(action_key: str, *, actor, event: Event, data, files=None):
    """Validate `data` with the action's form and run it; form errors become a ServiceError
    with field-level messages (so the page and the API report them the same way)."""
    action = ACTIONS.get(action_key)
    if action is None:
        raise ServiceError("not_found", _("Unknown action."), status=404)
    form = action.form(data, files, user=actor, event=event)
    if not form.is_valid():
        raise ServiceError("invalid", field_messages={
            k: [str(m) for m in v] for k, v in form.errors.items()})
    return action, form, action.run(actor, event, form.cleaned_data, form)
