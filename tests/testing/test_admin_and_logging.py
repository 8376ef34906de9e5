"""The ``/_emulator`` administration API, call recording and log hygiene."""

from __future__ import annotations

import logging

import pytest
import requests

from tests.testing.conftest import BETA, assert_error

SECRET_TOKEN = "api-0123456789-super-secret-token"
SECRET_VALUES = ("segment-write-key-SECRET", "fastly-api-token-SECRET", "hunter2-clickhouse-SECRET")


@pytest.fixture
def admin(launchdarkly_emulator):
    """POST/GET helper for the admin API (with the admin token)."""
    session = requests.Session()
    session.trust_env = False
    session.headers["Authorization"] = launchdarkly_emulator.admin_token
    base = f"{launchdarkly_emulator.base_url}/_emulator"

    def call(method: str, action: str, **kwargs) -> requests.Response:
        return session.request(method, f"{base}/{action}", timeout=5, **kwargs)

    yield call
    session.close()


def test_admin_faults_endpoint(admin, api):
    response = admin(
        "POST",
        "faults",
        json={"method": "GET", "path": "/api/v2/destinations", "status": 429, "retry_after": 3},
    )
    assert response.status_code == 204
    limited = api.get("/destinations")
    assert limited.status_code == 429 and limited.headers["Retry-After"] == "3"


def test_admin_rate_limit_endpoint(admin, api):
    assert admin("POST", "rate-limit", json={"global_limit": 1, "window_seconds": 60}).status_code == 204
    assert api.get("/destinations").headers["X-Ratelimit-Global-Limit"] == "1"
    assert api.get("/destinations").status_code == 429


def test_admin_calls_and_destinations(admin, api, launchdarkly_emulator):
    created = api.create_destination()
    destinations = admin("GET", "destinations")
    assert destinations.status_code == 200 and destinations.json() == [created]
    calls = admin("GET", "calls").json()
    assert calls[0]["method"] == "POST" and calls[0]["status"] == 201 and calls[0]["admin"] is False
    assert calls[0]["headers"]["authorization"] == "<redacted>"
    assert "body" not in calls[0] and "response_body" not in calls[0]
    assert calls[1]["path"] == "/_emulator/destinations" and calls[1]["admin"] is True
    assert [c.path for c in launchdarkly_emulator.calls_to()] == ["/api/v2/destinations/proj/prod"]
    assert all(c.admin for c in launchdarkly_emulator.calls[1:])


def test_admin_reset(admin, api, launchdarkly_emulator):
    api.create_destination()
    assert admin("POST", "reset").status_code == 204
    assert launchdarkly_emulator.destinations == []
    assert launchdarkly_emulator.calls_to() == []


@pytest.mark.parametrize(
    ("method", "action", "kwargs", "status"),
    [
        ("GET", "nope", {}, 404),
        ("GET", "reset", {}, 405),
        ("POST", "calls", {}, 405),
        ("POST", "faults", {"json": {"bogus": 1}}, 400),
        ("POST", "faults", {"json": {"drop": "sideways"}}, 400),
        ("POST", "faults", {"json": [1]}, 400),
        ("POST", "rate-limit", {"data": b"{", "headers": {"Content-Type": "application/json"}}, 400),
    ],
)
def test_admin_errors(admin, method, action, kwargs, status):
    response = admin(method, action, **kwargs)
    assert response.status_code == status
    assert response.json()["code"]


def test_secrets_never_logged(launchdarkly_emulator_factory, make_client, caplog):
    caplog.set_level(logging.DEBUG)
    emulator = launchdarkly_emulator_factory(token=SECRET_TOKEN)
    api = make_client(emulator, token=SECRET_TOKEN)
    segment, fastly, clickhouse = SECRET_VALUES
    assert (
        api.post("/destinations/p/e", json={"kind": "segment", "config": {"writeKey": segment}}).status_code
        == 201
    )
    fs = api.post(
        "/integration-capabilities/featureStore/p/e/fastly",
        json={"config": {"storeId": "s", "apiToken": fastly}},
        headers=BETA,
    )
    assert fs.status_code == 201
    api.post(
        "/destinations/projects/p/environments/e/kinds/clickhouse/setup",
        json={"clickHousePassword": clickhouse},
    )
    assert_error(
        make_client(emulator, token="wrong-" + SECRET_TOKEN).get("/destinations"), 401, "unauthorized"
    )
    emulator.inject_fault(drop="before")
    with pytest.raises(requests.ConnectionError):
        api.get("/destinations")
    emulator.stop()

    emulator_records = [r for r in caplog.records if r.name.startswith("airflow_provider_ld")]
    assert any("/api/v2/destinations/p/e" in r.getMessage() for r in emulator_records)  # DEBUG request lines
    assert all(r.levelno == logging.DEBUG for r in emulator_records)
    for secret in (SECRET_TOKEN, *SECRET_VALUES):
        assert secret not in caplog.text
    for call in emulator.calls:
        assert SECRET_TOKEN not in str(call.headers)
