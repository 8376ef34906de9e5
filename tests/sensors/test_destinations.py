"""The destination sensor against the emulator: poke and reschedule modes, deferral, and its XCom summary."""

from __future__ import annotations

import asyncio
import json
import logging
from datetime import timedelta
from types import SimpleNamespace

import pytest
import time_machine
from airflow.sdk import PokeReturnValue

from airflow_provider_ld.exceptions import (
    LaunchDarklyAuthError,
    LaunchDarklyError,
    LaunchDarklyValidationError,
)
from airflow_provider_ld.hooks.launchdarkly import LaunchDarklyHook
from airflow_provider_ld.sensors.destinations import LaunchDarklyDestinationConfiguredSensor
from airflow_provider_ld.triggers.destinations import LaunchDarklyDestinationConfiguredTrigger
from tests.airflow_compat import AirflowRescheduleException, AirflowSensorTimeout, TaskDeferred
from tests.hooks.conftest import EMULATOR_TOKEN, connection_json

SECRET_WRITE_KEY = "seg-SECRET-sensor-write-key-42"
NOW = 1_800_000_000.0


def make_sensor(**kwargs) -> LaunchDarklyDestinationConfiguredSensor:
    kwargs.setdefault("task_id", "wait_for_destination")
    kwargs.setdefault("project_key", "proj")
    kwargs.setdefault("environment_key", "prod")
    kwargs.setdefault("poke_interval", 5)
    kwargs.setdefault("timeout", 60)
    return LaunchDarklyDestinationConfiguredSensor(**kwargs)


def switch_on(destination_id: str) -> None:
    with LaunchDarklyHook() as hook:
        hook.patch_destination(
            "proj", "prod", destination_id, [{"op": "replace", "path": "/on", "value": True}]
        )


def logs(caplog, capsys) -> str:
    """Everything logged: stdlib records and Airflow's structlog output on stdout."""
    captured = capsys.readouterr()
    return caplog.text + captured.out + captured.err


# Construction


def test_template_fields_and_defaults():
    sensor = make_sensor(destination_id="abc", poke_interval=45)
    assert sensor.template_fields == (
        "project_key",
        "environment_key",
        "destination_id",
        "name",
        "kind",
        "launchdarkly_conn_id",
    )
    assert sensor.launchdarkly_conn_id == "launchdarkly_default"
    assert sensor.require_on is True
    assert sensor.deferrable is False
    assert sensor.poll_interval == 45.0, "defaults to poke_interval"
    assert "hook" not in sensor.__dict__, "the hook is built on first use, not in __init__"


@pytest.mark.parametrize("kwargs", [{}, {"name": "events"}, {"kind": "segment"}, {"destination_id": ""}])
def test_a_destination_must_be_identified(kwargs):
    with pytest.raises(LaunchDarklyValidationError, match="pass destination_id, or both name and kind"):
        make_sensor(**kwargs)


def test_templated_arguments_are_accepted_at_parse_time():
    sensor = make_sensor(project_key="{{ params.project }}", destination_id="{{ ti.xcom_pull('create') }}")
    assert sensor.project_key == "{{ params.project }}"


def test_modes_and_poll_interval():
    assert make_sensor(destination_id="abc", mode="reschedule").reschedule
    assert (
        make_sensor(destination_id="abc", deferrable=True, poll_interval=timedelta(minutes=2)).poll_interval
        == 120
    )
    with pytest.raises(ValueError, match="poll_interval"):
        make_sensor(destination_id="abc", deferrable=True, poke_interval=0)


def test_invalid_keys_fail_before_any_request(emulator, ld_connection):
    for kwargs in ({"project_key": "bad key"}, {"environment_key": ""}, {"destination_id": "../x"}):
        sensor = make_sensor(**{"destination_id": "abc", **kwargs})
        with pytest.raises(LaunchDarklyValidationError):
            sensor.execute({})
    assert emulator.calls_to() == []


# poke()


def test_poke_by_name_waits_for_the_destination_then_for_on(emulator, ld_connection, caplog, capsys):
    caplog.set_level(logging.INFO)
    sensor = make_sensor(name="events", kind="segment")

    first = sensor.poke({})
    assert isinstance(first, PokeReturnValue) and not first.is_done and first.xcom_value is None
    created = emulator.add_destination(
        "proj", "prod", kind="segment", name="events", config={"writeKey": SECRET_WRITE_KEY}
    )
    assert not sensor.poke({})
    switch_on(created["_id"])
    done = sensor.poke({})

    assert done.is_done
    assert done.xcom_value == {
        "destination_id": created["_id"],
        "project_key": "proj",
        "environment_key": "prod",
        "kind": "segment",
        "name": "events",
        "on": True,
        "version": 2,
        "destination": done.xcom_value["destination"],
    }
    assert done.xcom_value["destination"]["config"] == {"writeKey": "**********"}
    assert json.loads(json.dumps(done.xcom_value)) == done.xcom_value
    logged = logs(caplog, capsys)
    ready = f"destination {created['_id']} (segment) is configured and on"
    for reason in ("destination does not exist yet", "destination is off", ready):
        assert f"LaunchDarkly segment destination 'events' in proj/prod: {reason}" in logged
    assert SECRET_WRITE_KEY not in logged + json.dumps(done.xcom_value)


def test_poke_by_id_treats_404_as_waiting(emulator, ld_connection):
    sensor = make_sensor(destination_id="0123456789abcdef01234567")
    assert not sensor.poke({})
    assert [call.status for call in emulator.calls_to()] == [404]


def test_require_on_false_accepts_a_paused_destination(emulator, ld_connection):
    created = emulator.add_destination("proj", "prod", kind="kinesis", name="stream")
    done = make_sensor(destination_id=created["_id"], require_on=False).poke({})
    assert done.is_done and done.xcom_value["on"] is False


def test_auth_error_fails_at_once(emulator, monkeypatch, sensor_clock):
    monkeypatch.setenv(
        "AIRFLOW_CONN_LAUNCHDARKLY_DEFAULT", connection_json(emulator.base_url, token="wrong-token-s")
    )
    sensor = make_sensor(destination_id="abc", poke_interval=60, timeout=3600)
    with pytest.raises(LaunchDarklyAuthError, match="401"):
        sensor.execute({})
    assert sensor_clock.sleeps == [], "no waiting"
    assert len(emulator.calls_to()) == 1


def test_ambiguous_names_fail(emulator, ld_connection):
    for _ in range(2):
        emulator.add_destination("proj", "prod", kind="segment", name="events", on=True)
    with pytest.raises(LaunchDarklyValidationError, match="ambiguous: 2 destinations"):
        make_sensor(name="events", kind="segment").execute({})


def test_transient_errors_count_as_not_ready(emulator, monkeypatch, caplog, capsys):
    monkeypatch.setenv("AIRFLOW_CONN_LAUNCHDARKLY_DEFAULT", connection_json(emulator.base_url, max_retries=0))
    created = emulator.add_destination("proj", "prod", kind="segment", name="events", on=True)
    emulator.inject_fault("GET", f"/api/v2/destinations/proj/prod/{created['_id']}", status=503)
    sensor = make_sensor(destination_id=created["_id"])
    assert not sensor.poke({})
    assert "check failed, will retry" in logs(caplog, capsys)
    assert sensor.poke({}).is_done


def test_server_errors_count_as_not_ready_but_unexpected_answers_fail(emulator, ld_connection):
    sensor = make_sensor(destination_id="abc")
    emulator.inject_fault("GET", "/api/v2/destinations/proj/prod/abc", status=500)
    assert not sensor.poke({}), "a 500 (not retried by the hook) is a server error: not ready yet"
    emulator.inject_fault("GET", "/api/v2/destinations/proj/prod/abc", status=302, headers={"Location": "/x"})
    with pytest.raises(LaunchDarklyError) as info:
        sensor.poke({})
    assert info.value.status_code == 302


# execute(): poke and reschedule modes


def test_poke_mode_returns_the_summary(emulator, ld_connection, sensor_clock):
    created = emulator.add_destination("proj", "prod", kind="google-pubsub", name="events", on=True)
    summary = make_sensor(destination_id=created["_id"]).execute({})
    assert summary["destination_id"] == created["_id"] and summary["on"] is True
    assert sensor_clock.sleeps == [], "ready at the first poke"


def test_poke_mode_waits_the_poke_interval_until_ready(emulator, ld_connection, sensor_clock):
    created = emulator.add_destination("proj", "prod", kind="google-pubsub", name="events")
    sleeps_before_switch_on = 2

    def switch_on_after_two_waits() -> None:
        if len(sensor_clock.sleeps) == sleeps_before_switch_on:
            switch_on(created["_id"])

    sensor_clock.on_sleep = switch_on_after_two_waits
    summary = make_sensor(destination_id=created["_id"], poke_interval=7).execute({})
    assert summary["on"] is True
    assert sensor_clock.sleeps == [7, 7]
    assert len(emulator.calls_to("GET")) == 3


def test_poke_mode_honours_the_timeout(emulator, ld_connection, sensor_clock):
    sensor = make_sensor(destination_id="abc", poke_interval=5, timeout=12)
    with pytest.raises(AirflowSensorTimeout):
        sensor.execute({})
    assert sensor_clock.sleeps == [5, 5, 5], "pokes at 0, 5, 10 and 15 s; 15 s is past the timeout"
    assert len(emulator.calls_to()) == 4
    assert "session" not in sensor.hook.__dict__, "the hook's session was closed when execute() ended"


@time_machine.travel(NOW, tick=False)
def test_reschedule_mode_gives_the_slot_back(emulator, ld_connection, sensor_clock):
    sensor = make_sensor(destination_id="abc", mode="reschedule", poke_interval=300)
    ti = SimpleNamespace(get_first_reschedule_date=lambda context: None, xcom_push=lambda key, value: None)
    with pytest.raises(AirflowRescheduleException) as info:
        sensor.execute({"ti": ti})
    assert sensor_clock.sleeps == [], "no sleeping in the worker"
    assert info.value.reschedule_date.timestamp() == NOW + 300
    assert len(emulator.calls_to()) == 1


# Deferrable


@time_machine.travel(NOW, tick=False)
def test_deferrable_defers_with_the_trigger_and_the_timeout(emulator, ld_connection):
    sensor = make_sensor(
        name="events", kind="segment", deferrable=True, timeout=3600, poke_interval=20, require_on=False
    )
    with pytest.raises(TaskDeferred) as info:
        sensor.execute({})
    deferred = info.value
    assert deferred.method_name == "execute_complete"
    assert deferred.timeout == timedelta(seconds=3600)
    assert isinstance(deferred.trigger, LaunchDarklyDestinationConfiguredTrigger)
    path, kwargs = deferred.trigger.serialize()
    assert path == "airflow_provider_ld.triggers.destinations.LaunchDarklyDestinationConfiguredTrigger"
    assert kwargs == {
        "project_key": "proj",
        "environment_key": "prod",
        "destination_id": None,
        "name": "events",
        "kind": "segment",
        "require_on": False,
        "launchdarkly_conn_id": "launchdarkly_default",
        "poll_interval": 20.0,
        "end_time": NOW + 3600,
    }
    assert len(emulator.calls_to()) == 1, "one synchronous check before deferring"


def test_deferrable_returns_at_once_when_already_configured(emulator, ld_connection):
    created = emulator.add_destination("proj", "prod", kind="google-pubsub", name="events", on=True)
    sensor = make_sensor(destination_id=created["_id"], deferrable=True)
    summary = sensor.execute({})
    assert summary == make_sensor(destination_id=created["_id"]).poke({}).xcom_value


def test_deferral_round_trip_returns_the_poke_summary(emulator, ld_connection):
    sensor = make_sensor(name="events", kind="segment", deferrable=True)
    with pytest.raises(TaskDeferred) as info:
        sensor.execute({})
    emulator.add_destination(
        "proj", "prod", kind="segment", name="events", on=True, config={"writeKey": SECRET_WRITE_KEY}
    )
    _path, kwargs = info.value.trigger.serialize()
    trigger = LaunchDarklyDestinationConfiguredTrigger(**kwargs)

    async def first_event():
        async for event in trigger.run():
            return event

    event = asyncio.run(first_event())
    summary = sensor.execute_complete({}, event.payload)
    assert summary == make_sensor(name="events", kind="segment").poke({}).xcom_value
    assert SECRET_WRITE_KEY not in json.dumps(summary) + json.dumps(event.payload)


def test_execute_complete_error_raises_the_named_class():
    sensor = make_sensor(destination_id="abc")
    event = {
        "status": "error",
        "message": "GET /api/v2/destinations/proj/prod/abc -> 401 unauthorized: invalid token",
        "error_type": "LaunchDarklyAuthError",
        "status_code": 401,
    }
    with pytest.raises(LaunchDarklyAuthError) as info:
        sensor.execute_complete({}, event)
    assert str(info.value) == event["message"]
    assert info.value.status_code == 401

    ambiguous = {
        "status": "error",
        "message": "ambiguous: 2 destinations",
        "error_type": "LaunchDarklyValidationError",
    }
    with pytest.raises(LaunchDarklyValidationError, match="ambiguous"):
        sensor.execute_complete({}, ambiguous)

    unknown = {"status": "error", "message": "KeyError: 'x'", "error_type": "KeyError"}
    with pytest.raises(LaunchDarklyError, match="KeyError") as info:
        sensor.execute_complete({}, unknown)
    assert type(info.value) is LaunchDarklyError


def test_execute_complete_timeout_raises_sensor_timeout():
    message = "destination abc in proj/prod not configured after 5 checks in 100 s: destination is off"
    with pytest.raises(AirflowSensorTimeout, match="destination is off"):
        make_sensor(destination_id="abc").execute_complete({}, {"status": "timeout", "message": message})


def test_secrets_stay_out_of_xcom_logs_and_trigger(emulator, ld_connection, caplog, capsys):
    caplog.set_level(logging.DEBUG)
    created = emulator.add_destination(
        "proj", "prod", kind="segment", name="events", config={"writeKey": SECRET_WRITE_KEY}
    )
    sensor = make_sensor(destination_id=created["_id"], deferrable=True)
    with pytest.raises(TaskDeferred) as info:
        sensor.execute({})
    switch_on(created["_id"])
    summary = make_sensor(destination_id=created["_id"]).execute({})
    text = json.dumps(summary) + json.dumps(info.value.trigger.serialize()) + logs(caplog, capsys)
    assert SECRET_WRITE_KEY not in text
    assert EMULATOR_TOKEN not in text
    assert summary["destination"]["config"]["writeKey"] == "**********"


def test_sensor_pushes_the_destination_link_before_waiting(emulator, ld_connection):
    from airflow_provider_ld.links import DESTINATION_URL_XCOM_KEY, LaunchDarklyDestinationLink

    pushed = {}
    ti = SimpleNamespace(xcom_push=lambda key, value: pushed.__setitem__(key, value))
    sensor = LaunchDarklyDestinationConfiguredSensor(
        task_id="wait",
        project_key="proj",
        environment_key="prod",
        name="never",
        kind="segment",
        deferrable=True,
        poke_interval=5,
        timeout=60,
    )
    assert any(isinstance(link, LaunchDarklyDestinationLink) for link in sensor.operator_extra_links)
    with pytest.raises(TaskDeferred):
        sensor.execute({"ti": ti})
    assert (
        pushed[DESTINATION_URL_XCOM_KEY]
        == f"{emulator.base_url}/settings/integrations?project=proj&environment=prod"
    )


def test_a_deferred_failure_keeps_its_code_request_id_method_and_path(emulator, ld_connection, monkeypatch):
    sensor = make_sensor(destination_id="abc", deferrable=True)
    with pytest.raises(TaskDeferred) as info:
        sensor.execute({})
    # While deferred, the token is revoked: the trigger's next check is refused.
    monkeypatch.setenv(
        "AIRFLOW_CONN_LAUNCHDARKLY_DEFAULT", connection_json(emulator.base_url, token="revoked-token-77")
    )
    _path, kwargs = info.value.trigger.serialize()
    trigger = LaunchDarklyDestinationConfiguredTrigger(**kwargs)

    async def first_event():
        async for event in trigger.run():
            return event

    event = asyncio.run(first_event())
    payload = json.loads(json.dumps(event.payload))  # what the triggerer stores: plain JSON
    with pytest.raises(LaunchDarklyAuthError) as raised:
        sensor.execute_complete({}, payload)
    error = raised.value
    refused = emulator.calls_to("GET", "/api/v2/destinations/proj/prod/abc")[-1]
    assert (error.method, error.path, error.status_code, error.code) == (
        "GET",
        "/api/v2/destinations/proj/prod/abc",
        401,
        "unauthorized",
    )
    assert error.request_id and error.request_id == json.loads(refused.response_body)["id"]
    assert str(error) == payload["message"]
    assert "revoked-token-77" not in json.dumps(payload) + str(error) + repr(error)
