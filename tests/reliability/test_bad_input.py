"""
Bad input for every public operator, sensor, trigger and hook argument, and for the connection.

Each case must raise ``LaunchDarklyValidationError`` naming the field (``.field``) before any request:
the emulator records no call and no socket is even opened. Inputs an earlier run of this suite found
reaching the wire are kept in ``FORMER_GAPS``, each with what used to happen.
"""

from __future__ import annotations

import datetime
import json
import socket
from collections.abc import Callable
from typing import Any

import pytest

from airflow_provider_ld.exceptions import LaunchDarklyValidationError
from airflow_provider_ld.hooks import launchdarkly as hooks_module
from airflow_provider_ld.operators.destinations import (
    LaunchDarklyCompleteWarehouseSetupOperator,
    LaunchDarklyCreateDestinationOperator,
    LaunchDarklyDeleteDestinationOperator,
    LaunchDarklyToggleDestinationOperator,
    LaunchDarklyUpdateDestinationOperator,
    LaunchDarklyWarehouseSetupOperator,
)
from airflow_provider_ld.sensors.destinations import LaunchDarklyDestinationConfiguredSensor
from airflow_provider_ld.triggers.destinations import LaunchDarklyDestinationConfiguredTrigger
from tests.reliability.conftest import KEYS, connection_json, make_context

LONG_NAME = "n" * 513  # names: at most 512 characters
LONG_KEY = "k" * 257  # keys: at most 256 characters
SEGMENT = {"writeKey": "seg-write-key"}
PUBSUB = {"project": "gcp-proj", "topic": "ld-events"}
MPARTICLE = {
    "apiKey": "mp-key",
    "secret": "mp-secret",
    "environment": "production",
    "userIdentity": "customer_id",
}
Call = Callable[[], Any]


def create(**kwargs) -> Call:
    values = {"task_id": "create", "kind": "segment", "name": "events", "config": SEGMENT, **KEYS} | kwargs
    return lambda: LaunchDarklyCreateDestinationOperator(**values).execute(make_context())


def update(**kwargs) -> Call:
    values = {"task_id": "update", "name": "events", "kind": "google-pubsub", **KEYS} | kwargs
    return lambda: LaunchDarklyUpdateDestinationOperator(**values).execute(make_context())


def toggle(**kwargs) -> Call:
    values = {"task_id": "toggle", "destination_id": "abc", "on": True, **KEYS} | kwargs
    return lambda: LaunchDarklyToggleDestinationOperator(**values).execute(make_context())


def delete(**kwargs) -> Call:
    values = {"task_id": "delete", "destination_id": "abc", **KEYS} | kwargs
    return lambda: LaunchDarklyDeleteDestinationOperator(**values).execute(make_context())


def setup(**kwargs) -> Call:
    values = {"task_id": "setup", "kind": "snowflake-v2", **KEYS} | kwargs
    return lambda: LaunchDarklyWarehouseSetupOperator(**values).execute(make_context())


def complete(**kwargs) -> Call:
    values = {"task_id": "complete", "kind": "redshift", **KEYS} | kwargs
    return lambda: LaunchDarklyCompleteWarehouseSetupOperator(**values).execute(make_context())


def sensor(**kwargs) -> Call:
    values = {"task_id": "wait", "destination_id": "abc", **KEYS} | kwargs
    return lambda: LaunchDarklyDestinationConfiguredSensor(**values).poke({})


def hook(method: str, *args, **kwargs) -> Call:
    def call():
        with hooks_module.LaunchDarklyHook() as h:
            return getattr(h, method)(*args, **kwargs)

    return call


def trigger_event(**kwargs) -> Call:
    """Run the trigger; an invalid key must become an error event before any request."""

    def call():
        import asyncio

        trigger = LaunchDarklyDestinationConfiguredTrigger(
            end_time=0, **{"destination_id": "abc", **KEYS, **kwargs}
        )

        async def first():
            (event,) = [event async for event in trigger.run()]  # a trigger yields exactly one event
            return event.payload

        payload = asyncio.run(first())
        assert payload["error_type"] == "LaunchDarklyValidationError"
        raise LaunchDarklyValidationError(payload["message"], field=payload["message"].split(":")[0])

    return call


#: (case id, the call, the field the error must name, connection overrides)
CASES: list[tuple[str, Call, str, dict[str, Any] | None]] = [
    # create operator
    ("create/unknown-kind", create(kind="segmnt"), "kind", None),
    ("create/empty-kind", create(kind=""), "kind", None),
    ("create/kind-not-a-string", create(kind=42), "kind", None),
    ("create/warehouse-only-kind", create(kind="clickhouse", config={}), "kind", None),
    ("create/missing-config-field", create(config={}), "config.writeKey", None),
    ("create/mistyped-secret", create(config={"writeKey": 123}), "config.writeKey", None),
    ("create/empty-secret", create(config={"writeKey": ""}), "config.writeKey", None),
    ("create/misspelt-field", create(config={"writeKey": "w", "writekey": "w"}), "config.writekey", None),
    ("create/config-is-a-list", create(config=["writeKey"]), "config", None),
    ("create/config-invalid-json", create(config="{writeKey: w"), "config", None),
    ("create/config-json-array", create(config='["writeKey"]'), "config", None),
    (
        "create/azure-missing-policyKey",
        create(kind="azure-event-hubs", config={"namespace": "n", "name": "h", "policyName": "p"}),
        "config.policyKey",
        None,
    ),
    (
        "create/kinesis-mistyped-region",
        create(kind="kinesis", config={"region": ["us-east-1"], "roleArn": "arn", "streamName": "s"}),
        "config.region",
        None,
    ),
    (
        "create/mparticle-no-identity",
        create(kind="mparticle", config={k: v for k, v in MPARTICLE.items() if k != "userIdentity"}),
        "config.userIdentity",
        None,
    ),
    (
        "create/mparticle-bad-environment",
        create(kind="mparticle", config={**MPARTICLE, "environment": "staging"}),
        "config.environment",
        None,
    ),
    (
        "create/mparticle-empty-identities",
        create(kind="mparticle", config={**MPARTICLE, "userIdentity": None, "userIdentities": []}),
        "config.userIdentities",
        None,
    ),
    (
        "create/snowflake-missing-host",
        create(kind="snowflake-v2", config={"publicKey": "MIIB"}),
        "config.snowflakeHostAddress",
        None,
    ),
    ("create/empty-name", create(name=""), "name", None),
    ("create/blank-name", create(name="   "), "name", None),
    ("create/oversized-name", create(name=LONG_NAME), "name", None),
    ("create/name-not-a-string", create(name=7), "name", None),
    ("create/empty-project", create(project_key=""), "project_key", None),
    ("create/project-with-slash", create(project_key="proj/other"), "project_key", None),
    ("create/project-with-space", create(project_key="my proj"), "project_key", None),
    ("create/oversized-project", create(project_key=LONG_KEY), "project_key", None),
    ("create/project-none", create(project_key=None), "project_key", None),
    ("create/environment-traversal", create(environment_key="prod/../staging"), "environment_key", None),
    ("create/environment-encoded-slash", create(environment_key="prod%2Fx"), "environment_key", None),
    ("create/on-not-a-bool", create(on="maybe"), "on", None),
    ("create/on-an-int", create(on=1), "on", None),
    ("create/bad-if-exists", create(if_exists="replace"), "if_exists", None),
    ("create/no-token", create(), "password", {"password": ""}),
    # update operator
    ("update/id-with-slash", update(destination_id="a/b", name=None), "destination_id", None),
    ("update/id-with-space", update(destination_id="a b", name=None), "destination_id", None),
    ("update/no-target", update(name=None, kind=None), "destination_id", None),
    ("update/oversized-name", update(name=LONG_NAME), "name", None),
    ("update/oversized-new-name", update(new_name=LONG_NAME), "new_name", None),
    ("update/on-not-a-bool", update(on="sometimes"), "on", None),
    ("update/config-mistyped", update(config={"project": 1, "topic": "t"}), "config.project", None),
    ("update/config-missing-field", update(config={"project": "p"}), "config.topic", None),
    ("update/config-invalid-json", update(config="not json"), "config", None),
    ("update/empty-kind", update(kind=""), "kind", None),
    # toggle and delete operators
    ("toggle/on-not-a-bool", toggle(on="yes please"), "on", None),
    ("toggle/id-traversal", toggle(destination_id="../abc"), "destination_id", None),
    ("toggle/oversized-id", toggle(destination_id=LONG_KEY), "destination_id", None),
    ("toggle/empty-environment", toggle(environment_key=""), "environment_key", None),
    ("delete/id-with-space", delete(destination_id="a b"), "destination_id", None),
    ("delete/project-with-slash", delete(project_key="p/q"), "project_key", None),
    ("delete/name-not-a-string", delete(destination_id=None, name=["events"]), "name", None),
    # warehouse setup operators
    ("setup/streaming-kind", setup(kind="kinesis"), "kind", None),
    ("setup/unknown-field", setup(setup={"bogus": 1}), "setup.bogus", None),
    (
        "setup/mistyped-password",
        setup(kind="clickhouse", setup={"clickHousePassword": 123}),
        "setup.clickHousePassword",
        None,
    ),
    ("setup/mistyped-flag", setup(setup={"includeNetworkPolicy": "yes"}), "setup.includeNetworkPolicy", None),
    ("setup/invalid-json", setup(setup="{"), "setup", None),
    ("setup/oversized-environment", setup(environment_key=LONG_KEY), "environment_key", None),
    ("complete/streaming-kind", complete(kind="segment"), "kind", None),
    ("complete/empty-project", complete(project_key=""), "project_key", None),
    # sensor and trigger
    ("sensor/project-with-space", sensor(project_key="a b"), "project_key", None),
    ("sensor/id-with-slash", sensor(destination_id="x/y"), "destination_id", None),
    ("sensor/name-without-kind", sensor(destination_id=None, name="events"), "destination_id", None),
    ("sensor/name-not-a-string", sensor(destination_id=None, name=5, kind="segment"), "name", None),
    ("trigger/id-with-slash", trigger_event(destination_id="x/y"), "destination_id", None),
    ("trigger/environment-with-space", trigger_event(environment_key="my env"), "environment_key", None),
    # hook methods
    (
        "hook/create-unknown-kind",
        hook("create_destination", "proj", "prod", kind="webhook", config={}),
        "kind",
        None,
    ),
    ("hook/get-empty-id", hook("get_destination", "proj", "prod", ""), "destination_id", None),
    ("hook/delete-id-with-slash", hook("delete_destination", "proj", "prod", "a/b"), "destination_id", None),
    ("hook/list-bad-project", hook("list_destinations", "my proj"), "project_key", None),
    (
        "hook/find-bad-environment",
        hook("find_destinations", "proj", "a/b", name="x"),
        "environment_key",
        None,
    ),
    ("hook/patch-empty", hook("patch_destination", "proj", "prod", "d", []), "patch", None),
    (
        "hook/patch-not-a-list",
        hook("patch_destination", "proj", "prod", "d", {"op": "replace"}),
        "patch",
        None,
    ),
    (
        "hook/patch-bad-op",
        hook("patch_destination", "proj", "prod", "d", [{"op": "upsert", "path": "/on"}]),
        "patch[0].op",
        None,
    ),
    (
        "hook/patch-relative-path",
        hook("patch_destination", "proj", "prod", "d", [{"op": "replace", "path": "on", "value": True}]),
        "patch[0].path",
        None,
    ),
    (
        "hook/patch-missing-value",
        hook("patch_destination", "proj", "prod", "d", [{"op": "add", "path": "/on"}]),
        "patch[0].value",
        None,
    ),
    (
        "hook/patch-move-without-from",
        hook("patch_destination", "proj", "prod", "d", [{"op": "move", "path": "/a"}]),
        "patch[0].from",
        None,
    ),
    (
        "hook/patch-bad-escape",
        hook("patch_destination", "proj", "prod", "d", [{"op": "add", "path": "/config/a~9", "value": 1}]),
        "patch",
        None,
    ),
    (
        "hook/patch-op-not-an-object",
        hook("patch_destination", "proj", "prod", "d", ["replace /on"]),
        "patch[0]",
        None,
    ),
    (
        "hook/patch-and-merge",
        hook(
            "patch_destination",
            "proj",
            "prod",
            "d",
            [{"op": "remove", "path": "/name"}],
            merge_patch={"on": True},
        ),
        "patch",
        None,
    ),
    (
        "hook/merge-not-an-object",
        hook("patch_destination", "proj", "prod", "d", merge_patch=[1]),
        "merge_patch",
        None,
    ),
    (
        "hook/blank-comment",
        hook("patch_destination", "proj", "prod", "d", [{"op": "remove", "path": "/name"}], comment=" "),
        "comment",
        None,
    ),
    (
        "hook/setup-streaming-kind",
        hook("generate_warehouse_setup_script", "proj", "prod", "segment"),
        "kind",
        None,
    ),
    (
        "hook/complete-snowflake-without-key",
        hook("complete_warehouse_setup", "proj", "prod", "snowflake-v2"),
        "public_key",
        None,
    ),
    (
        "hook/complete-empty-key",
        hook("complete_warehouse_setup", "proj", "prod", "redshift", ""),
        "public_key",
        None,
    ),
    ("hook/key-pair-half-scoped", hook("generate_warehouse_key_pair", None, "prod"), "project_key", None),
    ("hook/trust-policy-bad-env", hook("generate_trust_policy", "proj", "pr od"), "environment_key", None),
    (
        "hook/delivery-unknown-integration",
        hook("create_delivery_configuration", "proj", "prod", "akamai", config={}),
        "integration_key",
        None,
    ),
    (
        "hook/delivery-missing-token",
        hook(
            "create_delivery_configuration",
            "proj",
            "prod",
            "cloudflare",
            config={"accountId": "a", "namespaceId": "n"},
        ),
        "config.apiToken",
        None,
    ),
    (
        "hook/delivery-empty-tag",
        hook(
            "create_delivery_configuration",
            "proj",
            "prod",
            "fastly",
            config={"storeId": "s", "apiToken": "t"},
            tags=[""],
        ),
        "tags",
        None,
    ),
    (
        "hook/delivery-oversized-name",
        hook(
            "create_delivery_configuration",
            "proj",
            "prod",
            "fastly",
            config={"storeId": "s", "apiToken": "t"},
            name=LONG_NAME,
        ),
        "name",
        None,
    ),
    (
        "hook/delivery-patch-bad-op",
        hook("patch_delivery_configuration", "proj", "prod", "fastly", "c", [{"op": "nope", "path": "/on"}]),
        "patch[0].op",
        None,
    ),
    (
        "hook/delivery-bad-id",
        hook("get_delivery_configuration", "proj", "prod", "fastly", "c/d"),
        "configuration_id",
        None,
    ),
    (
        "hook/negative-timeout-override",
        lambda: hooks_module.LaunchDarklyHook(timeout=-1).get_caller_identity(),
        "timeout",
        None,
    ),
    (
        "hook/negative-retries-override",
        lambda: hooks_module.LaunchDarklyHook(max_retries=-2).get_caller_identity(),
        "max_retries",
        None,
    ),
    # the connection
    ("connection/no-token", hook("get_caller_identity"), "password", {"password": None}),
    ("connection/blank-token", hook("get_caller_identity"), "password", {"password": "   "}),
    (
        "connection/plain-http-remote",
        hook("get_caller_identity"),
        "host",
        {"host": "http://app.launchdarkly.com"},
    ),
    (
        "connection/plain-http-private-ip",
        hook("get_caller_identity"),
        "host",
        {"host": "http://10.1.2.3:8765"},
    ),
    ("connection/other-scheme", hook("get_caller_identity"), "host", {"host": "ftp://127.0.0.1:21"}),
    (
        "connection/credentials-in-url",
        hook("get_caller_identity"),
        "host",
        {"host": "https://me:hunter2@app.launchdarkly.com"},
    ),
    (
        "connection/path-in-url",
        hook("get_caller_identity"),
        "host",
        {"host": "https://app.launchdarkly.com/v3"},
    ),
    (
        "connection/query-in-url",
        hook("get_caller_identity"),
        "host",
        {"host": "https://app.launchdarkly.com?x=1"},
    ),
    (
        "connection/port-out-of-range",
        hook("get_caller_identity"),
        "host",
        {"host": "https://app.launchdarkly.com:99999"},
    ),
    ("connection/unclosed-ipv6", hook("get_caller_identity"), "host", {"host": "https://[::1"}),
    ("connection/negative-timeout", hook("get_caller_identity"), "timeout", {"extra": {"timeout": -1}}),
    ("connection/zero-timeout", hook("get_caller_identity"), "timeout", {"extra": {"timeout": 0}}),
    ("connection/nan-timeout", hook("get_caller_identity"), "timeout", {"extra": {"timeout": "nan"}}),
    ("connection/text-timeout", hook("get_caller_identity"), "timeout", {"extra": {"timeout": "soon"}}),
    ("connection/bool-timeout", hook("get_caller_identity"), "timeout", {"extra": {"timeout": True}}),
    (
        "connection/negative-retries",
        hook("get_caller_identity"),
        "max_retries",
        {"extra": {"max_retries": -1}},
    ),
    (
        "connection/fractional-retries",
        hook("get_caller_identity"),
        "max_retries",
        {"extra": {"max_retries": 2.5}},
    ),
    (
        "connection/negative-retry-wait",
        hook("get_caller_identity"),
        "max_retry_wait",
        {"extra": {"max_retry_wait": -5}},
    ),
    (
        "connection/infinite-retry-wait",
        hook("get_caller_identity"),
        "max_retry_wait",
        {"extra": {"max_retry_wait": "inf"}},
    ),
]


@pytest.fixture
def no_network(monkeypatch):
    """Any attempt to open a connection fails the test (the emulator only accepts, it never connects)."""

    def refuse(*args, **kwargs):
        raise AssertionError("a connection was attempted")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)


#: Bad input the first version of this suite found reaching the wire, with what used to happen; each is
#: now refused before any request.
FORMER_GAPS: list[tuple[str, Call, str, str]] = [
    (
        "sensor/unknown-kind",
        sensor(destination_id=None, name="events", kind="segmnt"),
        "kind",
        (
            "the sensor never checks kind: it lists destinations and waits until its timeout for a kind "
            "that cannot exist"
        ),
    ),
    (
        "toggle/unknown-kind",
        toggle(destination_id=None, name="events", kind="segmnt"),
        "kind",
        (
            "check_target() accepts any kind (allow_unknown=True): a typo lists destinations and fails "
            "as not found"
        ),
    ),
    (
        "delete/unknown-kind",
        delete(destination_id=None, name="events", kind="segmnt"),
        "kind",
        (
            "as for toggle: a typo in kind lists destinations, then reports 'absent' (success) instead "
            "of an error"
        ),
    ),
    (
        "update/blank-comment",
        update(config=PUBSUB, comment="  "),
        "comment",
        "comment is checked only when the PATCH body is built, after the list call",
    ),
    (
        "toggle/comment-not-a-string",
        toggle(comment=42),
        "comment",
        "comment is checked only when the PATCH body is built, after the GET",
    ),
    (
        "update/config-list-by-id",
        update(destination_id="abc", name=None, kind=None, config=["topic"]),
        "config",
        "with destination_id and no kind, config is checked (even its shape) only after the GET",
    ),
    (
        "hook/update-on-not-a-bool",
        hook("update_destination", "proj", "prod", "abc", on="yes"),
        "on",
        "LaunchDarklyHook.update_destination GETs before checking name/on",
    ),
    (
        "hook/dot-dot-destination-id",
        hook("get_destination", "proj", "prod", ".."),
        "destination_id",
        "'..' passes validate_key; urllib3 removes the dot segment and GETs /api/v2/destinations/proj/",
    ),
    (
        "create/dot-environment",
        create(environment_key="."),
        "environment_key",
        "'.' passes validate_key; the POST goes to /api/v2/destinations/proj/ (dot segment removed)",
    ),
    (
        "create/mparticle-without-environment",
        create(kind="mparticle", config={k: v for k, v in MPARTICLE.items() if k != "environment"}),
        "config.environment",
        (
            "MParticleConfig.environment is optional, but the API (LaunchDarkly's Terraform provider, "
            "the emulator) "
            "requires it: the request is sent and refused with 400"
        ),
    ),
    (
        "hook/environment-without-project",
        hook("list_destinations", None, "prod"),
        "project_key",
        (
            "documented as needing project_key, but list_destinations(environment_key=...) sends the request and "
            "filters across projects"
        ),
    ),
    (
        "sensor/zero-poll-interval",
        lambda: LaunchDarklyDestinationConfiguredSensor(
            task_id="wait", destination_id="abc", deferrable=True, poll_interval=0, **KEYS
        ),
        "poll_interval",
        "raises a plain ValueError without .field",
    ),
    (
        "trigger/zero-poll-interval",
        lambda: LaunchDarklyDestinationConfiguredTrigger(
            destination_id="abc", end_time=0, poll_interval=0, **KEYS
        ),
        "poll_interval",
        "raises a plain ValueError without .field",
    ),
    (
        "delete/missing-ok-string",
        delete(missing_ok="false"),
        "missing_ok",
        "missing_ok is not checked: the string 'false' is truthy and silently means missing_ok=True",
    ),
    (
        "update/empty-new-name",
        update(new_name=""),
        "new_name",
        (
            "validate_name('new_name', '') passes (not required); the GET is sent, then the hook fails "
            "naming 'name'"
        ),
    ),
    (
        "connection/scheme-only-host",
        hook("get_caller_identity"),
        "host",
        (
            "normalise_base_url strips the trailing '/' before looking for '://': 'https://' becomes "
            "host 'https' and "
            "the call is sent (and retried) to https://https"
        ),
    ),
    (
        "connection/host-with-space",
        hook("get_caller_identity"),
        "host",
        (
            "normalise_base_url accepts 'https://exa mple.com'; requests refuses the URL at send time "
            "(InvalidURL), "
            "which the hook treats as a possibly-sent failure and retries"
        ),
    ),
    (
        "connection/host-with-backslash",
        hook("get_caller_identity"),
        "host",
        (
            "normalise_base_url accepts 'https://app.launchdarkly.com\\x'; urllib3 sends to "
            "app.launchdarkly.com with "
            "the path /%5Cx/api/v2/..."
        ),
    ),
]
FORMER_GAPS += [
    (
        "hook/nan-in-config",
        hook("create_destination", "proj", "prod", kind="bigquery", config={"x": float("nan")}),
        "config",
        "NaN is sent as the bare token NaN (json.dumps allow_nan=True): the request body is not JSON",
    ),
    (
        "hook/infinity-in-patch",
        hook(
            "patch_destination",
            "proj",
            "prod",
            "abc",
            [{"op": "replace", "path": "/name", "value": float("inf")}],
        ),
        "patch",
        "Infinity is sent as the bare token Infinity: the request body is not JSON",
    ),
    (
        "hook/date-in-config",
        hook(
            "create_destination", "proj", "prod", kind="bigquery", config={"since": datetime.date(2026, 1, 1)}
        ),
        "config",
        "a value JSON cannot carry fails with a bare TypeError from json.dumps (no request, but no .field)",
    ),
]
GAP_CONNECTIONS = {
    "connection/scheme-only-host": {"host": "https://"},
    "connection/host-with-space": {"host": "https://exa mple.com"},
    "connection/host-with-backslash": {"host": "https://app.launchdarkly.com\\x"},
}
CASES += [(case, call, field, GAP_CONNECTIONS.get(case)) for case, call, field, _ in FORMER_GAPS]


def use_connection(emulator, monkeypatch, overrides: dict[str, Any] | None) -> None:
    if overrides is None:
        return
    conn = json.loads(connection_json(emulator.base_url, timeout=5)) | overrides
    monkeypatch.setenv("AIRFLOW_CONN_LAUNCHDARKLY_DEFAULT", json.dumps(conn))


def run_case(call: Call, field: str, emulator) -> LaunchDarklyValidationError:
    with pytest.raises(LaunchDarklyValidationError) as info:
        call()
    assert info.value.field == field, str(info.value)
    assert str(info.value).startswith(field.split(".")[0].split("[")[0]) or field == "password"
    assert emulator.calls_to() == [], "nothing was sent"
    return info.value


@pytest.mark.parametrize(
    ("call", "field", "conn"), [case[1:] for case in CASES], ids=[case[0] for case in CASES]
)
def test_bad_input_is_refused_before_any_request(
    call, field, conn, emulator, ld_connection, clocked_hooks, monkeypatch, no_network
):
    use_connection(emulator, monkeypatch, conn)
    error = run_case(call, field, emulator)
    assert "hunter2" not in str(error) and "seg-write-key" not in str(error) and "mp-secret" not in str(error)


def test_every_operator_and_the_sensor_has_bad_input_cases():
    covered = {case[0].split("/")[0] for case in CASES}
    assert covered >= {
        "create",
        "update",
        "toggle",
        "delete",
        "setup",
        "complete",
        "sensor",
        "trigger",
        "hook",
        "connection",
    }
