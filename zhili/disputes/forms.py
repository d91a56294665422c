"""Forms of the dispute pages: intake with its parties, the actions on a case, the registry of
bodies and mediators. Forms check shape only; the services decide (and name the field)."""

from __future__ import annotations

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from zhili.areas.models import Area
from zhili.core.forms import FastSelectsMixin, MultipleFileField, MultipleFileInput
from zhili.core.pii import mask_name
from zhili.disputes import codetables
from zhili.disputes.choices import (
    AgreementForm,
    BodyKind,
    Channel,
    ConfirmationResult,
    FileKind,
    FollowUpMethod,
    Fulfilment,
    Guidance,
    Outcome,
    PartyKind,
    PartySide,
    Satisfaction,
)
from zhili.disputes.filters import type_groups
from zhili.disputes.models import (
    JudicialConfirmation,
    MediationBody,
    Mediator,
)
from zhili.people.codes import Ethnicity, IdType, Sex

DATE = {"type": "date"}
FILES_ACCEPT = "application/pdf,image/jpeg,image/png,.docx"


def _date_input():
    return forms.DateInput(attrs=DATE, format="%Y-%m-%d")


def _blank(choices, label="—"):
    return [("", label), *choices]


class AreaField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.short_code} {obj.name}"


def type_items() -> list[tuple[str, list[tuple[str, str]]]]:
    """The 5.56 items grouped under their group (the second level of the type picker)."""
    grouped: dict[str, list[tuple[str, str]]] = {}
    for code, name in codetables.TYPES.items():
        if len(code) == 4:
            grouped.setdefault(code[:2], []).append((code, f"{code} {name}"))
    return [(f"{group} {codetables.TYPES[group]}", grouped.get(group, []))
            for group, _name in type_groups() if grouped.get(group)]


# --- intake --------------------------------------------------------------------------------------

class RegisterForm(FastSelectsMixin, forms.Form):
    channel = forms.ChoiceField(label=_("Channel"), choices=Channel.choices,
                                initial=Channel.WALK_IN)
    title = forms.CharField(label=pgettext_lazy("dispute", "Title"), max_length=100)
    occurred_on = forms.DateField(label=_("Occurred on"), widget=_date_input())
    place = forms.CharField(label=_("Place"), max_length=100)
    area = AreaField(label=_("Area (village or community)"), queryset=Area.objects.none())
    type_group = forms.ChoiceField(label=_("Dispute type (GB/T 31000 table 5.56)"))
    type_item = forms.ChoiceField(label=_("Sub-type"), required=False)
    stat_class = forms.ChoiceField(label=_("Statistics class"), required=False,
                                   help_text=_("Left empty, it follows from the type."))
    people_count = forms.IntegerField(label=_("People involved"), required=False, min_value=1,
                                      max_value=999_999,
                                      help_text=_("Five or more make it a group dispute."))
    amount = forms.CharField(label=_("Amount involved (yuan)"), required=False, max_length=20)
    involved_units = forms.CharField(label=_("Units involved"), required=False, max_length=100)
    may_intensify = forms.BooleanField(label=_("May intensify"), required=False)
    stability_risk = forms.BooleanField(label=_("Stability risk"), required=False)
    external_ref = forms.CharField(label=_("Referral number"), required=False, max_length=64,
                                   help_text=_("The number given by the referring office "
                                               "(110, 12345, court)."))
    description = forms.CharField(label=_("Description"),
                                  widget=forms.Textarea(attrs={"rows": 4}))

    def __init__(self, *args, user=None, event=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.event = event
        self.fields["type_group"].choices = _blank(type_groups())
        self.fields["type_item"].choices = [("", _("— the group as a whole —")), *type_items()]
        self.fields["stat_class"].choices = _blank(codetables.stat_class_choices())
        if user is not None:
            self.fields["area"].queryset = area_queryset(user, event)
        if event is not None:
            # The channel of a case made from an event is the event itself.
            del self.fields["channel"]

    def clean_amount(self):
        return self.cleaned_data["amount"].replace(",", "").strip()

    def clean(self):
        data = super().clean()
        group, item = data.get("type_group"), data.get("type_item")
        if group and item and not item.startswith(group):
            self.add_error("type_item", _("Choose a sub-type of the chosen type."))
        data["type_code"] = item or group or ""
        return data


def area_queryset(user, event=None):
    """Towns and villages in the user's reach (a grid worker: their grid), plus the event's own
    area when a case is made from an event; grids are left out for wider users, a list of
    every grid of a city would be unusable."""
    from django.db.models import Q

    from zhili.areas.queries import root_for

    root = root_for(user)
    deepest = max(4, root.level if root is not None else 4)
    wanted = Q(level__gte=3, level__lte=deepest)
    if event is not None:
        wanted |= Q(pk=event.area_id)
    return Area.objects.restrict(user).active().filter(wanted).order_by("code")


class PartyForm(FastSelectsMixin, forms.Form):
    side = forms.ChoiceField(label=_("Side"), choices=PartySide.choices)
    kind = forms.ChoiceField(label=_("Kind"), choices=PartyKind.choices,
                             initial=PartyKind.PERSON)
    name = forms.CharField(label=_("Name"), max_length=80)
    id_type = forms.ChoiceField(label=_("ID document type"), required=False,
                                choices=IdType.choices(), initial="111")
    id_number = forms.CharField(label=_("ID number"), required=False, max_length=40)
    uscc = forms.CharField(label=_("Unified social credit code"), required=False, max_length=18)
    sex = forms.ChoiceField(label=_("Sex"), required=False, choices=_blank(Sex.choices()))
    ethnicity = forms.ChoiceField(label=_("Ethnicity"), required=False,
                                  choices=_blank(Ethnicity.choices()))
    birth_date = forms.DateField(label=_("Birth date"), required=False, widget=_date_input())
    party_class = forms.ChoiceField(label=_("Party class (5.57)"), required=False,
                                    choices=_blank(codetables.party_class_choices()))
    phone = forms.CharField(label=_("Phone"), required=False, max_length=40)
    address = forms.CharField(label=_("Address"), required=False, max_length=200)
    representative = forms.CharField(label=_("Representative or agent"), required=False,
                                     max_length=80)

    # What makes a row a party: side, kind and ID type start filled in on every row.
    content_fields = ("name", "id_number", "uscc", "sex", "ethnicity", "birth_date",
                      "party_class", "phone", "address", "representative")

    def has_changed(self):
        return any(str(self.data.get(self.add_prefix(name)) or "").strip()
                   for name in self.content_fields)

    def party_data(self):
        from zhili.disputes.services import PartyData

        data = self.cleaned_data
        return PartyData(side=data["side"], kind=data["kind"], name=data["name"],
                         id_type=data.get("id_type") or "111",
                         id_number=data.get("id_number") or "", uscc=data.get("uscc") or "",
                         sex=data.get("sex") or "", ethnicity=data.get("ethnicity") or "",
                         birth_date=data.get("birth_date"),
                         party_class=data.get("party_class") or "",
                         phone=data.get("phone") or "", address=data.get("address") or "",
                         representative=data.get("representative") or "")


class BasePartyFormSet(forms.BaseFormSet):
    """Rows start as applicant, respondent, then third parties; a row left as it was offered
    is skipped (it is the blank row, not a party)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Refusals about the parties as a whole ("an applicant and a respondent").
        self.extra_errors: list[str] = []

    def get_form_kwargs(self, index):
        kwargs = super().get_form_kwargs(index)
        side = {0: PartySide.APPLICANT, 1: PartySide.RESPONDENT}.get(index, PartySide.THIRD) \
            if index is not None else PartySide.THIRD
        kwargs["initial"] = {"side": side, "kind": PartyKind.PERSON, "id_type": "111"}
        return kwargs

    def filled_forms(self) -> list[PartyForm]:
        return [f for f in self.forms if f.has_changed()]


PartyFormSet = forms.formset_factory(PartyForm, formset=BasePartyFormSet, extra=2,
                                     max_num=50, absolute_max=50, validate_max=True)


# --- actions on a case ---------------------------------------------------------------------------

class ActionForm(forms.Form):
    """An action's form; `version` carries the version the user saw (optimistic lock)."""

    version = forms.IntegerField(required=False, widget=forms.HiddenInput)
    # Service field names that this form shows under another name.
    aliases: dict[str, str] = {}

    def __init__(self, *args, user=None, dispute=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.user, self.dispute = user, dispute


class ReasonForm(ActionForm):
    reason = forms.CharField(label=_("Reason"), max_length=2000,
                             widget=forms.Textarea(attrs={"rows": 2}))


class BodyChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.org.name} ({obj.open_cases}/{obj.capacity})"


class RouteForm(ActionForm):
    body = BodyChoiceField(label=_("Mediation body"), queryset=MediationBody.objects.none(),
                           help_text=_("Bodies serving this type here, best first; the "
                                       "figures are open cases and capacity."))
    note = forms.CharField(label=_("Note"), required=False, max_length=2000,
                           widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.dispute is not None:
            from zhili.disputes.rules import candidates

            found = [c.body.pk for c in candidates(self.dispute.type_code, self.dispute.area)]
            order = {pk: n for n, pk in enumerate(found)}
            bodies = sorted(MediationBody.objects.filter(pk__in=found).select_related("org"),
                            key=lambda b: order[b.pk])
            self.fields["body"].queryset = MediationBody.objects.filter(pk__in=found)
            self.fields["body"].choices = [("", "—")] + [
                (b.pk, self.fields["body"].label_from_instance(b)) for b in bodies]
            if self.dispute.proposed_body_id in order:
                self.initial.setdefault("body", self.dispute.proposed_body_id)


class MediatorsField(forms.ModelMultipleChoiceField):
    widget = forms.CheckboxSelectMultiple

    def label_from_instance(self, obj):
        return f"{obj.name}{' · ' + obj.speciality if obj.speciality else ''}"


def _body_mediators(dispute):
    if dispute is None or not dispute.body_id:
        return Mediator.objects.none()
    return Mediator.objects.filter(body_id=dispute.body_id, is_active=True).order_by("name")


class AcceptForm(ActionForm):
    mediators = MediatorsField(label=_("Mediators"), queryset=Mediator.objects.none())
    lead = forms.ModelChoiceField(label=_("Lead mediator"), required=False,
                                  queryset=Mediator.objects.none(),
                                  help_text=_("Left empty: the first one chosen."))
    note = forms.CharField(label=_("Note"), required=False, max_length=2000,
                           widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        mediators = _body_mediators(self.dispute)
        self.fields["mediators"].queryset = mediators
        self.fields["lead"].queryset = mediators


class SessionForm(ActionForm):
    held_at = forms.DateTimeField(label=_("Held at"), widget=forms.DateTimeInput(
        attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"))
    place = forms.CharField(label=_("Place"), max_length=100)
    participants = forms.CharField(label=_("Participants"), max_length=300)
    record = forms.CharField(label=_("Record"), widget=forms.Textarea(attrs={"rows": 4}))
    mediators = MediatorsField(label=_("Mediators present"), required=False,
                               queryset=Mediator.objects.none())
    files = MultipleFileField(label=_("Files (PDF, JPEG, PNG, Word)"), required=False,
                              widget=MultipleFileInput(attrs={"accept": FILES_ACCEPT}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["mediators"].queryset = _body_mediators(self.dispute)
        if not self.is_bound:
            self.initial.setdefault("held_at", timezone.localtime().replace(second=0,
                                                                            microsecond=0))
            if self.dispute is not None and self.dispute.lead_mediator_id:
                self.initial.setdefault("mediators", [self.dispute.lead_mediator_id])


class ExtendForm(ActionForm):
    days = forms.IntegerField(label=_("Extra days"), min_value=1, max_value=30)
    reason = forms.CharField(label=_("Reason"), max_length=2000,
                             widget=forms.Textarea(attrs={"rows": 2}))


class AgreementFieldsForm(ActionForm):
    """The contents of a 调解协议书 (《人民调解法》第二十九条); checked by the service."""

    agreement_form = forms.ChoiceField(label=_("Form of the agreement"),
                                       choices=AgreementForm.choices,
                                       initial=AgreementForm.WRITTEN, required=False)
    facts = forms.CharField(label=_("Main facts"), required=False,
                            widget=forms.Textarea(attrs={"rows": 3}))
    issues = forms.CharField(label=_("Matters in dispute"), required=False,
                             widget=forms.Textarea(attrs={"rows": 2}))
    responsibilities = forms.CharField(label=_("Responsibilities of the parties"),
                                       required=False, widget=forms.Textarea(attrs={"rows": 2}))
    terms = forms.CharField(label=_("Terms agreed"), required=False,
                            widget=forms.Textarea(attrs={"rows": 3}),
                            help_text=_("One term per line."))
    performance_method = forms.CharField(label=_("Way of performance"), required=False,
                                         max_length=200)
    performance_place = forms.CharField(label=_("Place of performance"), required=False,
                                        max_length=100)
    performance_due = forms.DateField(label=_("Performance due by"), required=False,
                                      widget=_date_input())
    place = forms.CharField(label=_("Place of mediation"), required=False, max_length=100)
    copies = forms.IntegerField(label=_("Copies"), required=False, min_value=2, max_value=20,
                                initial=3)
    aliases = {"form": "agreement_form"}

    def agreement_data(self):
        from zhili.disputes.services import AgreementData

        data = self.cleaned_data
        return AgreementData(
            facts=data.get("facts") or "", issues=data.get("issues") or "",
            terms=[line.strip() for line in (data.get("terms") or "").splitlines()
                   if line.strip()],
            performance_method=data.get("performance_method") or "",
            performance_due=data.get("performance_due"),
            responsibilities=data.get("responsibilities") or "",
            performance_place=data.get("performance_place") or "",
            place=data.get("place") or "", copies=data.get("copies"),
            form=data.get("agreement_form") or AgreementForm.WRITTEN)


class ConcludeForm(AgreementFieldsForm):
    outcome = forms.ChoiceField(label=_("Outcome"), choices=Outcome.choices,
                                widget=forms.RadioSelect)
    guidance = forms.ChoiceField(label=_("Parties directed to (failure)"), required=False,
                                 choices=_blank(Guidance.choices))
    note = forms.CharField(label=_("How it ended"), required=False, max_length=2000,
                           widget=forms.Textarea(attrs={"rows": 2}),
                           help_text=_("Required when mediation failed or was withdrawn."))
    field_order = ["outcome", "agreement_form", "facts", "issues", "responsibilities", "terms",
                   "performance_method", "performance_place", "performance_due", "place",
                   "copies", "guidance", "note"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_bound and self.dispute is not None:
            self.initial.setdefault("facts", self.dispute.description)
            self.initial.setdefault("place", self.dispute.body.org.name
                                    if self.dispute.body_id else "")


class AgreementEditForm(AgreementFieldsForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        agreement = self.dispute.current_agreement() if self.dispute is not None else None
        if agreement is not None and not self.is_bound:
            for name in ("facts", "issues", "responsibilities", "performance_method",
                         "performance_place", "performance_due", "place", "copies"):
                self.initial[name] = getattr(agreement, name)
            self.initial["terms"] = "\n".join(agreement.terms)
            self.initial["agreement_form"] = agreement.form
        # A written agreement stays written while it is corrected.
        self.fields["agreement_form"].widget = forms.HiddenInput()


class SignForm(ActionForm):
    signed = forms.MultipleChoiceField(label=_("Signed by"), widget=forms.CheckboxSelectMultiple,
                                       help_text=_("Every party and at least one mediator."))
    signed_on = forms.DateField(label=_("Signed on"), widget=_date_input(),
                                initial=timezone.localdate)
    aliases = {"signatures": "signed"}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        choices, self.names = [], {}
        if self.dispute is not None:
            for party in self.dispute.parties.all():
                key = f"p{party.pk}"
                shown = party.name if party.kind == PartyKind.ORG else mask_name(party.name)
                choices.append((key, f"{party.get_side_display()}: {shown}"))
                self.names[key] = party.name
            for mediator in self.dispute.mediators.all():
                key = f"m{mediator.pk}"
                choices.append((key, f"{_('Mediator')}: {mediator.name}"))
                self.names[key] = mediator.name
        self.fields["signed"].choices = choices

    def signatures(self) -> list[dict]:
        return [{"name": self.names[key]} for key in self.cleaned_data["signed"]]


class ConfirmationForm(ActionForm):
    court = forms.CharField(label=_("Court"), max_length=100)
    applied_on = forms.DateField(label=_("Applied on"), widget=_date_input(),
                                 initial=timezone.localdate)


class RulingForm(ActionForm):
    confirmation = forms.ModelChoiceField(label=_("Application"),
                                          queryset=JudicialConfirmation.objects.none())
    result = forms.ChoiceField(label=_("Result"), choices=[
        c for c in ConfirmationResult.choices if c[0] != ConfirmationResult.PENDING])
    ruled_on = forms.DateField(label=_("Ruled on"), widget=_date_input(),
                               initial=timezone.localdate)
    ruling_number = forms.CharField(label=_("Ruling number"), required=False, max_length=60)
    note = forms.CharField(label=_("Note"), required=False, max_length=300)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.dispute is not None:
            pending = self.dispute.confirmations.filter(result=ConfirmationResult.PENDING)
            self.fields["confirmation"].queryset = pending
            first = pending.first()
            if first is not None:
                self.initial.setdefault("confirmation", first.pk)


class FollowUpForm(ActionForm):
    visited_on = forms.DateField(label=_("Visited on"), widget=_date_input(),
                                 initial=timezone.localdate)
    method = forms.ChoiceField(label=_("Method"), choices=FollowUpMethod.choices)
    fulfilment = forms.ChoiceField(label=_("Performance"), widget=forms.RadioSelect,
                                   choices=[c for c in Fulfilment.choices
                                            if c[0] != Fulfilment.PENDING])
    satisfaction = forms.ChoiceField(label=_("Satisfaction"), required=False,
                                     choices=_blank(Satisfaction.choices))
    note = forms.CharField(label=_("Note"), required=False, max_length=2000,
                           widget=forms.Textarea(attrs={"rows": 2}),
                           help_text=_("Required when the agreement was broken."))


class SuperviseForm(ActionForm):
    message = forms.CharField(label=_("Instruction"), max_length=2000,
                              widget=forms.Textarea(attrs={"rows": 2}))


class AnswerForm(ActionForm):
    order = forms.ModelChoiceField(label=_("Order"), queryset=None, widget=forms.HiddenInput)
    answer = forms.CharField(label=_("Answer"), max_length=2000,
                             widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        from zhili.disputes.choices import SupervisionState
        from zhili.disputes.models import DisputeSupervision

        orders = DisputeSupervision.objects.none()
        if self.dispute is not None:
            orders = self.dispute.supervisions.filter(state=SupervisionState.ISSUED)
        self.fields["order"].queryset = orders
        first = orders.first() if self.dispute is not None else None
        if first is not None:
            self.initial.setdefault("order", first.pk)


class UploadForm(ActionForm):
    kind = forms.ChoiceField(label=_("Kind"), choices=FileKind.choices,
                             initial=FileKind.EVIDENCE)
    files = MultipleFileField(label=_("Files (PDF, JPEG, PNG, Word)"),
                              widget=MultipleFileInput(attrs={"accept": FILES_ACCEPT}))


class AlertHandleForm(forms.Form):
    note = forms.CharField(label=_("How it was handled"), max_length=300)


# --- the registry --------------------------------------------------------------------------------

class TypeCodesField(forms.MultipleChoiceField):
    widget = forms.SelectMultiple(attrs={"size": 10})


class BodyForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=BodyKind.choices)
    type_codes = TypeCodesField(label=_("Dispute types served"), required=False,
                                help_text=_("Groups or sub-types (GB/T 31000 table 5.56); none "
                                            "chosen: every type."))
    capacity = forms.IntegerField(label=_("Capacity (open cases)"), min_value=1,
                                  max_value=100000, initial=50)
    accept_days = forms.IntegerField(label=_("Days to accept (working days)"), min_value=1,
                                     max_value=30, initial=3)
    mediate_days = forms.IntegerField(label=_("Days to conclude (calendar days)"),
                                      min_value=1, max_value=90, initial=30)
    number_prefix = forms.CharField(label=_("Agreement number prefix"), required=False,
                                    max_length=20)
    phone = forms.CharField(label=_("Office phone"), required=False, max_length=40)
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)

    def __init__(self, *args, body=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["type_codes"].choices = codetables.type_choices()
        if body is not None and not self.is_bound:
            for name in ("kind", "type_codes", "capacity", "accept_days", "mediate_days",
                         "number_prefix", "phone", "is_active"):
                self.initial[name] = getattr(body, name)


class NewBodyForm(BodyForm):
    org = forms.ModelChoiceField(label=_("Organisation"), queryset=None,
                                 help_text=_("A mediation organisation not yet in the "
                                             "registry."))
    field_order = ["org"]

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        from zhili.orgs.models import Organisation

        self.fields["org"].queryset = (
            Organisation.objects.restrict(user).active()
            .filter(kind="mediation", mediation_body__isnull=True).order_by("area_code", "name")
            if user is not None else Organisation.objects.none())


class MediatorForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=50)
    phone = forms.CharField(label=_("Phone"), required=False, max_length=40,
                            help_text=_("Left empty when editing: the number stays as it is."))
    user = forms.ModelChoiceField(label=_("User account"), required=False, queryset=None,
                                  help_text=_("When the mediator works in the system."))
    full_time = forms.BooleanField(label=_("Full-time"), required=False)
    speciality = forms.CharField(label=_("Speciality"), required=False, max_length=100)
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)

    def __init__(self, *args, body=None, mediator=None, **kwargs):
        super().__init__(*args, **kwargs)
        from zhili.accounts.models import User

        # Accounts holding a position in the body's organisation.
        self.fields["user"].queryset = (
            User.objects.filter(positions__org_id=body.org_id, is_active=True).distinct()
            .order_by("username") if body is not None else User.objects.none())
        if mediator is not None and not self.is_bound:
            self.initial.update(name=mediator.name, user=mediator.user_id,
                                full_time=mediator.full_time, speciality=mediator.speciality,
                                is_active=mediator.is_active)


class TemplateForm(forms.Form):
    template = forms.FileField(label=_("Word template (.docx)"),
                               widget=forms.ClearableFileInput(attrs={"accept": ".docx"}))
