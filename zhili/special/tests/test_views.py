"""The pages: the extra permission to list anybody, masking, intake in two steps, the phone
visit page, handover answers, category configuration."""

import json

import pytest
from django.urls import reverse

from zhili.special import handovers, services
from zhili.special.models import SpecialCategory, Supervision, Visit

from .conftest import id_number

pytestmark = pytest.mark.django_db


def test_listing_records_needs_the_special_permission(sp, client_for):
    sp.intake()
    # A leader reads the population registry but not the special-population records.
    client = client_for(sp.leader)
    assert client.get(reverse("special:list")).status_code == 403
    assert client.get(reverse("special:detail", args=[1])).status_code in (403, 404)
    assert client.get("/api/v1/special/records").status_code == 403
    assert client.get(reverse("special:coverage")).status_code == 200  # counts only
    # Out of reach reads as missing.
    other = sp.intake(person=sp.far, actor=sp.world.personas["city_dispatcher"].user)
    client = client_for(sp.town)
    assert client.get(reverse("special:detail", args=[other.pk])).status_code == 404


def test_list_is_scoped_masked_and_filtered(sp, client_for):
    a = sp.intake()
    sp.intake(person=sp.li, category=sp.cult, level="general")
    sp.intake(person=sp.wang, actor=sp.town2)
    services.mark_lost_contact(actor=sp.grid_worker, supervision=a, note="失联")
    client = client_for(sp.town)
    page = client.get(reverse("special:list")).content.decode()
    assert "张**" in page and "李**" in page and "王**" not in page  # 兴东 is not in reach
    assert "张三丰" not in page and id_number("320612", "19800101", "123") not in page
    assert "3206**********" in page
    page = client.get(reverse("special:list"), {"lost_contact": "on"}).content.decode()
    assert "张**" in page and "李**" not in page
    page = client.get(reverse("special:list"), {"category": sp.cult.pk}).content.decode()
    assert "李**" in page and "张**" not in page
    page = client.get(reverse("special:list"), {
        "id_number": id_number("320612", "19750505", "246")}).content.decode()
    assert "李**" in page and "张**" not in page


def test_intake_in_two_steps(sp, client_for):
    client = client_for(sp.town)
    url = reverse("special:intake")
    response = client.post(url, {"category": sp.mental.pk, "id_number": "320612"})
    assert response.status_code == 200 and b"18 characters" in response.content
    response = client.post(url, {"category": sp.mental.pk,
                                 "id_number": id_number("320612", "19800101", "123")})
    assert response.status_code == 200
    page = response.content.decode()
    assert "张**" in page and "details.diagnosis" in page  # step 2: the category's fields
    data = {"category": sp.mental.pk, "id_number": id_number("320612", "19800101", "123"),
            "level": "strict", "risk_level": "4", "started_on": "2025-01-02",
            "details.family_economy": "01", "details.on_subsistence": "true",
            "details.diagnosis": "99", "details.has_incidents": "false",
            "details.treatment": "01", "details.assistance": ["01", "03"]}
    response = client.post(url, {**data, "details.diagnosis": "77"})
    assert response.status_code == 200 and not Supervision.objects.exists()
    response = client.post(url, data)
    record = Supervision.objects.get()
    assert response.status_code == 302 and response.url == record.get_absolute_url()
    assert record.details["assistance"] == ["01", "03"] and record.risk_level == "4"
    response = client.post(url, data)  # again: already under management
    assert response.status_code == 200 and b"already under management" in response.content


def test_detail_and_actions(sp, client_for):
    s = sp.intake()
    services.add_helper(actor=sp.town, supervision=s, helper=services.Helper(
        role="guardian", name="张母", phone="13905137788"))
    client = client_for(sp.town)
    page = client.get(s.get_absolute_url()).content.decode()
    assert "张**" in page and "139****7788" in page and "13905137788" not in page
    assert "Missing from the team" in page  # 四个一: doctor, cadre, police still missing
    assert "精神分裂症" in page  # codes shown by their names
    response = client.post(reverse("special:risk", args=[s.pk]),
                           {"risk_level": "1", "reason": "", "version": s.version})
    assert response.status_code == 302
    s.refresh_from_db()
    assert s.risk_level == "3"  # refused: no reason
    client.post(reverse("special:risk", args=[s.pk]),
                {"risk_level": "1", "reason": "病情稳定", "version": s.version})
    s.refresh_from_db()
    assert s.risk_level == "1"
    client.post(reverse("special:helper_add", args=[s.pk]),
                {"role": "doctor", "name": "刘医生", "phone": "0513-85123456"})
    assert s.helpers.filter(role="doctor").exists()
    response = client.post(reverse("special:release", args=[s.pk]),
                           {"reason": "risk_cleared", "released_on": "2099-01-01"})
    assert response.status_code == 200 and b"future" in response.content


def test_phone_visit_page(sp, client_for, jpeg_bytes):
    from django.core.files.uploadedfile import SimpleUploadedFile

    s = sp.intake()
    client = client_for(sp.grid_worker)
    page = client.get(reverse("special:mobile")).content.decode()
    assert f"/special/{s.pk}/visit/" in page and "张**" in page
    url = reverse("special:visit", args=[s.pk]) + "?back=mobile"
    assert b"visit-form" in client.get(url).content
    response = client.post(url, {
        "method": "home", "findings": "状态良好", "contact_made": "on", "back": "mobile",
        "lat": "32.070000", "lng": "120.860000", "version": s.version,
        "photos": SimpleUploadedFile("v.jpg", jpeg_bytes(), "image/jpeg")})
    assert response.status_code == 302 and response.url == reverse("special:mobile")
    visit = Visit.objects.get()
    assert visit.visitor == sp.grid_worker and visit.photos.count() == 1
    photo_url = reverse("special:photo", args=[visit.photos.get().pk])
    assert client.get(photo_url).status_code == 200
    assert client_for(sp.town2).get(photo_url).status_code == 404  # 兴东 cannot see it


def test_handover_pages(sp, client_for):
    s = sp.intake()
    client = client_for(sp.town)
    url = reverse("special:handover_propose", args=[s.pk])
    response = client.post(url, {"to_area": "320612999", "reason": "搬迁", "version": s.version})
    assert response.status_code == 200 and b"No area with code" in response.content
    response = client.post(url, {"to_area": sp.world.village_a2.code[:12], "reason": "搬迁",
                                 "version": s.version})
    h = s.handovers.get()
    assert response.status_code == 302 and response.url == h.get_absolute_url()
    client = client_for(sp.town2)
    page = client.get(reverse("special:handovers")).content.decode()
    assert h.get_absolute_url() in page
    page = client.get(h.get_absolute_url()).content.decode()
    assert "do-accept" in page and "do-dispute" in page
    response = client.post(reverse("special:handover_act", args=[h.pk, "accept"]),
                           {"note": "已接收"})
    assert response.status_code == 302
    s.refresh_from_db()
    assert s.area == sp.world.village_a2
    assert client.get(s.get_absolute_url()).status_code == 200


def test_category_configuration(sp, client_for):
    admin = sp.user("a.city", "sysadmin", sp.world.city)
    client = client_for(admin)
    assert client.get(reverse("special:categories")).status_code == 200
    assert client.get(reverse("special:list")).status_code == 403  # config, not the records
    fields = [{"name": "petition_count", "label": "上访次数", "type": "int", "required": True},
              {"name": "concern", "label": "关注程度", "type": "choice", "table": "5.46"}]
    data = {"code": "petitioner", "name": "重点信访人员", "risk_scale": "hml",
            "visit_strict": 7, "visit_key": 15, "visit_general": 30, "visit_unit": "work_days",
            "field_definitions": "[{bad json", "is_active": "on", "sort": 70}
    response = client.post(reverse("special:category_create"), data)
    assert response.status_code == 200 and b"Not valid JSON" in response.content
    response = client.post(reverse("special:category_create"),
                           {**data, "field_definitions": json.dumps(fields)})
    assert response.status_code == 302
    local = SpecialCategory.objects.get(code="petitioner")
    assert not local.builtin and local.visit_unit == "work_days"
    record = sp.intake(category=local, risk_level="high",
                       details={"petition_count": "3", "concern": "01"})
    assert record.details == {"petition_count": 3, "concern": "01"}
    # A built-in category keeps its GB/T 31000 fields; local ones may be added.
    mental = sp.mental
    defs = [d for d in mental.field_definitions if d["name"] != "diagnosis"]
    response = client.post(reverse("special:category_edit", args=[mental.pk]), {
        **data, "code": "mental", "name": mental.name, "field_definitions": json.dumps(defs)})
    assert response.status_code == 200 and b"GB/T 31000 field" in response.content
    defs = [*mental.field_definitions, {"name": "local_note", "label": "备注", "type": "text"}]
    response = client.post(reverse("special:category_edit", args=[mental.pk]), {
        **data, "code": "mental", "name": mental.name, "field_definitions": json.dumps(defs)})
    assert response.status_code == 302
    mental.refresh_from_db()
    assert mental.field_definitions[-1]["name"] == "local_note" and mental.code == "mental"
    assert mental.visit_days == {"strict": 7, "key": 15, "general": 30}


def test_handover_act_with_unknown_action(sp, client_for):
    s = sp.intake()
    h = handovers.propose_handover(actor=sp.town, supervision=s,
                                   to_area=sp.world.village_a2.code, reason="搬迁")
    response = client_for(sp.town2).post(reverse("special:handover_act", args=[h.pk, "eat"]))
    assert response.status_code == 404


def test_unmasking_a_record_needs_its_own_permission_and_a_purpose(sp, client_for):
    s = sp.intake()
    number = id_number("320612", "19800101", "123")
    url = reverse("core:unmask", args=["special", "supervision", s.pk])
    assert client_for(sp.grid_worker).get(url).status_code == 403  # no unmask_supervision
    client = client_for(sp.town)
    assert number not in client.get(s.get_absolute_url()).content.decode()
    response = client.post(url, {"fields": ["person.id_number"], "purpose_category":
                                 "verification", "purpose": "核对身份，准备上门走访"})
    assert response.status_code == 302
    page = client.get(s.get_absolute_url()).content.decode()
    assert number in page and "张三丰" not in page  # only the field asked for


def test_list_pages_do_not_query_per_row(sp, client_for):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from .conftest import make_person

    client = client_for(sp.town)

    def queries(url):
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url).status_code == 200
        return len(ctx.captured_queries)

    sp.intake()
    queries(reverse("special:list"))  # the first request after signing in saves the session
    few = queries(reverse("special:list")), queries("/api/v1/special/records")
    for i in range(6):
        person = make_person(sp.world.grid_a1b, f"测试{i}", id_number("320612", "19900101",
                                                                       f"{500 + i}"))
        sp.intake(person=person, category=sp.cult)
    assert (queries(reverse("special:list")), queries("/api/v1/special/records")) == few
