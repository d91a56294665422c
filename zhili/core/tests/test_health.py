import pytest


@pytest.mark.django_db
def test_health_and_readiness(client):
    assert client.get("/healthz").json() == {"status": "ok"}
    response = client.get("/readyz")
    assert response.status_code == 200 and response.json()["status"] == "ready"


@pytest.mark.django_db
def test_request_id_is_echoed(client):
    response = client.get("/healthz", HTTP_X_REQUEST_ID="abc123")
    assert response["X-Request-Id"] == "abc123"


@pytest.mark.django_db
def test_metrics_are_open_to_loopback_only_unless_a_token_is_set(client, world, settings):
    body = client.get("/metrics", REMOTE_ADDR="127.0.0.1").content.decode()
    assert 'zhili_areas{level="grid"} 3' in body and "zhili_audit_rows" in body
    assert client.get("/metrics", REMOTE_ADDR="10.1.2.3").status_code == 403
    settings.ZHILI_METRICS_TOKEN = "s3cret"
    assert client.get("/metrics", REMOTE_ADDR="127.0.0.1").status_code == 403
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer s3cret").status_code == 200
