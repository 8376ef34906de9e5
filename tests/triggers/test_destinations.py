"""The destination trigger driven with ``async for`` against the emulator, on a fake clock shared with it."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import time

import pytest
from airflow.triggers.base import TriggerEvent

from airflow_provider_ld.exceptions import LaunchDarklyValidationError
from airflow_provider_ld.hooks import launchdarkly_async
from airflow_provider_ld.hooks.launchdarkly import LaunchDarklyHook
from airflow_provider_ld.triggers.destinations import LaunchDarklyDestinationConfiguredTrigger
from tests.hooks.conftest import connection_json
from tests.triggers.conftest import SETUP_DELAY, FakeTime, blocking_calls, collect_events

CLASS_PATH = "airflow_provider_ld.triggers.destinations.LaunchDarklyDestinationConfiguredTrigger"
SECRET_WRITE_KEY = "seg-SECRET-trigger-write-key"
REDSHIFT_SETUP = {"name": "warehouse", "clusterIdentifier": "ld-cluster", "databaseName": "analytics"}


def make_trigger(
    fake_time: FakeTime, *, timeout: float = 600.0, **kwargs
) -> LaunchDarklyDestinationConfiguredTrigger:
    kwargs.setdefault("poll_interval", 30.0)
    return LaunchDarklyDestinationConfiguredTrigger(
        project_key="proj", environment_key="prod", end_time=fake_time.now + timeout, **kwargs
    )


def polls(emulator, path: str) -> int:
    return len(emulator.calls_to("GET", path))


@pytest.fixture
def redshift_destination_id(clocked_emulator) -> str:
    """Run the guided Redshift setup to completion; the destination becomes visible after ``SETUP_DELAY``."""
    with LaunchDarklyHook() as hook:
        hook.generate_warehouse_setup_script("proj", "prod", "redshift", REDSHIFT_SETUP)
        destination_id = hook.complete_warehouse_setup("proj", "prod", "redshift").id
    assert clocked_emulator.destinations == [], "not visible yet"
    return destination_id


# Serialisation


def test_serialize_round_trip():
    trigger = LaunchDarklyDestinationConfiguredTrigger(
        project_key="proj",
        environment_key="prod",
        name="events",
        kind="segment",
        require_on=False,
        launchdarkly_conn_id="ld_eu",
        poll_interval=15,
        end_time=1_800_000_600,
    )
    path, kwargs = trigger.serialize()
    assert path == CLASS_PATH
    assert kwargs == {
        "project_key": "proj",
        "environment_key": "prod",
        "destination_id": None,
        "name": "events",
        "kind": "segment",
        "require_on": False,
        "launchdarkly_conn_id": "ld_eu",
        "poll_interval": 15.0,
        "end_time": 1_800_000_600.0,
    }
    assert json.loads(json.dumps(kwargs)) == kwargs, "plain values only"
    rebuilt = LaunchDarklyDestinationConfiguredTrigger(**kwargs)
    assert rebuilt.serialize() == (path, kwargs)


def test_fake_time_is_not_serialised(fake_time):
    trigger = make_trigger(fake_time, destination_id="abc")
    trigger._clock, trigger._sleep = fake_time.time, fake_time.sleep
    assert set(trigger.serialize()[1]) == {
        "project_key",
        "environment_key",
        "destination_id",
        "name",
        "kind",
        "require_on",
        "launchdarkly_conn_id",
        "poll_interval",
        "end_time",
    }


@pytest.mark.parametrize(
    "kwargs",
    [{}, {"name": "events"}, {"kind": "segment"}, {"destination_id": "", "name": "", "kind": ""}],
)
def test_a_destination_must_be_identified(kwargs):
    with pytest.raises(LaunchDarklyValidationError, match="pass destination_id, or both name and kind"):
        LaunchDarklyDestinationConfiguredTrigger(project_key="p", environment_key="e", end_time=0, **kwargs)


def test_poll_interval_must_be_positive():
    with pytest.raises(ValueError, match="poll_interval"):
        LaunchDarklyDestinationConfiguredTrigger(
            project_key="p", environment_key="e", destination_id="d", end_time=0, poll_interval=0
        )


# run()


@pytest.mark.asyncio
async def test_guided_setup_appears_after_the_setup_delay(
    clocked_emulator, redshift_destination_id, fake_time, loop_watchdog
):
    trigger = make_trigger(fake_time, destination_id=redshift_destination_id, require_on=False)
    events = await collect_events(trigger, fake_time)

    path = f"/api/v2/destinations/proj/prod/{redshift_destination_id}"
    assert polls(clocked_emulator, path) == int(SETUP_DELAY / 30) + 1 == 4
    assert [call.status for call in clocked_emulator.calls_to("GET", path)] == [404, 404, 404, 200]
    assert fake_time.sleeps == [30.0, 30.0, 30.0]
    assert len(events) == 1 and isinstance(events[0], TriggerEvent)
    payload = events[0].payload
    assert payload["status"] == "success"
    assert payload["destination_id"] == redshift_destination_id
    assert (payload["project_key"], payload["environment_key"]) == ("proj", "prod")
    assert payload["message"] == f"destination {redshift_destination_id} (redshift) is configured and off"
    assert payload["destination"]["kind"] == "redshift"
    assert payload["destination"]["completedArtifacts"]["s3BucketName"]
    assert json.loads(json.dumps(payload)) == payload
    assert launchdarkly_async._CLIENTS[asyncio.get_running_loop()] == {}, "the hook let go of the client"


@pytest.mark.asyncio
async def test_waits_for_the_destination_to_be_switched_on(clocked_emulator, fake_time, loop_watchdog):
    created = clocked_emulator.add_destination(
        "proj", "prod", kind="segment", name="events", config={"writeKey": SECRET_WRITE_KEY}
    )
    switch_on = [{"op": "replace", "path": "/on", "value": True}]
    fake_time.after_sleep(
        2, lambda: LaunchDarklyHook().patch_destination("proj", "prod", created["_id"], switch_on)
    )
    trigger = make_trigger(fake_time, destination_id=created["_id"])
    events = await collect_events(trigger, fake_time)

    assert polls(clocked_emulator, f"/api/v2/destinations/proj/prod/{created['_id']}") == 3
    assert fake_time.sleeps == [30.0, 30.0]
    (event,) = events
    assert event.payload["status"] == "success"
    assert event.payload["destination"]["on"] is True
    assert event.payload["destination"]["config"] == {"writeKey": "**********"}
    assert SECRET_WRITE_KEY not in json.dumps(event.payload)


@pytest.mark.asyncio
async def test_by_name_and_kind(clocked_emulator, fake_time, loop_watchdog):
    clocked_emulator.add_destination("proj", "prod", kind="google-pubsub", name="events", on=True)
    clocked_emulator.add_destination("proj", "staging", kind="segment", name="events", on=True)
    created: dict = {}
    fake_time.after_sleep(
        1,
        lambda: created.update(
            clocked_emulator.add_destination("proj", "prod", kind="segment", name="events", on=True)
        ),
    )
    trigger = make_trigger(fake_time, name="events", kind="segment")
    (event,) = await collect_events(trigger, fake_time)

    assert polls(clocked_emulator, "/api/v2/destinations") == 2
    assert event.payload["status"] == "success"
    assert event.payload["destination_id"] == created["_id"]
    assert (event.payload["name"], event.payload["kind"]) == ("events", "segment")


@pytest.mark.asyncio
async def test_ambiguous_names_are_an_error(clocked_emulator, fake_time, loop_watchdog):
    for _ in range(2):
        clocked_emulator.add_destination("proj", "prod", kind="segment", name="events", on=True)
    trigger = make_trigger(fake_time, name="events", kind="segment")
    (event,) = await collect_events(trigger, fake_time)

    assert event.payload["status"] == "error"
    assert event.payload["error_type"] == "LaunchDarklyValidationError"
    assert event.payload["message"].startswith("ambiguous: 2 destinations named 'events' of kind 'segment'")
    assert fake_time.sleeps == []


@pytest.mark.asyncio
async def test_wrong_token_is_an_error_at_once(clocked_emulator, fake_time, monkeypatch, loop_watchdog):
    monkeypatch.setenv(
        "AIRFLOW_CONN_LAUNCHDARKLY_DEFAULT", connection_json(clocked_emulator.base_url, token="nope-123")
    )
    trigger = make_trigger(fake_time, destination_id="abc")
    (event,) = await collect_events(trigger, fake_time)

    assert event.payload == {
        "status": "error",
        "message": event.payload["message"],
        "project_key": "proj",
        "environment_key": "prod",
        "destination_id": "abc",
        "name": None,
        "kind": None,
        "error_type": "LaunchDarklyAuthError",
        "status_code": 401,
        # The error itself, so the sensor raises it again with its code, request id, method and path.
        "error": {
            "message": "Invalid access token",
            "method": "GET",
            "path": "/api/v2/destinations/proj/prod/abc",
            "status_code": 401,
            "code": "unauthorized",
            "request_id": event.payload["error"]["request_id"],
        },
    }
    assert "GET /api/v2/destinations/proj/prod/abc -> 401 unauthorized" in event.payload["message"]
    assert "nope-123" not in event.payload["message"]
    assert len(clocked_emulator.calls_to()) == 1
    assert fake_time.sleeps == []


@pytest.mark.asyncio
async def test_timeout_when_it_never_appears(clocked_emulator, fake_time, loop_watchdog):
    trigger = make_trigger(fake_time, destination_id="abc", timeout=100.0)
    (event,) = await collect_events(trigger, fake_time)

    assert fake_time.sleeps == [30.0, 30.0, 30.0, 10.0], "never sleeps past the deadline"
    assert polls(clocked_emulator, "/api/v2/destinations/proj/prod/abc") == 5, (
        "one last check at the deadline"
    )
    assert event.payload["status"] == "timeout"
    assert event.payload["message"] == (
        "destination abc in proj/prod not configured after 5 checks in 100 s: destination does not exist yet"
    )


@pytest.mark.asyncio
async def test_timeout_reports_the_last_reason(clocked_emulator, fake_time, loop_watchdog):
    clocked_emulator.add_destination("proj", "prod", kind="segment", name="events")
    trigger = make_trigger(fake_time, name="events", kind="segment", timeout=45.0)
    (event,) = await collect_events(trigger, fake_time)

    assert event.payload["status"] == "timeout"
    assert event.payload["message"].endswith("not configured after 3 checks in 45 s: destination is off")


@pytest.mark.asyncio
async def test_transient_errors_are_polled_through(clocked_emulator, fake_time, loop_watchdog, capsys):
    created = clocked_emulator.add_destination("proj", "prod", kind="segment", name="events", on=True)
    path = f"/api/v2/destinations/proj/prod/{created['_id']}"
    clocked_emulator.inject_fault("GET", path, status=503)
    clocked_emulator.inject_fault("GET", path, status=429)
    clocked_emulator.inject_fault("GET", path, drop="before")
    trigger = make_trigger(fake_time, destination_id=created["_id"])
    (event,) = await collect_events(trigger, fake_time)

    assert event.payload["status"] == "success"
    assert polls(clocked_emulator, path) == 4
    assert fake_time.sleeps == [30.0, 30.0, 30.0]
    logged = capsys.readouterr().out
    assert "check 1 failed, will retry" in logged and "503" in logged


@pytest.mark.asyncio
async def test_transient_errors_until_the_deadline_time_out(clocked_emulator, fake_time, loop_watchdog):
    clocked_emulator.inject_fault("GET", "/api/v2/destinations/proj/prod/abc", status=503, times=100)
    trigger = make_trigger(fake_time, destination_id="abc", timeout=60.0)
    (event,) = await collect_events(trigger, fake_time)

    assert event.payload["status"] == "timeout"
    assert "LaunchDarklyServerError" in event.payload["message"] and "503" in event.payload["message"]
    assert polls(clocked_emulator, "/api/v2/destinations/proj/prod/abc") == 3


@pytest.mark.asyncio
async def test_hook_retry_waits_use_the_trigger_sleep(
    clocked_emulator, fake_time, monkeypatch, loop_watchdog
):
    monkeypatch.setenv(
        "AIRFLOW_CONN_LAUNCHDARKLY_DEFAULT", connection_json(clocked_emulator.base_url, max_retries=2)
    )
    created = clocked_emulator.add_destination("proj", "prod", kind="segment", name="events", on=True)
    clocked_emulator.inject_fault(
        "GET", f"/api/v2/destinations/proj/prod/{created['_id']}", status=429, retry_after=2
    )
    trigger = make_trigger(fake_time, destination_id=created["_id"])
    (event,) = await collect_events(trigger, fake_time)

    assert event.payload["status"] == "success"
    assert len(fake_time.sleeps) == 1 and 2.0 <= fake_time.sleeps[0] < 2.5, "the Retry-After wait, not a poll"


@pytest.mark.asyncio
async def test_missing_connection_is_an_error_event(fake_time, loop_watchdog, monkeypatch):
    monkeypatch.delenv("AIRFLOW_CONN_NO_SUCH_CONN", raising=False)
    trigger = make_trigger(fake_time, destination_id="abc", launchdarkly_conn_id="no_such_conn")
    (event,) = await collect_events(trigger, fake_time)

    assert event.payload["status"] == "error"
    assert "no_such_conn" in event.payload["message"]


@pytest.mark.asyncio
async def test_cancellation_releases_the_client(clocked_emulator, fake_time):
    trigger = make_trigger(fake_time, destination_id="abc")
    started = asyncio.Event()

    async def blocked_sleep(seconds: float) -> None:
        started.set()
        await asyncio.Event().wait()

    trigger._clock, trigger._sleep = fake_time.time, blocked_sleep

    async def consume() -> None:
        async for _ in trigger.run():
            pass

    task = asyncio.create_task(consume())
    await started.wait()
    assert len(launchdarkly_async._CLIENTS[asyncio.get_running_loop()]) == 1
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert launchdarkly_async._CLIENTS[asyncio.get_running_loop()] == {}


@pytest.mark.asyncio
async def test_the_watchdog_sees_blocking_calls(clocked_emulator):
    """
    The check the other tests rely on sees a blocking sleep, connect and file read on the loop.

    Each is made in a task of its own and its error swallowed, as a poller's sleep task would; the check
    still reports it, whatever the call's duration.
    """
    host, port = clocked_emulator.base_url.removeprefix("http://").split(":")

    def sleep() -> None:
        time.sleep(0.001)

    def connect() -> None:
        socket.create_connection((host, int(port))).close()

    def read_file() -> None:
        with open(__file__, "rb") as source:
            source.read()

    async def swallowed(call) -> None:
        with contextlib.suppress(Exception):
            call()

    with blocking_calls() as seen:
        for call in (sleep, connect, read_file):
            await asyncio.create_task(swallowed(call))
    assert "time.sleep" in seen
    assert "socket.socket.connect" in seen
    assert "io.BufferedReader.read" in seen
    assert len(seen) == 3, seen
