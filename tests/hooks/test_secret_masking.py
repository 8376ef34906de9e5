"""
The hooks themselves register every secret they send with Airflow's secrets masker, no operator involved.

A DAG may call ``LaunchDarklyHook().create_destination(..., config={"writeKey": ...})`` from a ``@task``;
Airflow then hides the write key and the API token in the task's logs only because the hook told its
masker about them. Each test uses values never seen before (the masker is process-wide), sends them
through one hook, and asks Airflow's masker to redact a log line holding them.

Airflow masks a connection's password whenever its getters read one, so the token tests hand the hooks
a connection those getters never saw: the hooks must mask the token themselves.
"""

from __future__ import annotations

import uuid

import pytest

from airflow_provider_ld._compat import BaseHook
from airflow_provider_ld.api import operations
from airflow_provider_ld.exceptions import LaunchDarklyAuthError
from airflow_provider_ld.hooks.launchdarkly import LaunchDarklyHook
from airflow_provider_ld.hooks.launchdarkly_async import LaunchDarklyAsyncHook
from tests.hooks.conftest import connection_json

KEYS = ("proj", "prod")


def fresh(label: str) -> str:
    """A secret value no earlier test registered with the masker."""
    return f"{label}-{uuid.uuid4().hex}"


def masked(secret: str) -> bool:
    """Whether Airflow's masker hides ``secret`` in a log line (and so in task logs)."""
    from airflow.sdk._shared.secrets_masker import redact

    line = f"sent {secret} to LaunchDarkly"
    return secret not in redact(line)


def sent_write_key(emulator) -> str:
    (post,) = emulator.calls_to("POST", "/api/v2/destinations/")
    return post.json()["config"]["writeKey"]


@pytest.fixture
def secrets():
    token, write_key = fresh("api-token"), fresh("write-key")
    assert not masked(token) and not masked(write_key), "the values must be new to the masker"
    return token, write_key


@pytest.fixture
def connect(launchdarkly_emulator_factory, monkeypatch):
    """Start an emulator accepting ``token``; ``launchdarkly_default`` points at it with ``used_token``."""

    def _connect(token: str, used_token: str | None = None):
        emulator = launchdarkly_emulator_factory(token=token)
        monkeypatch.setenv(
            "AIRFLOW_CONN_LAUNCHDARKLY_DEFAULT",
            connection_json(emulator.base_url, token=used_token or token, timeout=5),
        )
        return emulator

    return _connect


@pytest.fixture
def hand_built_connection(launchdarkly_emulator_factory, monkeypatch):
    """
    Hand the hooks a connection Airflow's getters never saw (so never masked), as a custom getter would.

    Airflow masks a connection's password when it reads one; the hooks must not rely on that.
    """
    from airflow.sdk import Connection

    def _build(token: str):
        emulator = launchdarkly_emulator_factory(token=token)
        conn = Connection(
            conn_id="launchdarkly_default",
            conn_type="launchdarkly",
            host=emulator.base_url,
            password=token,
            extra='{"timeout": 5}',
        )

        async def aget_connection(conn_id):
            return conn

        monkeypatch.setattr(LaunchDarklyHook, "get_connection", classmethod(lambda cls, conn_id: conn))
        monkeypatch.setattr(BaseHook, "aget_connection", aget_connection, raising=False)
        return emulator

    return _build


def test_sync_hook_masks_the_token_itself(hand_built_connection, secrets):
    token, _ = secrets
    hand_built_connection(token)
    with LaunchDarklyHook() as hook:
        hook.list_destinations()
    assert masked(token)


@pytest.mark.asyncio
async def test_async_hook_masks_the_token_itself(hand_built_connection, secrets):
    token, _ = secrets
    hand_built_connection(token)
    async with LaunchDarklyAsyncHook() as hook:
        await hook.list_destinations()
    assert masked(token)


def test_sync_hook_masks_the_token_and_the_config_secrets_it_sends(connect, secrets):
    token, write_key = secrets
    emulator = connect(token)
    with LaunchDarklyHook() as hook:
        created = hook.create_destination(
            *KEYS, kind="segment", name="events", config={"writeKey": write_key}
        )
    assert created.id
    assert sent_write_key(emulator) == write_key, "sent as is"
    assert masked(token)
    assert masked(write_key)


def test_sync_hook_masks_an_updated_secret(connect, secrets):
    token, _ = secrets
    rotated = fresh("rotated-write-key")
    emulator = connect(token)
    existing = emulator.add_destination(*KEYS, kind="segment", name="events", config={"writeKey": "wk-old-1"})
    with LaunchDarklyHook() as hook:
        _, sent = hook.update_destination(
            *KEYS, existing["_id"], config={"writeKey": rotated}, rotate_secrets=True
        )
    assert sent
    assert emulator.stored_destinations[0]["config"]["writeKey"] == rotated, "sent in a JSON Patch operation"
    assert masked(rotated)


def test_sync_hook_masks_secrets_before_the_api_answers(connect, secrets):
    """A refused call (wrong token) still leaves both the token and the write key masked in its error logs."""
    token, write_key = secrets
    connect(fresh("other-token"), used_token=token)
    with LaunchDarklyHook() as hook, pytest.raises(LaunchDarklyAuthError):
        hook.create_destination(*KEYS, kind="segment", config={"writeKey": write_key})
    assert masked(token)
    assert masked(write_key)


@pytest.mark.asyncio
async def test_async_hook_masks_the_token_and_the_config_secrets_it_sends(connect, secrets):
    token, write_key = secrets
    emulator = connect(token)
    request = operations.create_destination(
        *KEYS, kind="segment", name="events", config={"writeKey": write_key}
    )
    async with LaunchDarklyAsyncHook() as hook:
        created = await hook.call(request)
    assert created.id
    assert sent_write_key(emulator) == write_key, "sent as is"
    assert masked(token)
    assert masked(write_key)


@pytest.mark.asyncio
async def test_async_hook_masks_the_token_on_a_read(connect, secrets):
    token, _ = secrets
    connect(token)
    async with LaunchDarklyAsyncHook() as hook:
        await hook.list_destinations()
    assert masked(token)
