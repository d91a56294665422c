"""Test support: a mediation world on top of the battery's World, and the battery factories
placing cases, bodies, mediators, alerts and files inside or outside a persona's reach."""

from __future__ import annotations

import datetime as dt

from django.core.files.base import ContentFile
from django.utils import timezone

from zhili.core.testing import World, battery_factory
from zhili.disputes.choices import BodyKind, PartySide
from zhili.disputes.models import (
    CaseFile,
    Dispute,
    DisputeAlert,
    DisputeStat,
    MediationBody,
    Mediator,
)

# Valid resident ID numbers (GB 11643 check digits) for parties in tests.
ID_A = "320612199001011232"
ID_B = "320612198503150027"


class Mediation:
    """The World plus 一综多专 in 通州区: the town's people's mediation committee (every type),
    the county's medical-dispute body (0502), their mediators and users."""

    def __init__(self, world: World):
        from zhili.accounts.models import Position, Role, User
        from zhili.orgs.models import Organisation

        self.world = world
        roles = {r.code: r for r in Role.objects.all()}

        def org(name, place):
            return Organisation.objects.create(name=name, kind="mediation", area=place,
                                               area_code=place.code)

        def user(username, role, place, organisation=None):
            account = User.objects.create_user(username=username, password=World.PASSWORD,
                                               display_name=username)
            Position.objects.create(user=account, role=roles[role], area=place,
                                    area_code=place.code, org=organisation)
            return account

        self.town_org = org("金沙街道人民调解委员会", world.town_a1)
        self.medical_org = org("通州区医患纠纷人民调解委员会", world.county_a)
        self.town_body = MediationBody.objects.create(
            org=self.town_org, kind=BodyKind.COMMITTEE, area_code=world.town_a1.code,
            number_prefix="金沙调")
        self.medical_body = MediationBody.objects.create(
            org=self.medical_org, kind=BodyKind.PROFESSIONAL, area_code=world.county_a.code,
            type_codes=["0502"], number_prefix="通州医调")
        self.dispatcher = user("m.dispatcher", "dispatcher", world.town_a1, world.centre_a1)
        self.county_dispatcher = user("m.county", "dispatcher", world.county_a)
        self.mediator_user = user("m.medical", "mediator", world.county_a, self.medical_org)
        self.town_mediator_user = user("m.town", "mediator", world.town_a1, self.town_org)
        self.mediator = Mediator.objects.create(body=self.medical_body, name="王调解",
                                                area_code=self.medical_body.area_code,
                                                user=self.mediator_user, full_time=True)
        self.mediator2 = Mediator.objects.create(body=self.medical_body, name="李调解",
                                                 area_code=self.medical_body.area_code)
        self.town_mediator = Mediator.objects.create(body=self.town_body, name="赵调解",
                                                     area_code=self.town_body.area_code,
                                                     user=self.town_mediator_user)


def parties(**overrides):
    from zhili.disputes.services import PartyData

    applicant = {"side": PartySide.APPLICANT, "name": "张三", "id_number": ID_A,
                 "phone": "13812345678", "address": "金沙街道人民路1号", **overrides}
    return [PartyData(**applicant),
            PartyData(side=PartySide.RESPONDENT, kind="org", name="南通市某某医院",
                      uscc="91320612MA1P8BJ532",
                      representative="院长 李四")]


def register(m: Mediation, **overrides):
    from zhili.disputes.services import register_dispute

    values = {"actor": m.dispatcher, "channel": "walk_in", "title": "医疗费用赔偿纠纷",
              "occurred_on": timezone.localdate() - dt.timedelta(days=3),
              "place": "金沙街道某某医院", "area": m.world.village_a1, "type_code": "0502",
              "description": "患者术后感染，要求医院赔偿医疗费用。", "parties": parties(),
              "amount": "50000"}
    values.update(overrides)
    return register_dispute(**values).dispute


# --- battery factories ------------------------------------------------------------------------

def _body_for(world, place, marker):
    from zhili.orgs.models import Organisation

    org = Organisation.objects.create(name=f"{marker} 调委会", kind="mediation", area=place,
                                      area_code=place.code)
    return MediationBody.objects.create(org=org, kind=BodyKind.COMMITTEE,
                                        area_code=place.code)


def _placed(world, persona, inside: bool, marker: str):
    """(area, body) for a case: organisation staff reach the cases of their organisation."""
    if persona.org_scoped:
        if inside:
            body = MediationBody.objects.filter(org=persona.org).first() or \
                MediationBody.objects.create(org=persona.org, kind=BodyKind.COMMITTEE,
                                             area_code=persona.org.area_code)
            return persona.org.area, body
        place = persona.org.area
        return place, _body_for(world, place, marker)
    place = world.area_inside(persona) if inside else world.area_outside(persona)
    return place, None


@battery_factory(Dispute)
def make_dispute(world, persona, inside: bool, marker: str, **extra):
    place, body = _placed(world, persona, inside, marker)
    if place is None:
        return None
    dispute = Dispute.objects.create(
        title=marker, occurred_on=timezone.localdate(), place=marker, area=place,
        area_code=place.code, type_code="0201", stat_class="neighbour", description=marker,
        channel="walk_in", body=body, state="assigned" if body else "registered", **extra)
    dispute.number = f"JF{dispute.pk:010d}"
    dispute.save(update_fields=["number"])
    return dispute


@battery_factory(MediationBody)
def make_body(world, persona, inside: bool, marker: str):
    place, body = _placed(world, persona, inside, marker)
    if place is None:
        return None
    return body or _body_for(world, place, marker)


@battery_factory(Mediator)
def make_mediator(world, persona, inside: bool, marker: str):
    body = make_body(world, persona, inside, marker)
    if body is None:
        return None
    return Mediator.objects.create(body=body, name=marker, area_code=body.area_code)


@battery_factory(DisputeAlert)
def make_alert(world, persona, inside: bool, marker: str):
    dispute = make_dispute(world, persona, inside, marker)
    if dispute is None:
        return None
    return DisputeAlert.objects.create(dispute=dispute, area_code=dispute.area_code,
                                       kind="group", message=marker)


@battery_factory(CaseFile)
def make_file(world, persona, inside: bool, marker: str):
    dispute = make_dispute(world, persona, inside, marker)
    if dispute is None:
        return None
    stored = CaseFile(dispute=dispute, kind="evidence", filename=f"{marker}.pdf",
                      extension="pdf", content_type="application/pdf", size=8, sha256="0" * 64)
    stored.file.save("f.pdf", ContentFile(b"%PDF-1.4"), save=False)
    stored.save()
    return stored


@battery_factory(DisputeStat)
def make_stat(world, persona, inside: bool, marker: str):
    place = world.area_inside(persona) if inside else world.area_outside(persona)
    if place is None:
        return None
    return DisputeStat.objects.create(month=timezone.localdate().replace(day=1),
                                      area_code=place.code, dim="area", key=marker, cases=1)
