import pytest

from zhili.core.models import AuditLog
from zhili.events.models import EventCategory, RoutingRule, SLARule

pytestmark = pytest.mark.django_db


def test_area_admin_keeps_the_routing_table_of_their_area(loop, client_for):
    admin = client_for(loop.world.personas["district_admin"])
    response = admin.post("/events/routing/new/", {
        "area": loop.world.town_a1.pk, "category": loop.noise.pk,
        "lead_org": loop.world.justice_a.pk, "assist_orgs": [loop.world.police_a.pk],
        "note": "噪音由司法局牵头", "is_active": "on"})
    assert response.status_code == 302
    rule = RoutingRule.objects.get(category=loop.noise)
    assert list(rule.assist_orgs.all()) == [loop.world.police_a]
    assert AuditLog.objects.filter(action="event.routing_rule").exists()
    again = admin.post("/events/routing/new/", {
        "area": loop.world.town_a1.pk, "category": loop.noise.pk,
        "lead_org": loop.world.police_a.pk, "is_active": "on"})
    assert again.status_code == 200 and "already has an active rule" in again.content.decode()
    town = client_for(loop.world.personas["town_admin"])
    outside = town.post("/events/routing/new/", {
        "area": loop.world.county_a.pk, "category": loop.noise.pk,
        "lead_org": loop.world.police_a.pk, "is_active": "on"})
    assert outside.status_code == 200  # the county is not a choice for a town administrator
    assert RoutingRule.objects.count() == 2  # the loop's own rule and the one above


def test_categories_and_time_limits_are_edited_by_system_administrators(loop, client_for):
    root = client_for(loop.world.personas["superuser"])
    response = root.post(f"/events/categories/{loop.noise.pk}/", {
        "code": "noise", "name": "噪声扰民", "parent": loop.noise.parent_id,
        "keywords": "噪音 噪声", "default_urgency": "urgent", "handling_level": 3,
        "is_public": "on", "is_active": "on", "dup_radius_m": 150, "dup_hours": 48})
    assert response.status_code == 302
    assert EventCategory.objects.get(code="noise").default_urgency == "urgent"
    response = root.post("/events/limits/new/", {"category": loop.noise.pk, "urgency": "",
                                                 "step": "handle", "amount": "0",
                                                 "unit": "work_days"})
    assert response.status_code == 200 and "must be positive" in response.content.decode()
    default = SLARule.objects.get(category=None, urgency="", step="handle")
    response = root.post(f"/events/limits/{default.pk}/delete/")
    assert response.status_code == 302 and SLARule.objects.filter(pk=default.pk).exists()
    dispatcher = client_for(loop.dispatcher)
    assert dispatcher.post(f"/events/categories/{loop.noise.pk}/", {}).status_code == 403
