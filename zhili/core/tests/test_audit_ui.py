import pytest

from zhili.core import audit

pytestmark = pytest.mark.django_db


def test_auditors_search_within_their_reach(client_for, personas, world):
    audit.record(actor=None, actor_name="alice", action="area.update",
                 area_code=world.grid_a1.code, changes={"name": ["a", "b"]})
    audit.record(actor=None, actor_name="bob", action="area.update",
                 area_code=world.grid_b1.code, changes={})
    auditor = personas["superuser"]
    client = client_for(auditor)
    page = client.get("/audit/?actor=alice&action=area.").content.decode()
    assert "alice" in page and "bob" not in page
    rows = client.get("/api/v1/audit?action=area.&limit=1").json()
    assert len(rows["items"]) == 1 and rows["next_before"] is not None
    older = client.get(f"/api/v1/audit?action=area.&before={rows['next_before']}").json()
    assert [r["actor_name"] for r in older["items"]] == ["alice"]
    page = client.get("/audit/?area=3206130").content.decode()
    assert "bob" in page and "alice" not in page
    bad = client.get("/audit/?area=32x").content.decode()
    assert "digits only" in bad
