"""The operators stay correct against what production does: obfuscated secrets, slow and refused warehouse setups."""

from __future__ import annotations

import json

import pytest

from airflow_provider_ld.exceptions import LaunchDarklyValidationError
from airflow_provider_ld.operators import warehouse as warehouse_module
from airflow_provider_ld.operators.destinations import (
    LaunchDarklyCompleteWarehouseSetupOperator,
    LaunchDarklyUpdateDestinationOperator,
    LaunchDarklyWarehouseSetupOperator,
)
from airflow_provider_ld.testing import ApiFidelity
from tests.hooks.conftest import connection_json
from tests.testing.conftest import FakeClock

KEYS = {"project_key": "proj", "environment_key": "prod"}
WRITE_KEY = "segment-write-key-0123456789"
COMPLETE = "/api/v2/destinations/projects/proj/environments/prod/kinds/snowflake-v2/complete-setup"


@pytest.fixture
def propagating(launchdarkly_emulator_factory, monkeypatch):
    """An emulator whose new Snowflake keys propagate for 40 s, and a fake clock the operator waits on."""
    clock = FakeClock()
    emulator = launchdarkly_emulator_factory(clock=clock, fidelity=ApiFidelity(key_propagation_delay=40))
    monkeypatch.setenv("AIRFLOW_CONN_LAUNCHDARKLY_DEFAULT", connection_json(emulator.base_url, timeout=5))
    sleeps: list[float] = []

    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        clock.advance(seconds)

    monkeypatch.setattr(warehouse_module, "_sleep", sleep)
    monkeypatch.setattr(warehouse_module, "_monotonic", clock)
    return emulator, sleeps


def _start_snowflake_setup(context) -> str:
    started = LaunchDarklyWarehouseSetupOperator(task_id="setup", kind="snowflake-v2", **KEYS).execute(
        context
    )
    return started["setup"]["publicKey"]


def _complete(public_key, **kwargs):
    return LaunchDarklyCompleteWarehouseSetupOperator(
        task_id="complete", kind="snowflake-v2", public_key=public_key, **KEYS, **kwargs
    )


def test_complete_waits_while_the_new_key_propagates(propagating, context):
    emulator, sleeps = propagating
    done = _complete(_start_snowflake_setup(context)).execute(context)
    assert done["action"] == "completed"
    assert sleeps == [15.0, 15.0, 15.0]
    assert [call.status for call in emulator.calls_to("POST", COMPLETE)] == [400, 400, 400, 201]
    assert len(emulator.destinations) == 1


def test_complete_gives_up_after_its_timeout_with_the_api_error(propagating, context):
    emulator, sleeps = propagating
    public_key = _start_snowflake_setup(context)
    with pytest.raises(LaunchDarklyValidationError, match="propagating"):
        _complete(public_key, connection_test_timeout=20, connection_test_interval=10).execute(context)
    assert sleeps == [10.0, 10.0]
    assert len(emulator.calls_to("POST", COMPLETE)) == 3
    assert emulator.destinations == []


def test_complete_without_waiting_fails_at_once(propagating, context):
    emulator, sleeps = propagating
    with pytest.raises(LaunchDarklyValidationError):
        _complete(_start_snowflake_setup(context), connection_test_timeout=0).execute(context)
    assert sleeps == []
    assert len(emulator.calls_to("POST", COMPLETE)) == 1


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"connection_test_timeout": -1}, "connection_test_timeout"),
        ({"connection_test_timeout": "60"}, "connection_test_timeout"),
        ({"connection_test_interval": 0}, "connection_test_interval"),
        ({"connection_test_interval": float("nan")}, "connection_test_interval"),
    ],
)
def test_complete_wait_settings_are_checked_before_any_request(propagating, context, kwargs, field):
    emulator, _ = propagating
    with pytest.raises(LaunchDarklyValidationError) as info:
        _complete("key", **kwargs).execute(context)
    assert info.value.field == field
    assert emulator.calls_to() == []


def test_setup_refused_because_the_kind_exists_answers_exists(ld_connection, emulator, context):
    existing = emulator.add_destination("proj", "prod", kind="snowflake-v2", name="made in the UI")
    result = LaunchDarklyWarehouseSetupOperator(
        task_id="setup", kind="snowflake-v2", setup={"name": "from airflow"}, **KEYS
    ).execute(context)
    assert (result["action"], result["destination_id"], result["setup"]) == ("exists", existing["_id"], None)
    setup_calls = emulator.calls_to("POST", "/api/v2/destinations/projects/")
    assert [call.status for call in setup_calls] == [400]


def test_same_update_twice_sends_one_patch_then_reports_unchanged(ld_connection, emulator, context):
    target = emulator.add_destination(
        "proj", "prod", kind="segment", name="seg", config={"writeKey": WRITE_KEY}
    )

    def update():
        return LaunchDarklyUpdateDestinationOperator(
            task_id="update",
            destination_id=target["_id"],
            kind="segment",
            on=True,
            config={"writeKey": WRITE_KEY},
            **KEYS,
        ).execute(context)

    assert update()["action"] == "updated"
    second = update()
    assert second["action"] == "unchanged"
    patches = emulator.calls_to("PATCH")
    assert len(patches) == 1
    assert [op["path"] for op in patches[0].json()] == ["/version", "/on"]
    assert WRITE_KEY not in json.dumps(second)


def test_update_rotates_a_secret_only_when_asked(ld_connection, emulator, context):
    target = emulator.add_destination(
        "proj", "prod", kind="segment", name="seg", config={"writeKey": WRITE_KEY}
    )
    rotated = "segment-write-key-rotated-4242"

    def update(**kwargs):
        return LaunchDarklyUpdateDestinationOperator(
            task_id="update",
            destination_id=target["_id"],
            kind="segment",
            config={"writeKey": rotated},
            **KEYS,
            **kwargs,
        ).execute(context)

    assert update()["action"] == "unchanged"
    assert update(rotate_secrets=True)["action"] == "updated"
    assert emulator.stored_destinations[0]["config"]["writeKey"] == rotated
    with pytest.raises(LaunchDarklyValidationError, match="rotate_secrets"):
        update(rotate_secrets="true")


@pytest.mark.parametrize(
    ("build", "field"),
    [
        (
            lambda: LaunchDarklyWarehouseSetupOperator(
                task_id="setup", kind="snowflake-v2", setup={"databaseNme": "DB"}, **KEYS
            ),
            "setup.databaseNme",
        ),
        (
            lambda: LaunchDarklyUpdateDestinationOperator(
                task_id="update",
                name="seg",
                kind="segment",
                config={"writeKey": WRITE_KEY, "userIdContextKind": "user"},
                **KEYS,
            ),
            "config.userIdContextKind",
        ),
    ],
)
def test_typos_the_api_would_ignore_are_refused_before_any_request(
    ld_connection, emulator, context, build, field
):
    # Production ignores unknown body fields, so only these client-side checks catch a typo.
    with pytest.raises(LaunchDarklyValidationError) as info:
        build().execute(context)
    assert info.value.field == field
    assert emulator.calls_to() == []
