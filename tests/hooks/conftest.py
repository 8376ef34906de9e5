"""Fixtures for hook tests: an emulator whose every call is checked against the OpenAPI subset."""

from __future__ import annotations

import dataclasses
import json

import pytest

from airflow_provider_ld.api.retries import RetryPolicy
from airflow_provider_ld.hooks.launchdarkly import LaunchDarklyHook
from tests.openapi_contract import validate_request, validate_response

EMULATOR_TOKEN = "test-token"


@pytest.fixture
def emulator(launchdarkly_emulator):
    """
    The plugin's emulator; after the test every answer, and every request the API accepted, is validated.

    (Requests the API refused may be off-spec on purpose, e.g. with ``allow_unknown_kind=True``.)
    """
    yield launchdarkly_emulator
    for call in launchdarkly_emulator.calls_to():
        if call.status is not None and call.status < 400:
            validate_request(unwrap_comment_envelope(call))
        validate_response(call)


def unwrap_comment_envelope(call):
    """
    Validate the patch inside a ``{"comment", "patch"}`` envelope.

    LaunchDarkly documents the envelope API-wide, but the PATCH operations' schemas in the OpenAPI
    subset only describe the bare JSON Patch array, so the array is what gets checked.
    """
    body = call.json() if call.method == "PATCH" else None
    if isinstance(body, dict) and "comment" in body and "patch" in body:
        return dataclasses.replace(call, body=json.dumps(body["patch"]).encode())
    return call


def connection_json(base_url: str, token: str = EMULATOR_TOKEN, **extra) -> str:
    """An ``AIRFLOW_CONN_*`` value in JSON form."""
    return json.dumps({"conn_type": "launchdarkly", "host": base_url, "password": token, "extra": extra})


@pytest.fixture
def ld_connection(emulator, monkeypatch):
    """Point ``launchdarkly_default`` at the emulator through an environment variable."""
    monkeypatch.setenv("AIRFLOW_CONN_LAUNCHDARKLY_DEFAULT", connection_json(emulator.base_url, timeout=5))
    return "launchdarkly_default"


@pytest.fixture
def hook(ld_connection, fake_sleep):
    """A hook on the emulator that records retry waits instead of sleeping."""
    policy = RetryPolicy(max_retries=3, max_wait=60.0, jitter=lambda: 0.0)
    with LaunchDarklyHook(ld_connection, retry_policy=policy, sleep=fake_sleep) as hook:
        yield hook
