"""Rate limiting (fake clock) and fault injection."""

from __future__ import annotations

import threading

import pytest
import requests

from tests.testing.conftest import assert_error

CREATE_PATH = "/api/v2/destinations/proj/prod"
PUBSUB_BODY = {"kind": "google-pubsub", "config": {"project": "p", "topic": "t"}}


@pytest.fixture
def clocked(launchdarkly_emulator_factory, make_client, fake_clock):
    """``(emulator, client)`` driven by the fake clock."""
    emulator = launchdarkly_emulator_factory(clock=fake_clock)
    return emulator, make_client(emulator)


# ------------------------------------------------------------------------------------------ rate limits


def test_no_rate_limit_headers_by_default(api):
    response = api.get("/destinations")
    assert not [name for name in response.headers if name.lower().startswith("x-ratelimit")]


def test_global_limit_headers_and_429(clocked, fake_clock):
    emulator, api = clocked
    emulator.set_rate_limit(global_limit=2, window_seconds=10.0)
    reset = str(int((fake_clock.now + 10) * 1000))
    first = api.get("/destinations")
    assert first.headers["X-Ratelimit-Global-Limit"] == "2"
    assert first.headers["X-Ratelimit-Global-Remaining"] == "1"
    assert first.headers["X-Ratelimit-Reset"] == reset
    assert "X-Ratelimit-Route-Limit" not in first.headers
    assert api.get("/caller-identity").headers["X-Ratelimit-Global-Remaining"] == "0"
    limited = api.post("/destinations/proj/prod", json=PUBSUB_BODY)
    assert_error(limited, 429, "rate_limited")
    assert limited.headers["X-Ratelimit-Global-Remaining"] == "0"
    assert limited.headers["X-Ratelimit-Reset"] == reset
    assert emulator.destinations == []  # not acted on

    fake_clock.advance(10)
    fresh = api.post("/destinations/proj/prod", json=PUBSUB_BODY)
    assert fresh.status_code == 201
    assert fresh.headers["X-Ratelimit-Global-Remaining"] == "1"
    assert fresh.headers["X-Ratelimit-Reset"] == str(int((fake_clock.now + 10) * 1000))


def test_window_is_fixed_not_sliding(clocked, fake_clock):
    emulator, api = clocked
    emulator.set_rate_limit(global_limit=1, window_seconds=10.0)
    fake_clock.advance(9.5)
    assert api.get("/destinations").status_code == 200
    assert api.get("/destinations").status_code == 429
    fake_clock.advance(0.5)
    assert api.get("/destinations").status_code == 200


def test_route_limit_is_per_method_and_pattern(clocked, fake_clock):
    emulator, api = clocked
    emulator.set_rate_limit(route_limit=1)
    first = api.get("/destinations/proj/prod/a")
    assert first.headers["X-Ratelimit-Route-Limit"] == "1"
    assert first.headers["X-Ratelimit-Route-Remaining"] == "0"
    assert first.headers["X-Ratelimit-Reset"] == str(int((fake_clock.now + 10) * 1000))
    assert "X-Ratelimit-Global-Limit" not in first.headers
    # same pattern, different IDs → same route bucket
    assert_error(api.get("/destinations/proj/prod/b"), 429, "rate_limited")
    # other method or other pattern → own buckets
    assert api.delete("/destinations/proj/prod/a").status_code == 404
    assert api.get("/destinations").status_code == 200


def test_token_limit_headers(clocked, fake_clock):
    emulator, api = clocked
    emulator.set_rate_limit(token_limit=3, window_seconds=5.0)
    response = api.get("/destinations")
    assert response.headers["X-Ratelimit-Auth-Token-Limit"] == "3"
    assert response.headers["X-Ratelimit-Auth-Token-Remaining"] == "2"
    assert response.headers["X-Ratelimit-Auth-Token-Reset"] == str(int((fake_clock.now + 5) * 1000))
    assert "X-Ratelimit-Reset" not in response.headers


def test_all_families_together(clocked):
    emulator, api = clocked
    emulator.set_rate_limit(global_limit=10, route_limit=5, token_limit=1)
    response = api.get("/destinations")
    assert {name for name in response.headers if name.lower().startswith("x-ratelimit")} == {
        "X-Ratelimit-Global-Limit",
        "X-Ratelimit-Global-Remaining",
        "X-Ratelimit-Reset",
        "X-Ratelimit-Route-Limit",
        "X-Ratelimit-Route-Remaining",
        "X-Ratelimit-Auth-Token-Limit",
        "X-Ratelimit-Auth-Token-Remaining",
        "X-Ratelimit-Auth-Token-Reset",
    }
    limited = api.get("/destinations")
    assert_error(limited, 429, "rate_limited")
    # the rejected request was not counted anywhere
    assert limited.headers["X-Ratelimit-Global-Remaining"] == "9"
    assert limited.headers["X-Ratelimit-Auth-Token-Remaining"] == "0"


def test_unauthenticated_requests_are_not_limited(clocked, make_client):
    emulator, api = clocked
    emulator.set_rate_limit(global_limit=1)
    anonymous = make_client(emulator, token=None)
    response = anonymous.get("/destinations")
    assert response.status_code == 401
    assert "X-Ratelimit-Global-Limit" not in response.headers
    assert api.get("/destinations").status_code == 200


def test_error_responses_carry_limit_headers(clocked):
    emulator, api = clocked
    emulator.set_rate_limit(global_limit=5)
    assert api.get("/destinations/p/e/missing").headers["X-Ratelimit-Global-Remaining"] == "4"
    assert api.get("/integration-capabilities/featureStore").headers["X-Ratelimit-Global-Remaining"] == "3"


def test_disabling_limits(clocked):
    emulator, api = clocked
    emulator.set_rate_limit(global_limit=0)
    assert api.get("/destinations").status_code == 429
    emulator.set_rate_limit()
    response = api.get("/destinations")
    assert response.status_code == 200 and "X-Ratelimit-Reset" not in response.headers


@pytest.mark.parametrize("kwargs", [{"global_limit": -1}, {"route_limit": 1.5}, {"window_seconds": 0}])
def test_invalid_rate_limit_arguments(launchdarkly_emulator, kwargs):
    with pytest.raises(ValueError):
        launchdarkly_emulator.set_rate_limit(**kwargs)


# ------------------------------------------------------------------------------------------ status faults


def test_status_fault_answers_without_acting(api, launchdarkly_emulator):
    launchdarkly_emulator.inject_fault(method="POST", path=CREATE_PATH, status=503, times=2)
    for _ in range(2):
        response = api.post("/destinations/proj/prod", json=PUBSUB_BODY)
        assert_error(response, 503, "service_unavailable")
    assert launchdarkly_emulator.destinations == []
    assert api.post("/destinations/proj/prod", json=PUBSUB_BODY).status_code == 201
    calls = launchdarkly_emulator.calls_to(method="POST")
    assert [c.fault_injected for c in calls] == [True, True, False]


def test_fault_matching_by_method_and_prefix(api, launchdarkly_emulator):
    launchdarkly_emulator.inject_fault(method="GET", path="/api/v2/destinations/*", status=500)
    assert api.get("/destinations").status_code == 200  # prefix requires the trailing slash
    assert api.post("/destinations/proj/prod", json=PUBSUB_BODY).status_code == 201  # other method
    assert_error(api.get("/destinations/proj/prod/x"), 500, "internal_server_error")
    assert api.get("/destinations/proj/prod/x").status_code == 404  # consumed


def test_faults_are_consumed_in_order(api, launchdarkly_emulator):
    launchdarkly_emulator.inject_fault(status=502)
    launchdarkly_emulator.inject_fault(status=504)
    assert launchdarkly_emulator.pending_faults == 2
    assert [api.get("/destinations").status_code for _ in range(3)] == [502, 504, 200]
    assert launchdarkly_emulator.pending_faults == 0


def test_fault_applies_before_auth(launchdarkly_emulator, make_client):
    launchdarkly_emulator.inject_fault(status=503)
    assert make_client(launchdarkly_emulator, token=None).get("/destinations").status_code == 503


def test_429_fault_with_retry_after(api, launchdarkly_emulator):
    launchdarkly_emulator.inject_fault(status=429, retry_after=7)
    response = api.get("/destinations")
    assert_error(response, 429, "rate_limited")
    assert response.headers["Retry-After"] == "7"
    assert "X-Ratelimit-Reset" not in response.headers


def test_429_fault_with_reset_in_past(clocked, fake_clock):
    emulator, api = clocked
    emulator.inject_fault(status=429, reset_in_past=True)
    response = api.get("/destinations")
    assert_error(response, 429, "rate_limited")
    assert response.headers["X-Ratelimit-Reset"] == str(int((fake_clock.now - 5) * 1000))
    assert "Retry-After" not in response.headers


def test_429_fault_without_hints_has_no_limit_headers(api, launchdarkly_emulator):
    launchdarkly_emulator.inject_fault(status=429)
    response = api.get("/destinations")
    assert_error(response, 429, "rate_limited")
    assert not [name for name in response.headers if name.lower().startswith(("x-ratelimit", "retry-after"))]


def test_fault_with_custom_body_and_headers(api, launchdarkly_emulator):
    launchdarkly_emulator.inject_fault(
        status=500, body={"code": "boom", "message": "custom"}, headers={"X-Trace": "abc"}
    )
    response = api.get("/destinations")
    assert response.status_code == 500
    assert response.json() == {"code": "boom", "message": "custom"}
    assert response.headers["X-Trace"] == "abc"


@pytest.mark.parametrize("kwargs", [{"drop": "sideways"}, {"times": 0}, {"status": 99}, {"delay": -1}])
def test_invalid_fault_arguments(launchdarkly_emulator, kwargs):
    with pytest.raises(ValueError):
        launchdarkly_emulator.inject_fault(**kwargs)


# ------------------------------------------------------------------------------------------ delay and drop


class DelayRecorder:
    """
    Watch the emulator's injected delays: it waits on its stop event, so wrap that event's ``wait``.

    ``waits`` lists each delay asked for with whether the stop interrupted it; ``entered`` is set when a
    request starts its delay. With ``real=False`` a delay ends at once, as if the time had passed.
    """

    def __init__(self, emulator, monkeypatch, *, real: bool) -> None:
        self.waits: list[tuple[float, bool]] = []
        self.entered = threading.Event()
        stopping = emulator._stopping
        original = stopping.wait

        def wait(timeout: float | None = None) -> bool:
            self.entered.set()
            interrupted = original(timeout) if real else False
            self.waits.append((timeout, interrupted))
            return interrupted

        monkeypatch.setattr(stopping, "wait", wait)


def test_delay_fault_delays_then_answers(api, launchdarkly_emulator, monkeypatch):
    delays = DelayRecorder(launchdarkly_emulator, monkeypatch, real=False)
    launchdarkly_emulator.inject_fault(path="/api/v2/destinations", delay=30)
    assert api.get("/destinations").status_code == 200
    assert delays.waits == [(30, False)], "waited the whole delay, then answered"
    assert api.get("/destinations").status_code == 200
    assert delays.waits == [(30, False)], "one delay per injected fault"


def test_stop_interrupts_a_delay(launchdarkly_emulator_factory, make_client, monkeypatch):
    emulator = launchdarkly_emulator_factory()
    delays = DelayRecorder(emulator, monkeypatch, real=True)
    api = make_client(emulator)
    emulator.inject_fault(delay=3600)
    outcome: list[object] = []

    def call() -> None:
        try:
            outcome.append(api.get("/destinations", timeout=3600).status_code)
        except requests.ConnectionError as exc:
            outcome.append(exc)

    worker = threading.Thread(target=call)
    worker.start()
    assert delays.entered.wait(timeout=30), "the request never reached its delay"
    emulator.stop()
    worker.join(timeout=30)
    assert not worker.is_alive(), "an hour-long delay still blocks the client after stop()"
    assert delays.waits == [(3600, True)]
    assert isinstance(outcome[0], requests.ConnectionError)


def test_drop_before_closes_without_acting(api, launchdarkly_emulator):
    launchdarkly_emulator.inject_fault(method="POST", path=CREATE_PATH, drop="before")
    with pytest.raises(requests.ConnectionError):
        api.post("/destinations/proj/prod", json=PUBSUB_BODY)
    assert launchdarkly_emulator.destinations == []
    (call,) = launchdarkly_emulator.calls_to(method="POST")
    assert call.status is None and call.response_body == b""
    assert api.get("/destinations").status_code == 200  # next request works on a new connection


def test_drop_after_acts_then_closes(api, launchdarkly_emulator):
    launchdarkly_emulator.inject_fault(method="POST", path=CREATE_PATH, drop="after")
    with pytest.raises(requests.ConnectionError):
        api.post("/destinations/proj/prod", json=PUBSUB_BODY)
    (destination,) = launchdarkly_emulator.destinations
    assert destination["kind"] == "google-pubsub"
    assert api.get("/destinations").json()["items"] == [destination]
    assert launchdarkly_emulator.calls_to(method="POST")[0].status is None


def test_admin_calls_ignore_faults_and_limits(launchdarkly_emulator, api):
    launchdarkly_emulator.inject_fault(status=500)
    launchdarkly_emulator.set_rate_limit(global_limit=0)
    base = launchdarkly_emulator.base_url
    response = requests.get(
        f"{base}/_emulator/calls", headers={"Authorization": launchdarkly_emulator.admin_token}, timeout=5
    )
    assert response.status_code == 200
    assert "X-Ratelimit-Global-Limit" not in response.headers
    assert api.get("/destinations").status_code == 500  # the fault was still pending
