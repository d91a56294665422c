"""Unmasking personal data: permission + scope, a stated purpose, the audit row, expiry, the
`{% pii %}` tag, the unmask page and the API route."""

import datetime as dt
import json
import re

import pytest
from django.contrib.auth.models import Permission
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.template import Context, Template
from django.utils import timezone

from zhili.core import unmask
from zhili.core.memo import clear_all
from zhili.core.models import AuditLog, UnmaskGrant
from zhili.core.scoping import forget_scope
from zhili.core.services import ServiceError

ID = "320602199001011234"
PHONE = "13812345678"
ADDRESS = "江苏省南通市崇川区和平桥街道工农路123号"
API = "/api/v1/pii/unmask"


def make_person(area, **extra):
    from zhili.people.models import Person

    values = {"name": "张三丰", "id_number": ID, "phone": PHONE, "current_address": ADDRESS,
              **extra}
    return Person.objects.create(area=area, area_code=area.code, **values)


def allow(persona, *perms, allowed=True):
    """Give (or take away) permissions through the persona's role, as an admin would."""
    for perm in perms:
        app_label, codename = perm.split(".")
        permission = Permission.objects.get(content_type__app_label=app_label, codename=codename)
        if allowed:
            persona.role.group.permissions.add(permission)
        else:
            persona.role.group.permissions.remove(permission)
    clear_all()  # role permissions are cached per process
    forget_scope(persona.user)


@pytest.fixture
def town(world):
    """The town administrator of 金沙街道, allowed to unmask persons."""
    persona = world.personas["town_admin"]
    allow(persona, "people.unmask_person", "people.view_person")
    return persona


@pytest.fixture
def person(world):
    return make_person(world.grid_a1)


def render(user, obj, field):
    template = Template('{% load pii %}{% pii obj field %}')
    return template.render(Context({"user": user, "obj": obj, "field": field}))


# --- the service --------------------------------------------------------------------------------


def test_grant_shows_the_fields_in_clear_for_a_while(town, person, settings):
    settings.ZHILI_UNMASK_MINUTES = 15
    user = town.user
    assert render(user, person, "id_number") == "3206**********1234"
    before = timezone.now()
    granted = unmask.grant_unmask(actor=user, obj=person, fields=["id_number", "phone"],
                                  purpose="核查户籍信息，案件 2026-0012", category="verification")
    assert granted.values() == {"id_number": ID, "phone": PHONE}
    grant = granted.grant
    assert dt.timedelta(minutes=14) < grant.expires_at - before <= dt.timedelta(minutes=15,
                                                                                  seconds=5)
    assert grant.purpose_category == "verification"
    assert unmask.active_fields(user, person) == {"id_number", "phone"}
    assert render(user, person, "id_number") == ID
    assert render(user, person, "phone") == PHONE
    # Fields not granted stay masked; so does everyone else's view.
    assert render(user, person, "current_address") == "江苏省南通市崇川区和平桥街道****"
    assert render(user, person, "name") == "张**"
    other = make_person(town.area, name="李四")
    assert render(user, other, "id_number") == "3206**********1234"
    assert render(None, person, "id_number") == "3206**********1234"


def test_the_grant_expires(town, person, monkeypatch):
    user = town.user
    unmask.grant_unmask(actor=user, obj=person, fields=["id_number"],
                        purpose="入户走访核实身份", category="visit")
    assert render(user, person, "id_number") == ID
    later = timezone.now() + dt.timedelta(minutes=unmask.grant_minutes(), seconds=1)
    monkeypatch.setattr(timezone, "now", lambda: later)
    # The same request (cached grants) and a new one both mask again.
    assert render(user, person, "id_number") == "3206**********1234"
    unmask.forget(user)
    assert unmask.active_fields(user, person) == set()


def test_minutes_can_shorten_but_not_extend(town, person, settings):
    settings.ZHILI_UNMASK_MINUTES = 10
    short = unmask.grant_unmask(actor=town.user, obj=person, fields=["phone"],
                                purpose="电话回访核实情况", minutes=2).grant
    long = unmask.grant_unmask(actor=town.user, obj=person, fields=["phone"],
                               purpose="电话回访核实情况", minutes=600).grant
    assert short.expires_at - short.granted_at == dt.timedelta(minutes=2)
    assert long.expires_at - long.granted_at == dt.timedelta(minutes=10)


def test_permission_is_required(world, person):
    persona = world.personas["town_admin"]
    allow(persona, "people.unmask_person", allowed=False)
    with pytest.raises(PermissionDenied):
        unmask.grant_unmask(actor=persona.user, obj=person, fields=["id_number"],
                            purpose="核查户籍信息")
    assert not UnmaskGrant.objects.exists()
    assert not AuditLog.objects.filter(action="pii.unmask").exists()


def test_scope_is_required(town, world):
    outside = make_person(world.grid_b1)
    with pytest.raises(Http404):
        unmask.grant_unmask(actor=town.user, obj=outside, fields=["id_number"],
                            purpose="核查户籍信息")
    assert not UnmaskGrant.objects.exists()


@pytest.mark.parametrize(("purpose", "category", "field"), [
    ("", "verification", "purpose"),
    ("   查   ", "verification", "purpose"),
    ("x" * 501, "verification", "purpose"),
    ("核查户籍信息", "curiosity", "purpose_category"),
])
def test_a_purpose_is_required(town, person, purpose, category, field):
    with pytest.raises(ServiceError) as caught:
        unmask.grant_unmask(actor=town.user, obj=person, fields=["id_number"],
                            purpose=purpose, category=category)
    assert field in caught.value.field_messages
    assert not UnmaskGrant.objects.exists()


@pytest.mark.parametrize("fields", [[], ["sex"], ["id_number_bidx"], ["person.phone"],
                                    ["note"], [3]])
def test_only_personal_data_fields_can_be_named(town, person, fields):
    with pytest.raises(ServiceError) as caught:
        unmask.grant_unmask(actor=town.user, obj=person, fields=fields, purpose="核查户籍信息")
    assert "fields" in caught.value.field_messages


def test_the_audit_row_has_the_purpose_and_no_value(town, person):
    granted = unmask.grant_unmask(actor=town.user, obj=person,
                                  fields=["phone", "id_number", "name", "current_address"],
                                  purpose="案件办理需要联系当事人", category="case")
    row = AuditLog.objects.get(action="pii.unmask")
    assert row.actor_id == town.user.pk
    assert row.target_type == "people.person" and row.target_id == str(person.pk)
    assert row.area_code == person.area_code
    assert row.changes["fields"] == ["id_number", "name", "phone", "current_address"]
    assert row.changes["purpose"] == "案件办理需要联系当事人"
    assert row.changes["purpose_category"] == "case"
    assert row.changes["grant"] == granted.grant.pk
    stored = json.dumps([row.changes, row.target_repr, row.actor_name], ensure_ascii=False)
    grant_row = json.dumps(list(UnmaskGrant.objects.values().get()), ensure_ascii=False,
                           default=str)
    for plain in (ID, PHONE, "张三丰", "工农路"):
        assert plain not in stored
        assert plain not in grant_row


def test_numbers_typed_into_the_purpose_are_masked(town, person):
    unmask.grant_unmask(actor=town.user, obj=person, fields=["phone"],
                        purpose=f"核查 {ID} 是否本人，电话 {PHONE}")
    row = AuditLog.objects.get(action="pii.unmask")
    assert row.changes["purpose"] == "核查 3206**********1234 是否本人，电话 138****5678"
    assert UnmaskGrant.objects.get().purpose == row.changes["purpose"]


def test_switching_to_a_position_without_the_permission_masks_again(town, person):
    unmask.grant_unmask(actor=town.user, obj=person, fields=["id_number"],
                        purpose="核查户籍信息")
    assert unmask.active_fields(town.user, person) == {"id_number"}
    allow(town, "people.unmask_person", allowed=False)
    unmask.forget(town.user)
    assert unmask.active_fields(town.user, person) == set()


def test_bulk_unmasking_is_throttled(town, world, settings):
    settings.ZHILI_UNMASK_MAX_PER_HOUR = 3
    people = [make_person(world.grid_a1, name=f"居民{n}") for n in range(4)]
    for each in people[:3]:
        unmask.grant_unmask(actor=town.user, obj=each, fields=["phone"], purpose="电话回访核实")
    with pytest.raises(ServiceError) as caught:
        unmask.grant_unmask(actor=town.user, obj=people[3], fields=["phone"],
                            purpose="电话回访核实")
    assert caught.value.status == 429


def test_a_record_without_its_own_permission_goes_through_its_parent(town, person, world):
    from zhili.people.models import Residency

    residency = Residency.objects.create(person=person, kind="floating", area_code=person.area_code,
                                         related_phone="13900001111")
    assert unmask.authority_model(Residency).__name__ == "Person"
    assert "related_phone" in unmask.unmaskable_fields(Residency)
    assert "person.id_number" in unmask.unmaskable_fields(Residency)
    assert "details" not in unmask.unmaskable_fields(Residency)  # a JSON document
    unmask.grant_unmask(actor=town.user, obj=residency,
                        fields=["related_phone", "person.id_number"], purpose="核查流动人口信息")
    assert render(town.user, residency, "related_phone") == "13900001111"
    # The path also unmasks the field on the person's own pages.
    assert unmask.active_fields(town.user, person) == {"id_number"}
    assert render(town.user, person, "id_number") == ID
    # Scope and permission are the person's.
    far = Residency.objects.create(person=make_person(world.grid_b1), kind="floating",
                                   area_code=world.grid_b1.code)
    with pytest.raises(Http404):
        unmask.authorise(town.user, Residency, far.pk)
    allow(town, "people.unmask_person", allowed=False)
    with pytest.raises(PermissionDenied):
        unmask.authorise(town.user, Residency, residency.pk)


def test_tag_reads_one_query_per_request(town, world, django_assert_max_num_queries):
    people = [make_person(world.grid_a1, name=f"居民{n}") for n in range(5)]
    unmask.grant_unmask(actor=town.user, obj=people[0], fields=["phone"], purpose="电话回访核实")
    user = town.user
    unmask.forget(user)
    forget_scope(user)
    template = Template('{% load pii %}{% for p in people %}{% pii p "name" %} '
                        '{% pii p "phone" %};{% endfor %}')
    with django_assert_max_num_queries(4):  # grants, and the position behind the scope
        text = template.render(Context({"user": user, "people": people}))
    assert text.startswith(f"居** {PHONE};居** 138****5678;")


# --- the page --------------------------------------------------------------------------------


def url(obj):
    return f"/pii/unmask/{obj._meta.app_label}/{obj._meta.model_name}/{obj.pk}/"


def test_page_shows_the_form(client_for, town, person):
    client = client_for(town)
    response = client.get(url(person) + "?fields=phone&next=/people/")
    assert response.status_code == 200
    body = response.content.decode()
    assert 'name="purpose"' in body
    checked = re.findall(r'<input type="checkbox" name="fields" value="(\w+)"[^>]*?(checked)?>',
                         body)
    assert dict(checked) == {"id_number": "", "name": "", "former_name": "", "phone": "checked",
                             "registered_address": "", "current_address": ""}
    assert ID not in body and PHONE not in body
    partial = client.get(url(person), headers={"HX-Request": "true"})
    assert partial.templates[0].name == "core/unmask_form.html"
    assert "<html" not in partial.content.decode()


def test_page_grants_and_goes_back(client_for, town, person):
    client = client_for(town)
    response = client.post(url(person), {"fields": ["id_number", "phone"], "purpose":
                                         "入户走访核实身份", "purpose_category": "visit",
                                         "next": "/people/?q=1"})
    assert response.status_code == 302 and response["Location"] == "/people/?q=1"
    assert UnmaskGrant.objects.get().fields == ["id_number", "phone"]
    assert unmask.active_fields(town.user, person) == {"id_number", "phone"}
    # Somewhere else: back to the record's own page instead.
    response = client.post(url(person), {"fields": ["phone"], "purpose": "入户走访核实身份",
                                         "purpose_category": "visit",
                                         "next": "https://evil.example/"})
    assert response["Location"] == person.get_absolute_url()
    htmx = client.post(url(person), {"fields": ["phone"], "purpose": "入户走访核实身份",
                                     "purpose_category": "visit", "next": "/people/"},
                       headers={"HX-Request": "true"})
    assert htmx.status_code == 204 and htmx["HX-Redirect"] == "/people/"


def test_page_refuses_without_a_purpose(client_for, town, person):
    client = client_for(town)
    response = client.post(url(person), {"fields": ["id_number"], "purpose": "查",
                                         "purpose_category": "visit"})
    assert response.status_code == 200
    assert response.context["form"].errors["purpose"]
    assert not UnmaskGrant.objects.exists()


def test_page_answers_404_and_403(client_for, world, town, person):
    client = client_for(town)
    outside = make_person(world.grid_b1)
    assert client.get(url(outside)).status_code == 404
    assert client.get("/pii/unmask/core/job/1/").status_code == 404  # no personal data
    assert client.get("/pii/unmask/nope/nothing/1/").status_code == 404
    assert client.get(f"/pii/unmask/people/person/{person.pk}x/").status_code == 404
    grid = client_for(world.personas["grid_worker"])
    allow(world.personas["grid_worker"], "people.unmask_person", allowed=False)
    assert grid.get(url(person)).status_code == 403
    assert grid.post(url(person), {"fields": ["id_number"], "purpose": "核查户籍信息",
                                   "purpose_category": "visit"}).status_code == 403


def test_route_scope_names_an_unmaskable_example_for_the_battery():
    from zhili.core.routes import ui_routes

    route = next(r for r in ui_routes() if r.name == "core:unmask")
    scope = route.scope
    assert scope.action == "unmask" and scope.lookup == "pk"
    assert unmask.authority_model(scope.model) is scope.model
    params = dict(scope.params)
    assert (params["app_label"], params["model_name"]) == (scope.model._meta.app_label,
                                                          scope.model._meta.model_name)


# --- the API ---------------------------------------------------------------------------------


def post(client, body):
    return client.post(API, data=json.dumps(body), content_type="application/json")


def test_api_returns_the_values_and_expiry(client_for, town, person):
    response = post(client_for(town), {"model": "people.person", "id": person.pk,
                                       "fields": ["id_number", "phone"],
                                       "purpose": "案件办理需要联系当事人",
                                       "purpose_category": "case"})
    assert response.status_code == 200, response.content
    data = response.json()
    assert data["values"] == {"id_number": ID, "phone": PHONE}
    assert data["model"] == "people.person" and data["id"] == str(person.pk)
    expires = dt.datetime.fromisoformat(data["expires_at"])
    assert abs(UnmaskGrant.objects.get().expires_at - expires) < dt.timedelta(milliseconds=1)
    row = AuditLog.objects.get(action="pii.unmask")
    assert row.channel in ("api", "web", "system") and ID not in json.dumps(row.changes)


def test_api_refusals(client_for, world, town, person):
    client = client_for(town)
    body = {"model": "people.person", "id": person.pk, "fields": ["id_number"],
            "purpose": "核查户籍信息"}
    assert post(client, {**body, "purpose": "查"}).json()["fields"]["purpose"]
    assert post(client, {**body, "fields": ["sex"]}).json()["fields"]["fields"]
    assert post(client, {**body, "model": "core.job"}).status_code == 400
    assert post(client, {**body, "id": make_person(world.grid_b1).pk}).status_code == 404
    assert post(client, {**body, "id": 10**9}).status_code == 404
    assert post(client, {k: v for k, v in body.items() if k != "purpose"}).status_code == 422
    grid = world.personas["grid_worker"]
    allow(grid, "people.unmask_person", allowed=False)
    assert post(client_for(grid), body).status_code == 403
    client.logout()
    assert post(client, body).status_code == 401
    assert not UnmaskGrant.objects.exists()


def test_special_population_records_use_their_own_permission(world, person):
    from zhili.special.models import HelperMember, SpecialCategory, Supervision

    category = SpecialCategory.objects.create(code="unmask-test", name="测试类别",
                                              visit_days={"general": 30})
    record = Supervision.objects.create(person=person, category=category, level="general",
                                        risk_level="low", area=person.area,
                                        area_code=person.area_code)
    helper = HelperMember.objects.create(supervision=record, role="guardian", name="王监护",
                                         phone="13700001111")
    persona = world.personas["grid_worker"]
    allow(persona, "people.unmask_person", allowed=False)
    allow(persona, "special.unmask_supervision", "special.view_supervision")
    user = persona.user
    assert "person.id_number" in unmask.unmaskable_fields(Supervision)
    assert unmask.authority_model(HelperMember) is Supervision
    # The person's own permission is not needed: the record's is.
    unmask.grant_unmask(actor=user, obj=record, fields=["person.id_number"],
                        purpose="列管人员核查身份", category="verification")
    assert render(user, record, "person.id_number") == ID
    assert render(user, person, "id_number") == ID  # the same person on the registry page
    assert render(user, person, "phone") == "138****5678"
    assert render(user, helper, "phone") == "137****1111"
    unmask.grant_unmask(actor=user, obj=helper, fields=["phone"], purpose="联系监护人了解情况")
    assert render(user, helper, "phone") == "13700001111"
    assert AuditLog.objects.filter(action="pii.unmask", target_type="special.helpermember",
                                   target_id=str(helper.pk)).exists()
    # Without the record's permission, neither the record nor its helpers.
    allow(persona, "special.unmask_supervision", allowed=False)
    with pytest.raises(PermissionDenied):
        unmask.authorise(user, HelperMember, helper.pk)
    unmask.forget(user)
    assert render(user, helper, "phone") == "137****1111"
    assert render(user, person, "id_number") == "3206**********1234"


def test_unmask_url_tag(rf, world, town, person):
    template = Template('{% load pii %}{% pii_unmask_url obj "phone" as url %}[{{ url }}]')
    request = rf.get("/people/persons/1/?tab=a")
    text = template.render(Context({"user": town.user, "obj": person, "request": request}))
    assert text == (f"[/pii/unmask/people/person/{person.pk}/?next=%2Fpeople%2Fpersons%2F1%2F"
                    "%3Ftab%3Da&amp;fields=phone]")
    grid = world.personas["grid_worker"]
    allow(grid, "people.unmask_person", allowed=False)
    assert template.render(Context({"user": grid.user, "obj": person})) == "[]"
