"""
The destination sensor (``poke``) and its trigger (``run()``) while the emulator injects faults.

Within one check the hook retries reads (5xx, dropped connections, timeouts, 429) within its budget;
when the budget runs out the check counts as "not ready yet" and the next poke (or the trigger's next
poll) tries again, until the sensor's own timeout. Waits run on the fake clock shared with the emulator.
"""

from __future__ import annotations

import asyncio

import pytest

from airflow_provider_ld.sensors.destinations import LaunchDarklyDestinationConfiguredSensor
from airflow_provider_ld.triggers.destinations import LaunchDarklyDestinationConfiguredTrigger
from tests.reliability.conftest import KEYS, connection_json, wait_for_calls

LIST = "/api/v2/destinations"
BY_ID = "/api/v2/destinations/proj/prod/*"
BACKOFF = [0.25, 0.5, 1.0, 2.0, 4.0]
RATE_LIMIT_BACKOFF = [
    1.0,
    2.0,
    4.0,
    8.0,
    15.0,
]  # the last step is capped at max_delay (30 s), halved by jitter 0


def fault(method: str, path: str, **kwargs):
    return {"method": method, "path": path, **kwargs}


@pytest.mark.parametrize(
    ("lookup", "faults", "gets_per_poke", "waits", "timeout"),
    [
        ("name", [fault("GET", LIST, status=503, times=2)], [3], BACKOFF[:2], None),
        ("id", [fault("GET", BY_ID, status=502, times=6)], [6, 1], BACKOFF, None),
        ("name", [fault("GET", LIST, drop="before", times=2)], [3], BACKOFF[:2], None),
        ("id", [fault("GET", BY_ID, drop="after", times=1)], [2], BACKOFF[:1], None),
        ("name", [fault("GET", LIST, delay=0.6)], [2], BACKOFF[:1], 0.25),
        ("id", [fault("GET", BY_ID, status=429, retry_after=5, times=2)], [3], [5.0, 5.0], None),
        (
            "name",
            [fault("GET", LIST, status=429, reset_in_past=True, times=1)],
            [2],
            RATE_LIMIT_BACKOFF[:1],
            None,
        ),
        ("id", [fault("GET", BY_ID, status=429, times=6)], [6, 1], RATE_LIMIT_BACKOFF, None),
    ],
    ids=[
        "503-burst",
        "502-outlasting-the-budget",
        "dropped-before",
        "dropped-after",
        "slower-than-timeout",
        "429-retry-after",
        "429-reset-in-past",
        "429-without-headers-outlasting-the-budget",
    ],
)
def test_poke_rides_out_faults(
    lookup, faults, gets_per_poke, waits, timeout, clocked_emulator, clocked_hooks, monkeypatch
):
    emulator, clock = clocked_emulator, clocked_hooks
    if timeout is not None:
        monkeypatch.setenv(
            "AIRFLOW_CONN_LAUNCHDARKLY_DEFAULT", connection_json(emulator.base_url, timeout=timeout)
        )
    created = emulator.add_destination("proj", "prod", kind="segment", name="events", on=True)
    target = {"destination_id": created["_id"]} if lookup == "id" else {"name": "events", "kind": "segment"}
    sensor = LaunchDarklyDestinationConfiguredSensor(
        task_id="wait", poke_interval=1, timeout=60, **KEYS, **target
    )
    for spec in faults:
        emulator.inject_fault(**spec)

    results = [bool(sensor.poke({})) for _ in gets_per_poke]
    assert results == [False] * (len(gets_per_poke) - 1) + [True]
    wait_for_calls(emulator, sum(gets_per_poke))  # a read given up on (timeout) is recorded when it ends
    assert len(emulator.calls_to()) == sum(gets_per_poke)
    assert {call.method for call in emulator.calls_to()} == {"GET"}
    assert clock.sleeps == waits
    assert len(emulator.destinations) == 1


def run_trigger(trigger: LaunchDarklyDestinationConfiguredTrigger, clock) -> list:
    trigger._clock, trigger._sleep = clock, clock.asleep

    async def collect():
        return [event async for event in trigger.run()]

    return asyncio.run(collect())


def make_trigger(clock, timeout: float = 600.0, **target) -> LaunchDarklyDestinationConfiguredTrigger:
    return LaunchDarklyDestinationConfiguredTrigger(
        **KEYS, end_time=clock.now + timeout, poll_interval=30.0, require_on=True, **target
    )


def test_trigger_polls_through_a_fault_storm(clocked_emulator, clocked_hooks, monkeypatch):
    """
    Budget 2 retries per request: 8 consecutive 503s fail two checks (3 GETs each), the third check succeeds.

    Retry waits (0.25, 0.5) and poll sleeps (30) both run on the fake clock; exactly one event fires.
    """
    emulator, clock = clocked_emulator, clocked_hooks
    monkeypatch.setenv("AIRFLOW_CONN_LAUNCHDARKLY_DEFAULT", connection_json(emulator.base_url, max_retries=2))
    created = emulator.add_destination("proj", "prod", kind="segment", name="events", on=True)
    emulator.inject_fault("GET", BY_ID, status=503, times=8)
    events = run_trigger(make_trigger(clock, destination_id=created["_id"]), clock)
    assert [event.payload["status"] for event in events] == ["success"]
    assert events[0].payload["destination_id"] == created["_id"]
    assert [call.status for call in emulator.calls_to()] == [503] * 8 + [200]
    assert clock.sleeps == [0.25, 0.5, 30.0, 0.25, 0.5, 30.0, 0.25, 0.5]


def test_trigger_rides_out_dropped_connections_and_429s(clocked_emulator, clocked_hooks):
    emulator, clock = clocked_emulator, clocked_hooks
    emulator.add_destination("proj", "prod", kind="segment", name="events", on=True)
    emulator.inject_fault("GET", LIST, drop="before")
    emulator.inject_fault("GET", LIST, status=429, retry_after=4)
    emulator.inject_fault("GET", LIST, status=429)
    emulator.inject_fault("GET", LIST, delay=0.01, drop="after")
    events = run_trigger(make_trigger(clock, name="events", kind="segment"), clock)
    assert [event.payload["status"] for event in events] == ["success"]
    assert [call.status for call in emulator.calls_to()] == [None, 429, 429, None, 200]
    assert clock.sleeps == [0.25, 4.0, 4.0, 2.0], (
        "backoff for the drops, the slower rate-limit backoff for the bare 429 (retry 3), Retry-After otherwise"
    )


def test_trigger_reports_a_persistent_fault_as_a_timeout_with_the_cause(
    clocked_emulator, clocked_hooks, monkeypatch
):
    emulator, clock = clocked_emulator, clocked_hooks
    monkeypatch.setenv("AIRFLOW_CONN_LAUNCHDARKLY_DEFAULT", connection_json(emulator.base_url, max_retries=1))
    emulator.inject_fault("GET", BY_ID, status=503, times=1000)
    events = run_trigger(make_trigger(clock, timeout=100.0, destination_id="abc"), clock)
    assert len(events) == 1
    payload = events[0].payload
    assert payload["status"] == "timeout"
    assert payload["message"].startswith(
        "destination abc in proj/prod not configured after 5 checks in 100 s"
    )
    assert "LaunchDarklyServerError: GET /api/v2/destinations/proj/prod/abc -> 503" in payload["message"]
    assert "gave up after 1 retries" in payload["message"]
    assert len(emulator.calls_to()) == 10, (
        "5 checks of 2 attempts each; the last poll sleep stops at the deadline"
    )
    assert clock.sleeps == [0.25, 30.0] * 3 + [0.25, 9.0, 0.25]
