import json

import pytest
from django.test import override_settings
from django.utils import timezone

from zhili.accounts import services
from zhili.accounts.models import ApiKey, User
from zhili.core.models import AuditLog
from zhili.core.scoping import get_scope
from zhili.core.services import ServiceError

pytestmark = pytest.mark.django_db
PASSWORD = "Battery#Pass2026"


def test_login_success_and_failure_are_audited(client, personas):
    response = client.post("/accounts/login/", {"username": "p.town_admin",
                                                "password": PASSWORD})
    assert response.status_code == 302 and response["Location"] == "/"
    assert AuditLog.objects.filter(action="auth.login", actor_name="p.town_admin").exists()
    client.logout()
    response = client.post("/accounts/login/", {"username": "p.town_admin", "password": "no"})
    assert response.status_code == 200 and b"Wrong user name or password" in response.content
    failure = AuditLog.objects.filter(action="auth.login_failed").latest("seq")
    assert failure.changes["reason"] == "bad password" and failure.ip == "127.0.0.1"
    client.post("/accounts/login/", {"username": "nobody", "password": "x"})
    assert AuditLog.objects.filter(action="auth.login_failed", actor_name="nobody").exists()


@override_settings(ZHILI_LOGIN_MAX_FAILURES=3, ZHILI_LOGIN_LOCKOUT_MINUTES=15)
def test_lockout_after_repeated_failures_even_with_the_right_password(client, personas):
    for _ in range(3):
        client.post("/accounts/login/", {"username": "p.grid_worker", "password": "wrong"})
    response = client.post("/accounts/login/", {"username": "p.grid_worker",
                                                "password": PASSWORD})
    assert b"locked" in response.content
    assert "_auth_user_id" not in client.session
    user = User.objects.get(username="p.grid_worker")
    user.locked_until = timezone.now() - timezone.timedelta(seconds=1)
    user.save()
    response = client.post("/accounts/login/", {"username": "p.grid_worker",
                                                "password": PASSWORD})
    assert response.status_code == 302


def test_open_redirect_after_login_is_refused(client, personas):
    response = client.post("/accounts/login/?next=https://evil.example/",
                           {"username": "p.town_admin", "password": PASSWORD})
    assert response["Location"] == "/"


@override_settings(ZHILI_SESSION_IDLE_MINUTES=30)
def test_idle_session_expires(client, personas):
    client.force_login(personas["town_admin"].user)
    assert client.get("/").status_code == 200
    session = client.session
    session["zhili_seen"] = int(timezone.now().timestamp()) - 31 * 60
    session.save()
    response = client.get("/areas/")
    assert response.status_code == 302 and "idle=1" in response["Location"]
    assert client.get("/").status_code == 302


@pytest.mark.parametrize("password,fragment", [
    ("short1A!", "too short"), ("alllowercaseletters", "at least three"),
    ("1234567890123", "entirely numeric"),
])
def test_password_rules(personas, world, password, fragment):
    with pytest.raises(ServiceError) as exc:
        services.create_user(actor=personas["superuser"].user, username="newbie",
                             password=password, role=world.roles["grid_worker"],
                             area=world.grid_a1)
    assert any(fragment in m for m in exc.value.field_messages["password"])
    assert not User.objects.filter(username="newbie").exists()


def test_position_switch_changes_scope(client, personas, world):
    user = personas["town_admin"].user
    services.grant_position(actor=personas["superuser"].user, user=user,
                            role=world.roles["grid_worker"], area=world.grid_a1)
    client.force_login(user)
    assert client.get(f"/areas/{world.town_a1.pk}/edit/").status_code == 200
    second = user.positions.get(role__code="grid_worker")
    client.post("/accounts/position/", {"position": second.pk})
    assert client.get(f"/areas/{world.town_a1.pk}/edit/").status_code == 404
    assert client.get(f"/areas/{world.grid_a1.pk}/edit/").status_code == 403
    me = client.get("/api/v1/me").json()
    assert me["active_position"]["role"] == "grid_worker"
    response = client.post("/accounts/position/", {"position": 999999})
    assert response.status_code == 302  # refused with a message, position unchanged
    assert client.get("/api/v1/me").json()["active_position"]["role"] == "grid_worker"


def test_positions_cannot_be_granted_outside_the_admins_subtree(personas, world):
    with pytest.raises(ServiceError) as exc:
        services.create_user(actor=personas["town_admin"].user, username="x1", password=PASSWORD,
                             role=world.roles["grid_worker"], area=world.village_a2)
    assert exc.value.code == "out_of_scope"
    assert not User.objects.filter(username="x1").exists()


def test_no_one_grants_more_than_they_hold(personas, world):
    with pytest.raises(ServiceError) as exc:
        services.create_user(actor=personas["town_admin"].user, username="x2", password=PASSWORD,
                             role=world.roles["sysadmin"], area=world.town_a1)
    assert "may not grant the role" in exc.value.field_messages["role"][0]


def test_users_with_positions_elsewhere_are_not_manageable(personas, world):
    worker = personas["grid_worker"].user
    services.grant_position(actor=personas["superuser"].user, user=worker,
                            role=world.roles["grid_worker"], area=world.grid_b1)
    with pytest.raises(ServiceError) as exc:
        services.reset_password(actor=personas["town_admin"].user, user=worker,
                                password="Another#Pass99")
    assert exc.value.status == 403


def test_org_role_needs_an_organisation(personas, world):
    with pytest.raises(ServiceError) as exc:
        services.create_user(actor=personas["superuser"].user, username="h", password=PASSWORD,
                             role=world.roles["handler"], area=world.county_a)
    assert "org" in exc.value.field_messages


def test_api_key_lifecycle(client, client_for, personas, world):
    admin = client_for(personas["district_admin"])
    response = admin.post("/api/v1/accounts/api-keys",
                          json.dumps({"org_id": world.police_a.pk, "name": "警务数据接口"}),
                          content_type="application/json")
    assert response.status_code == 201
    raw = response.json()["key"]
    key = ApiKey.objects.get(name="警务数据接口")
    assert raw not in key.key_hash and key.key_hash != raw
    admin.logout()
    me = client.get("/api/v1/me", HTTP_X_API_KEY=raw)
    assert me.status_code == 200 and me.json()["active_position"]["org_id"] == world.police_a.pk
    bearer = client.get("/api/v1/orgs", HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert [o["name"] for o in bearer.json()["items"]] == ["通州公安分局"]
    assert AuditLog.objects.filter(action="apikey.use", target_id=str(key.pk)).count() == 1
    services.revoke_api_key(actor=personas["district_admin"].user, key=key)
    refused = client.get("/api/v1/me", HTTP_X_API_KEY=raw)
    assert refused.status_code == 401 and "revoked" in refused.json()["message"]
    wrong = client.get("/api/v1/me", HTTP_X_API_KEY=raw[:-2] + "xx")
    assert wrong.status_code == 401 and "not valid" in wrong.json()["message"]
    assert client.get("/api/v1/me", HTTP_X_API_KEY="junk").json()["message"] == \
        "The API key is malformed."


def test_api_key_users_cannot_use_the_web_ui(client, personas, world):
    key, raw = services.create_api_key(actor=personas["superuser"].user, org=world.police_a,
                                       name="k")
    client.force_login(key.service_user)
    assert client.get("/areas/").status_code == 302


def test_ui_user_creation_with_first_position(client_for, personas, world):
    client = client_for(personas["town_admin"])
    response = client.post("/accounts/users/new/", {
        "username": "wang.wu", "display_name": "王五", "password": "Grid#Worker2026",
        "role": world.roles["grid_worker"].pk, "area": world.grid_a1b.pk, "title": "专职网格员"})
    assert response.status_code == 302
    user = User.objects.get(username="wang.wu")
    assert get_scope(user).prefix == world.grid_a1b.prefix
    listing = client.get("/accounts/users/").content.decode()
    assert "wang.wu" in listing and "p.sibling_admin" not in listing


def test_back_office_is_for_superusers_only_and_role_changes_are_audited(client, personas,
                                                                          world):
    staff = personas["district_admin"].user
    staff.is_staff = True
    staff.save()
    client.force_login(staff)
    assert client.get("/admin/").status_code == 302  # sent to the admin login, not let in
    client.force_login(personas["superuser"].user)
    group = world.roles["grid_worker"].group
    perm_ids = list(group.permissions.values_list("id", flat=True))
    from django.contrib.auth.models import Permission

    extra = Permission.objects.get(codename="view_user")
    response = client.post(f"/admin/auth/group/{group.pk}/change/",
                           {"name": group.name, "permissions": [*perm_ids, extra.pk]})
    assert response.status_code == 302
    row = AuditLog.objects.filter(action="role.permissions").latest("seq")
    assert row.changes == {"added": ["view_user"], "removed": []}
