"""The retry policy end to end: faults injected by the emulator, waits recorded instead of slept."""

from __future__ import annotations

import socket

import pytest

from airflow_provider_ld.api.retries import RetryPolicy
from airflow_provider_ld.exceptions import (
    LaunchDarklyConnectionError,
    LaunchDarklyError,
    LaunchDarklyRateLimitError,
    LaunchDarklyServerError,
)
from airflow_provider_ld.hooks.launchdarkly import LaunchDarklyHook
from tests.hooks.conftest import connection_json

PUBSUB = {"project": "gcp-proj", "topic": "ld-events"}
CREATE_PATH = "/api/v2/destinations/proj/prod"


def create(hook):
    return hook.create_destination("proj", "prod", kind="google-pubsub", name="events", config=PUBSUB)


def test_get_retries_5xx_with_backoff(hook, emulator, fake_sleep):
    emulator.inject_fault("GET", "/api/v2/destinations", status=503, times=2)
    assert hook.list_destinations() == []
    assert len(emulator.calls_to("GET")) == 3
    assert fake_sleep.waits == [0.25, 0.5]


def test_post_is_not_retried_after_5xx(hook, emulator, fake_sleep):
    emulator.inject_fault("POST", CREATE_PATH, status=502)
    with pytest.raises(LaunchDarklyServerError) as info:
        create(hook)
    assert info.value.status_code == 502
    assert len(emulator.calls_to("POST")) == 1
    assert fake_sleep.waits == []


def test_lost_answer_to_create_is_not_repeated(hook, emulator):
    emulator.inject_fault("POST", CREATE_PATH, drop="after")
    with pytest.raises(LaunchDarklyConnectionError) as info:
        create(hook)
    assert "may have been applied" in str(info.value)
    assert len(emulator.calls_to("POST")) == 1
    assert len(emulator.destinations) == 1, "the server acted once; the client did not act again"


def test_dropped_get_is_retried(hook, emulator):
    emulator.inject_fault("GET", "/api/v2/caller-identity", drop="before", times=2)
    hook.get_caller_identity()
    assert len(emulator.calls_to("GET")) == 3


def test_429_storm_on_create_converges_to_exactly_one_destination(hook, emulator, fake_sleep):
    emulator.inject_fault("POST", CREATE_PATH, status=429, retry_after=2, times=3)
    created = create(hook)
    assert [d["_id"] for d in emulator.destinations] == [created.id]
    assert len(emulator.calls_to("POST")) == 4
    assert fake_sleep.waits == [2.0, 2.0, 2.0]


def test_429_with_reset_in_the_past_falls_back_to_the_rate_limit_backoff(hook, emulator, fake_sleep):
    emulator.inject_fault("GET", "/api/v2/destinations", status=429, reset_in_past=True, times=2)
    hook.list_destinations()
    assert fake_sleep.waits == [1.0, 2.0]


def test_429_without_headers_backs_off_slower_than_a_server_error(hook, emulator, fake_sleep):
    emulator.inject_fault("POST", CREATE_PATH, status=429, times=1)
    create(hook)
    assert fake_sleep.waits == [1.0]


def test_rate_limit_outlasting_the_retries_fails_clearly(hook, emulator, fake_sleep):
    emulator.inject_fault("POST", CREATE_PATH, status=429, retry_after=1, times=10)
    with pytest.raises(LaunchDarklyRateLimitError) as info:
        create(hook)
    assert "gave up after 3 retries: 3 retries used" in str(info.value)
    assert len(emulator.calls_to("POST")) == 4
    assert emulator.destinations == []


def test_retry_budget_bounds_the_wait(emulator, monkeypatch, fake_sleep):
    monkeypatch.setenv(
        "AIRFLOW_CONN_LAUNCHDARKLY_DEFAULT", connection_json(emulator.base_url, max_retry_wait=5)
    )
    hook = LaunchDarklyHook(sleep=fake_sleep)
    emulator.inject_fault("GET", "/api/v2/destinations", status=429, retry_after=30)
    with pytest.raises(LaunchDarklyRateLimitError, match="exceed the 5 s retry budget"):
        hook.list_destinations()
    assert fake_sleep.waits == []


def test_version_guarded_patch_is_retried_but_unguarded_is_not(hook, emulator):
    created = create(hook)
    path = f"{CREATE_PATH}/{created.id}"
    emulator.inject_fault("PATCH", path, status=503)
    guarded = [
        {"op": "test", "path": "/version", "value": 1},
        {"op": "replace", "path": "/on", "value": True},
    ]
    assert hook.patch_destination("proj", "prod", created.id, guarded).on
    assert len(emulator.calls_to("PATCH")) == 2
    emulator.inject_fault("PATCH", path, status=503)
    with pytest.raises(LaunchDarklyServerError):
        hook.patch_destination("proj", "prod", created.id, [{"op": "replace", "path": "/on", "value": False}])
    assert len(emulator.calls_to("PATCH")) == 3


def test_slow_answer_past_timeout_is_retried_for_reads(emulator, monkeypatch, fake_sleep):
    monkeypatch.setenv("AIRFLOW_CONN_LAUNCHDARKLY_DEFAULT", connection_json(emulator.base_url, timeout=0.3))
    hook = LaunchDarklyHook(sleep=fake_sleep, retry_policy=RetryPolicy(max_retries=2, jitter=lambda: 0.0))
    emulator.inject_fault("GET", "/api/v2/caller-identity", delay=1.0)
    hook.get_caller_identity()
    assert len(fake_sleep.waits) == 1


def test_connection_refused_is_retried_even_for_create(monkeypatch, fake_sleep):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv("AIRFLOW_CONN_LAUNCHDARKLY_DEFAULT", connection_json(f"http://127.0.0.1:{port}"))
    hook = LaunchDarklyHook(sleep=fake_sleep, retry_policy=RetryPolicy(max_retries=2, jitter=lambda: 0.0))
    with pytest.raises(LaunchDarklyConnectionError) as info:
        create(hook)
    assert "could not connect to 127.0.0.1 (ConnectionError); gave up after 2 retries" in str(info.value)
    assert len(fake_sleep.waits) == 2


def test_redirects_are_not_followed(hook, emulator):
    emulator.inject_fault(
        "GET", "/api/v2/caller-identity", status=302, headers={"Location": "https://elsewhere.example/steal"}
    )
    with pytest.raises(LaunchDarklyError) as info:
        hook.get_caller_identity()
    assert info.value.status_code == 302
    assert len(emulator.calls_to()) == 1


def test_emulator_rate_limit_is_honoured_with_a_shared_fake_clock(emulator_with_clock):
    emulator, clock = emulator_with_clock
    emulator.set_rate_limit(global_limit=5, window_seconds=10.0)
    hook = LaunchDarklyHook(
        sleep=clock.advance, retry_policy=RetryPolicy(max_retries=3, jitter=lambda: 0.0, clock=clock)
    )
    for index in range(12):
        hook.create_destination("proj", "prod", kind="google-pubsub", name=f"d{index}", config=PUBSUB)
    assert len(emulator.destinations) == 12
    statuses = [call.status for call in emulator.calls_to("POST")]
    assert statuses.count(201) == 12
    assert statuses.count(429) == 2, "one 429 per exhausted window, then a wait until the reset"
    assert clock.now - clock.start == pytest.approx(20.0, abs=0.01)


@pytest.fixture
def emulator_with_clock(launchdarkly_emulator_factory, monkeypatch):
    class Clock:
        start = now = 1_800_000_000.0

        def __call__(self) -> float:
            return self.now

        def advance(self, seconds: float) -> None:
            self.now += seconds

    clock = Clock()
    emulator = launchdarkly_emulator_factory(clock=clock)
    monkeypatch.setenv("AIRFLOW_CONN_LAUNCHDARKLY_DEFAULT", connection_json(emulator.base_url))
    return emulator, clock
