"""
Hardening against hostile or broken peers and inputs: secrets in every accepted form, bounded waits and
bodies, no shared cookies, no echoed hosts or tokens, contained error bodies and strict path checks.
"""

from __future__ import annotations

import asyncio
import json
import time

import pytest

from airflow_provider_ld import task as base_module
from airflow_provider_ld.api import operations
from airflow_provider_ld.api.calls import MAX_RESPONSE_BYTES, error_from_response, parse_response
from airflow_provider_ld.exceptions import (
    LaunchDarklyConflictError,
    LaunchDarklyConnectionError,
    LaunchDarklyServerError,
    LaunchDarklyValidationError,
)
from airflow_provider_ld.hooks.launchdarkly import LaunchDarklyHook
from airflow_provider_ld.hooks.launchdarkly_async import LaunchDarklyAsyncHook
from airflow_provider_ld.operators.destinations import LaunchDarklyCreateDestinationOperator
from airflow_provider_ld.operators.warehouse import LaunchDarklyWarehouseSetupOperator
from airflow_provider_ld.triggers import destinations as trigger_module
from airflow_provider_ld.triggers.destinations import LaunchDarklyDestinationConfiguredTrigger
from tests.hooks.conftest import connection_json
from tests.reliability.hostile_server import HostileServer, endless_body, hang, json_answer, trickle

KEYS = {"project_key": "proj", "environment_key": "prod"}


# 1. Secrets in a config or setup given as a JSON string are masked at render time


@pytest.fixture
def masked(monkeypatch) -> list[str]:
    registered: list[str] = []
    monkeypatch.setattr(base_module, "mask_secret", registered.append)
    return registered


@pytest.mark.parametrize(
    "config",
    [
        {"writeKey": "{{ params.key }}"},
        '{"writeKey": "{{ params.key }}"}',
        '  {"writeKey": "{{ params.key }}", "nested": [{"apiToken": "tok-{{ params.key }}"}]}',
    ],
    ids=["dict", "json-string", "json-string-nested"],
)
def test_config_secrets_are_masked_whatever_form_the_config_takes(masked, config):
    operator = LaunchDarklyCreateDestinationOperator(
        task_id="create", kind="segment", name="events", config=config, **KEYS
    )
    operator.render_template_fields({"params": {"key": "wk-SECRET-1"}})
    assert "wk-SECRET-1" in masked


def test_setup_secrets_are_masked_when_setup_is_a_json_string(masked):
    operator = LaunchDarklyWarehouseSetupOperator(
        task_id="setup",
        kind="clickhouse",
        setup=json.dumps({"name": "wh", "clickHousePassword": "{{ params.pw }}"}),
        **KEYS,
    )
    operator.render_template_fields({"params": {"pw": "ch-SECRET-2"}})
    assert masked == ["ch-SECRET-2"]


# 2. Each attempt has an overall deadline, bodies a size cap, and the trigger's checks end by its deadline


def _point_at(monkeypatch, base_url: str, **extra) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_LAUNCHDARKLY_DEFAULT", connection_json(base_url, token="tok-1", **extra))


def _sync_identity(**overrides):
    with LaunchDarklyHook(max_retries=0, **overrides) as hook:
        return hook.get_caller_identity()


async def _async_identity(**overrides):
    async with LaunchDarklyAsyncHook(max_retries=0, **overrides) as hook:
        return await hook.get_caller_identity()


def _in_both_hooks(flavour: str, **overrides):
    if flavour == "sync":
        return _sync_identity(**overrides)
    return asyncio.run(_async_identity(**overrides))


@pytest.mark.parametrize("flavour", ["sync", "async"])
@pytest.mark.parametrize("head_first", [False, True], ids=["trickled-head", "trickled-body"])
def test_a_trickling_server_cannot_hold_an_attempt_past_its_deadline(monkeypatch, flavour, head_first):
    with HostileServer(trickle(0.1, head_first=head_first)) as server:
        _point_at(monkeypatch, server.base_url, timeout=1)
        started = time.monotonic()
        with pytest.raises(LaunchDarklyConnectionError) as caught:
            _in_both_hooks(flavour)
        elapsed = time.monotonic() - started
    assert elapsed < 4, f"the attempt took {elapsed:.1f} s with a 2 s deadline"
    assert "no complete answer from 127.0.0.1 within the 2 s deadline of an attempt" in str(caught.value)


@pytest.mark.parametrize("flavour", ["sync", "async"])
@pytest.mark.parametrize("announce", [None, 400 * 1024 * 1024], ids=["endless-chunked", "announced-400MB"])
def test_a_body_over_the_size_cap_fails_clearly_without_being_read_whole(monkeypatch, flavour, announce):
    with HostileServer(endless_body(announce)) as server:
        _point_at(monkeypatch, server.base_url, timeout=10)
        with pytest.raises(LaunchDarklyServerError) as caught:
            _in_both_hooks(flavour)
    assert MAX_RESPONSE_BYTES == 16 * 1024 * 1024
    assert "the answer's body exceeds the 16 MiB limit and was not read" in str(caught.value)
    assert caught.value.status_code == 200


@pytest.mark.asyncio
async def test_a_trigger_check_ends_by_the_deadline_even_when_the_server_never_answers(monkeypatch):
    monkeypatch.setattr(trigger_module, "FINAL_CHECK_SECONDS", 0.3)
    with HostileServer(hang()) as server:
        _point_at(monkeypatch, server.base_url, timeout=30)
        trigger = LaunchDarklyDestinationConfiguredTrigger(
            destination_id="abc", end_time=time.time() + 0.5, poll_interval=5, **KEYS
        )
        started = time.monotonic()
        events = [event async for event in trigger.run()]
        elapsed = time.monotonic() - started
    assert elapsed < 2, f"the trigger ran {elapsed:.1f} s for a 0.5 s deadline"
    (event,) = events
    assert event.payload["status"] == "timeout"
    assert "not configured by the deadline: check 1 was still running" in event.payload["message"]


# 3. No cookie crosses from one connection's requests to another's


@pytest.mark.parametrize("flavour", ["sync", "async"])
def test_cookies_are_neither_kept_nor_sent(monkeypatch, flavour):
    body = b'{"accountId": "a", "tokenName": "t"}'
    answer = json_answer(200, body, "Set-Cookie: session=from-token-1; Path=/\r\n")
    with HostileServer(answer) as server:
        _point_at(monkeypatch, server.base_url, timeout=5)
        if flavour == "sync":
            with LaunchDarklyHook(max_retries=0) as hook:
                hook.get_caller_identity()
                hook.get_caller_identity()
        else:

            async def twice() -> None:
                async with LaunchDarklyAsyncHook(max_retries=0) as first:
                    await first.get_caller_identity()
                    monkeypatch.setenv(
                        "AIRFLOW_CONN_OTHER", connection_json(server.base_url, token="tok-2", timeout=5)
                    )
                    async with LaunchDarklyAsyncHook("other", max_retries=0) as second:
                        await second.get_caller_identity()

            asyncio.run(twice())
    heads = answer.answered
    assert len(heads) == 2
    assert all(b"cookie:" not in head.lower() for head in heads), heads


# 4. A malformed host is never echoed: not in errors, not in the trigger's event


HOSTILE_HOSTS = [
    "https://user:hunter2-SECRET@app.launchdarkly.com:99999",
    "https://user:hunter2-SECRET@app.launch darkly.com",
    "https://app.launchdarkly.com/hunter2-SECRET",
    "https://app.launchdarkly.com:hunter2-SECRET",
    "ftp://hunter2-SECRET@app.launchdarkly.com",
]


@pytest.mark.parametrize("host", HOSTILE_HOSTS)
def test_a_malformed_host_is_not_echoed_in_the_error(monkeypatch, host):
    _point_at(monkeypatch, host)
    with pytest.raises(LaunchDarklyValidationError) as caught:
        _ = LaunchDarklyHook().settings
    assert caught.value.field == "host"
    assert "SECRET" not in str(caught.value) and "SECRET" not in repr(caught.value)


@pytest.mark.asyncio
@pytest.mark.parametrize("host", HOSTILE_HOSTS[:2])
async def test_a_malformed_host_is_not_echoed_in_the_trigger_event(monkeypatch, host):
    _point_at(monkeypatch, host)
    trigger = LaunchDarklyDestinationConfiguredTrigger(destination_id="abc", end_time=time.time() + 5, **KEYS)
    (event,) = [event async for event in trigger.run()]
    assert event.payload["status"] == "error"
    assert event.payload["message"].startswith("host: ")
    assert "SECRET" not in json.dumps(event.payload)


# 5. Hostile error bodies stay inside the error classes, and bounded


DEEP = b"[" * 200_000 + b"]" * 200_000


@pytest.mark.parametrize(
    ("status", "body", "error"),
    [
        (500, b'{"message": ' + DEEP + b"}", LaunchDarklyServerError),
        (400, DEEP, LaunchDarklyValidationError),
        (409, b'{"code": ' + DEEP + b', "message": "m"}', LaunchDarklyConflictError),
        (200, DEEP, LaunchDarklyServerError),
    ],
    ids=["deep-message", "deep-body", "deep-code", "deep-2xx"],
)
def test_a_deeply_nested_body_raises_the_error_class_not_recursion_error(status, body, error):
    request = operations.get_caller_identity()
    with pytest.raises(error) as caught:
        parse_response(request, status, body)
    assert len(str(caught.value)) < 500


def test_a_huge_error_body_gives_a_bounded_message():
    huge = "x" * 3_000_000
    body = json.dumps({"code": huge, "message": huge, "id": huge}).encode()  # 9 MB
    error = error_from_response(operations.get_caller_identity(), 400, body)
    assert len(str(error)) < 1300
    assert len(repr(error)) < 1400
    assert len(error.code) <= 100 and len(error.request_id) <= 100 and len(error.message) <= 1000


def test_a_huge_error_body_over_http_gives_a_bounded_message(monkeypatch):
    body = json.dumps({"code": "c" * 3_000_000, "message": "m" * 3_000_000, "id": "i" * 3_000_000}).encode()
    with HostileServer(json_answer(400, body)) as server:
        _point_at(monkeypatch, server.base_url, timeout=10)
        with pytest.raises(LaunchDarklyValidationError) as caught:
            _sync_identity()
    assert len(str(caught.value)) < 1300


# 6. Path checks: an unknown kind is still a key, and a key's pattern covers the whole value


@pytest.mark.parametrize("kind", ["..", ".", "a/b", "x\n", "%2e%2e"])
def test_an_unknown_kind_that_is_not_a_key_is_refused_before_any_request(kind):
    with pytest.raises(LaunchDarklyValidationError) as caught:
        operations.create_destination("proj", "prod", kind=kind, config={}, allow_unknown_kind=True)
    assert caught.value.field == "kind"
    for build in (operations.generate_warehouse_setup_script, operations.complete_warehouse_setup):
        with pytest.raises(LaunchDarklyValidationError):
            build("proj", "prod", kind, allow_unknown_kind=True)


def test_an_unknown_key_like_kind_is_still_accepted():
    request = operations.create_destination(
        "proj", "prod", kind="new-kind_2.0", config={}, allow_unknown_kind=True
    )
    assert request.body["kind"] == "new-kind_2.0"


@pytest.mark.parametrize("field", ["project_key", "environment_key"])
def test_a_key_with_a_trailing_newline_is_refused(field):
    keys = {**KEYS, field: KEYS[field] + "\n"}
    with pytest.raises(LaunchDarklyValidationError) as caught:
        operations.get_destination(keys["project_key"], keys["environment_key"], "abc")
    assert caught.value.field == field


# 7. A token an HTTP header cannot carry is refused when the connection is read, without echoing it


@pytest.mark.parametrize(
    ("token", "problem"),
    [
        ("api-SECRET\r\nX-Injected: 1", "a line break (CR or LF)"),
        ("api-SECRET\n", "a line break (CR or LF)"),
        ("api-SECRÉT", "a non-ASCII character"),
        ("api-SECRET\x00", "a control character"),
    ],
)
@pytest.mark.parametrize("flavour", ["sync", "async"])
def test_a_token_with_cr_lf_or_non_ascii_is_refused_naming_the_field(
    monkeypatch, launchdarkly_emulator, token, problem, flavour
):
    monkeypatch.setenv(
        "AIRFLOW_CONN_LAUNCHDARKLY_DEFAULT", connection_json(launchdarkly_emulator.base_url, token=token)
    )
    with pytest.raises(LaunchDarklyValidationError) as caught:
        _in_both_hooks(flavour)
    assert caught.value.field == "password"
    assert f"contains {problem}, which an HTTP header cannot carry" in str(caught.value)
    assert "SECR" not in str(caught.value) and "SECR" not in repr(caught.value)
    assert launchdarkly_emulator.calls == [], "refused before any request"
