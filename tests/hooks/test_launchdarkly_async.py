"""The async hook over real HTTP against the emulator: same requests, retries and errors as the sync hook."""

from __future__ import annotations

import asyncio
import json
import logging
import re
import socket
import threading

import httpx
import pytest

from airflow_provider_ld import _compat
from airflow_provider_ld._compat import BaseHook
from airflow_provider_ld.api import operations
from airflow_provider_ld.api.calls import final_error
from airflow_provider_ld.api.retries import Attempt, RetryPolicy, TransportFailure
from airflow_provider_ld.exceptions import (
    LaunchDarklyAuthError,
    LaunchDarklyConnectionError,
    LaunchDarklyNotFoundError,
    LaunchDarklyRateLimitError,
    LaunchDarklyServerError,
    LaunchDarklyValidationError,
)
from airflow_provider_ld.hooks import launchdarkly_async
from airflow_provider_ld.hooks.launchdarkly import LaunchDarklyHook
from airflow_provider_ld.hooks.launchdarkly_async import LaunchDarklyAsyncHook, classify_httpx_error
from airflow_provider_ld.models import CallerIdentity, Destination
from tests.airflow_compat import requires_airflow_3_1
from tests.hooks.conftest import EMULATOR_TOKEN, connection_json

SECRET_WRITE_KEY = "seg-SECRET-async-write-key"


class AsyncFakeSleep:
    """An async ``sleep`` that records the waits instead of sleeping."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


def policy() -> RetryPolicy:
    return RetryPolicy(max_retries=3, max_wait=60.0, jitter=lambda: 0.0)


@pytest.fixture
def async_sleep():
    return AsyncFakeSleep()


@pytest.fixture
def async_hook(ld_connection, async_sleep):
    return LaunchDarklyAsyncHook(ld_connection, retry_policy=policy(), sleep=async_sleep)


def test_hook_class_attributes_match_the_sync_hook():
    for name in ("conn_name_attr", "default_conn_name", "conn_type", "hook_name"):
        assert getattr(LaunchDarklyAsyncHook, name) == getattr(LaunchDarklyHook, name)


@pytest.mark.asyncio
async def test_get_and_find_destinations(async_hook, emulator):
    created = emulator.add_destination(
        "proj", "prod", kind="segment", name="events", config={"writeKey": "wk-123456"}
    )
    emulator.add_destination("proj", "prod", kind="google-pubsub", name="events")
    emulator.add_destination(
        "proj", "staging", kind="segment", name="events", config={"writeKey": "wk-654321"}
    )
    async with async_hook:
        fetched = await async_hook.get_destination("proj", "prod", created["_id"])
        found = await async_hook.find_destinations("proj", "prod", name="events", kind="segment")
        everything = await async_hook.list_destinations()
        identity = await async_hook.get_caller_identity()
    assert isinstance(fetched, Destination) and fetched.id == created["_id"]
    assert fetched.to_dict()["config"]["writeKey"] == "**********"
    assert [item.id for item in found] == [created["_id"]]
    assert len(everything) == 3
    assert isinstance(identity, CallerIdentity)
    call = emulator.calls_to("GET", f"/api/v2/destinations/proj/prod/{created['_id']}")[0]
    assert call.headers["ld-api-version"] == "20240415"
    assert call.headers["user-agent"].startswith("airflow-provider-launchdarkly/")
    assert call.headers["authorization"] == "<redacted>", (
        "the emulator saw a token (and redacted it in its log)"
    )


@pytest.mark.asyncio
async def test_missing_destination_is_not_found(async_hook, emulator):
    async with async_hook:
        with pytest.raises(LaunchDarklyNotFoundError) as info:
            await async_hook.get_destination("proj", "prod", "0123456789abcdef01234567")
    assert info.value.status_code == 404


@pytest.mark.asyncio
async def test_invalid_keys_are_refused_before_sending(async_hook, emulator):
    async with async_hook:
        with pytest.raises(LaunchDarklyValidationError, match="project_key"):
            await async_hook.find_destinations("bad key", "prod")
        with pytest.raises(LaunchDarklyValidationError, match="destination_id"):
            await async_hook.get_destination("proj", "prod", "../x")
    assert emulator.calls_to() == []


@pytest.mark.asyncio
async def test_get_retries_5xx_with_backoff(async_hook, emulator, async_sleep, caplog, capsys):
    caplog.set_level(logging.INFO)
    emulator.inject_fault("GET", "/api/v2/destinations", status=503, times=2)
    async with async_hook:
        assert await async_hook.list_destinations() == []
    assert len(emulator.calls_to("GET")) == 3
    assert async_sleep.waits == [0.25, 0.5]
    logged = caplog.text + capsys.readouterr().out  # Airflow logs through structlog to stdout
    assert "LaunchDarkly GET /api/v2/destinations answered HTTP 503; retry 1 of 3 in 0.25 s" in logged


@pytest.mark.asyncio
async def test_auth_error_is_not_retried(emulator, monkeypatch, async_sleep):
    monkeypatch.setenv(
        "AIRFLOW_CONN_LAUNCHDARKLY_DEFAULT", connection_json(emulator.base_url, token="wrong-token-y")
    )
    async with LaunchDarklyAsyncHook(sleep=async_sleep) as hook:
        with pytest.raises(LaunchDarklyAuthError) as info:
            await hook.list_destinations()
    assert info.value.status_code == 401
    assert "GET /api/v2/destinations -> 401 unauthorized" in str(info.value)
    assert "wrong-token-y" not in str(info.value)
    assert len(emulator.calls_to()) == 1
    assert async_sleep.waits == []


@pytest.mark.asyncio
async def test_dropped_get_is_retried(async_hook, emulator, async_sleep):
    emulator.inject_fault("GET", "/api/v2/caller-identity", drop="before", times=2)
    async with async_hook:
        await async_hook.get_caller_identity()
    assert len(emulator.calls_to("GET")) == 3
    assert async_sleep.waits == [0.25, 0.5]


@pytest.mark.asyncio
async def test_connection_refused_is_a_connection_error(monkeypatch, async_sleep):
    monkeypatch.setenv(
        "AIRFLOW_CONN_LAUNCHDARKLY_DEFAULT", connection_json(f"http://127.0.0.1:{free_port()}")
    )
    async with LaunchDarklyAsyncHook(sleep=async_sleep, retry_policy=policy()) as hook:
        with pytest.raises(LaunchDarklyConnectionError) as info:
            await hook.get_caller_identity()
    assert str(info.value) == (
        "GET /api/v2/caller-identity could not connect to 127.0.0.1 (ConnectError); "
        "gave up after 3 retries: 3 retries used"
    )
    assert async_sleep.waits == [0.25, 0.5, 1.0]


@pytest.mark.parametrize(
    ("error", "failure"),
    [
        (httpx.ConnectError("refused"), TransportFailure.NOT_SENT),
        (httpx.ConnectTimeout("slow connect"), TransportFailure.NOT_SENT),
        (httpx.PoolTimeout("pool full"), TransportFailure.NOT_SENT),
        (httpx.ReadTimeout("slow answer"), TransportFailure.MAYBE_SENT),
        (httpx.WriteTimeout("slow upload"), TransportFailure.MAYBE_SENT),
        (httpx.ReadError("reset"), TransportFailure.MAYBE_SENT),
        (httpx.RemoteProtocolError("server disconnected"), TransportFailure.MAYBE_SENT),
    ],
)
def test_classify_httpx_errors(error, failure):
    assert classify_httpx_error(error) is failure


# The same failure gives the same error class and message from both hooks.


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _no_fault(emulator):
    pass


PARITY_CASES = {
    "404": (_no_fault, "get_destination", ("proj", "prod", "0123456789abcdef01234567")),
    "503 until the retries run out": (
        lambda em: em.inject_fault("GET", "/api/v2/destinations", status=503, times=10),
        "list_destinations",
        (),
    ),
    "429 past the retry budget": (
        lambda em: em.inject_fault("GET", "/api/v2/caller-identity", status=429, retry_after=100),
        "get_caller_identity",
        (),
    ),
    "429 until the retries run out": (
        lambda em: em.inject_fault("GET", "/api/v2/caller-identity", status=429, retry_after=1, times=10),
        "get_caller_identity",
        (),
    ),
    "dropped connections": (
        lambda em: em.inject_fault("GET", "/api/v2/caller-identity", drop="before", times=10),
        "get_caller_identity",
        (),
    ),
    "a 200 answer that is not a destination": (
        lambda em: em.inject_fault("GET", "/api/v2/destinations/proj/prod/abc", status=200, body={"nope": 1}),
        "get_destination",
        ("proj", "prod", "abc"),
    ),
}

#: The transport library's exception name is the only allowed difference.
_TRANSPORT_NAMES = re.compile(r"\((ConnectionError|RemoteProtocolError|ConnectError)\)")
_REQUEST_ID = re.compile(r"\(request [0-9a-f]+\)")


def normalised(error: Exception) -> str:
    return _REQUEST_ID.sub("(request <id>)", _TRANSPORT_NAMES.sub("(<transport error>)", str(error)))


@pytest.mark.parametrize("case", list(PARITY_CASES))
def test_errors_match_the_sync_hook(case, emulator, ld_connection, fake_sleep):
    inject, method, args = PARITY_CASES[case]
    sync_hook = LaunchDarklyHook(ld_connection, retry_policy=policy(), sleep=fake_sleep)
    inject(emulator)
    with pytest.raises(Exception) as sync_info:
        getattr(sync_hook, method)(*args)
    sync_hook.close()

    async_sleep = AsyncFakeSleep()

    async def run_async() -> None:
        async with LaunchDarklyAsyncHook(ld_connection, retry_policy=policy(), sleep=async_sleep) as hook:
            await getattr(hook, method)(*args)

    inject(emulator)
    with pytest.raises(Exception) as async_info:
        asyncio.run(run_async())
    assert type(async_info.value) is type(sync_info.value)
    assert normalised(async_info.value) == normalised(sync_info.value)
    assert async_sleep.waits == fake_sleep.waits
    for attribute in ("status_code", "code", "method", "path"):
        assert getattr(async_info.value, attribute) == getattr(sync_info.value, attribute)


def test_connection_refused_matches_the_sync_hook(monkeypatch, fake_sleep):
    monkeypatch.setenv(
        "AIRFLOW_CONN_LAUNCHDARKLY_DEFAULT", connection_json(f"http://127.0.0.1:{free_port()}")
    )
    with pytest.raises(LaunchDarklyConnectionError) as sync_info:
        LaunchDarklyHook(retry_policy=policy(), sleep=fake_sleep).get_caller_identity()

    async def run_async() -> None:
        async with LaunchDarklyAsyncHook(retry_policy=policy(), sleep=AsyncFakeSleep()) as hook:
            await hook.get_caller_identity()

    with pytest.raises(LaunchDarklyConnectionError) as async_info:
        asyncio.run(run_async())
    assert normalised(async_info.value) == normalised(sync_info.value)


def test_server_error_parity_keeps_the_class(emulator, ld_connection):
    emulator.inject_fault("GET", "/api/v2/caller-identity", status=500)

    async def run_async() -> None:
        async with LaunchDarklyAsyncHook(
            ld_connection, retry_policy=policy(), sleep=AsyncFakeSleep()
        ) as hook:
            await hook.get_caller_identity()

    with pytest.raises(LaunchDarklyServerError, match="-> 500"):
        asyncio.run(run_async())
    assert len(emulator.calls_to()) == 1, "500 is not one of the retried statuses"


# Connection pooling


@pytest.mark.asyncio
async def test_hooks_in_one_loop_share_one_client(ld_connection, emulator):
    first, second = LaunchDarklyAsyncHook(ld_connection), LaunchDarklyAsyncHook(ld_connection)
    client = await first.get_conn()
    assert await second.get_conn() is client
    assert await first.get_conn() is client, "asking again does not take a second share"
    await first.get_caller_identity()
    await second.get_caller_identity()
    await first.aclose()
    assert not client.is_closed, "the other hook still uses it"
    await second.aclose()
    assert client.is_closed, "the last user closes it"
    assert launchdarkly_async._CLIENTS[asyncio.get_running_loop()] == {}
    third = LaunchDarklyAsyncHook(ld_connection)
    assert await third.get_conn() is not client
    await third.aclose()


@pytest.mark.asyncio
async def test_other_base_url_or_loop_gets_another_client(ld_connection, emulator, monkeypatch):
    hook = LaunchDarklyAsyncHook(ld_connection)
    client = await hook.get_conn()
    monkeypatch.setenv("AIRFLOW_CONN_OTHER", connection_json("http://localhost:9"))
    other = LaunchDarklyAsyncHook("other")
    assert await other.get_conn() is not client
    in_another_loop = await asyncio.to_thread(lambda: asyncio.run(_client_of(ld_connection)))
    assert in_another_loop is not client and in_another_loop.is_closed
    await hook.aclose()
    await other.aclose()


async def _client_of(conn_id: str) -> httpx.AsyncClient:
    async with LaunchDarklyAsyncHook(conn_id) as hook:
        return await hook.get_conn()


@pytest.mark.asyncio
async def test_shared_client_carries_no_token(async_hook, emulator):
    async with async_hook:
        client = await async_hook.get_conn()
        assert EMULATOR_TOKEN not in json.dumps(dict(client.headers))
        assert "authorization" not in {name.lower() for name in client.headers}


# Reading the connection


@requires_airflow_3_1
@pytest.mark.asyncio
async def test_connection_is_read_with_the_async_api(ld_connection, emulator, monkeypatch):
    loop_thread = threading.get_ident()
    awaited: list[str] = []
    original = BaseHook.aget_connection

    def blocking_get_connection(conn_id):
        raise AssertionError("the sync get_connection must not be called from the event loop")

    async def recording_aget_connection(conn_id):
        awaited.append(conn_id)
        return await original(conn_id)

    monkeypatch.setattr(
        BaseHook, "get_connection", classmethod(lambda cls, conn_id: blocking_get_connection(conn_id))
    )
    monkeypatch.setattr(
        BaseHook, "aget_connection", classmethod(lambda cls, conn_id: recording_aget_connection(conn_id))
    )
    async with LaunchDarklyAsyncHook(ld_connection) as hook:
        settings = await hook.get_settings()
        await hook.get_caller_identity()
    assert awaited == [ld_connection], "read once, then cached"
    assert settings.base_url == emulator.base_url
    assert settings.timeout == 5
    assert threading.get_ident() == loop_thread


@pytest.mark.asyncio
async def test_without_aget_connection_the_sync_api_runs_in_a_thread(ld_connection, emulator, monkeypatch):
    loop_thread = threading.get_ident()
    threads: list[int] = []
    original = BaseHook.get_connection

    def recording_get_connection(conn_id):
        threads.append(threading.get_ident())
        return original(conn_id)

    monkeypatch.setattr(_compat, "AIRFLOW_V_3_1_PLUS", False)  # the path Airflow 3.0 takes
    monkeypatch.setattr(BaseHook, "get_connection", staticmethod(recording_get_connection))
    async with LaunchDarklyAsyncHook(ld_connection) as hook:
        await hook.get_caller_identity()
    assert len(threads) == 1 and threads[0] != loop_thread


@pytest.mark.asyncio
async def test_secrets_never_logged(async_hook, emulator, caplog, capsys):
    caplog.set_level(logging.DEBUG)
    created = emulator.add_destination("proj", "prod", kind="segment", config={"writeKey": SECRET_WRITE_KEY})
    emulator.inject_fault("GET", "/api/v2/destinations*", status=429, retry_after=0)
    async with async_hook:
        fetched = await async_hook.get_destination("proj", "prod", created["_id"])
    captured = capsys.readouterr()
    text = caplog.text + captured.out + captured.err + repr(fetched) + json.dumps(fetched.to_dict())
    assert "retry 1 of 3" in text
    assert SECRET_WRITE_KEY not in text
    assert EMULATOR_TOKEN not in text


GET_PATH = "GET /api/v2/destinations/proj/prod/abc"
POST_PATH = "POST /api/v2/destinations/proj/prod"


@pytest.mark.parametrize(
    ("attempt", "content", "failure", "create", "error_class", "message"),
    [
        (
            Attempt(status=401),
            b'{"code":"unauthorized","message":"Invalid token","id":"r1"}',
            None,
            False,
            LaunchDarklyAuthError,
            f"{GET_PATH} -> 401 unauthorized: Invalid token (request r1)",
        ),
        (Attempt(status=404), b"", None, False, LaunchDarklyNotFoundError, f"{GET_PATH} -> 404 not found"),
        (
            Attempt(status=429),
            b'{"message":"slow down"}',
            None,
            True,
            LaunchDarklyRateLimitError,
            f"{POST_PATH} -> 429 slow down; gave up after 3 retries: 3 retries used",
        ),
        (
            Attempt(status=503),
            b"",
            None,
            True,
            LaunchDarklyServerError,
            f"{POST_PATH} -> 503 service unavailable",
        ),
        (
            Attempt(status=503),
            b"",
            None,
            False,
            LaunchDarklyServerError,
            f"{GET_PATH} -> 503 service unavailable; gave up after 3 retries: 3 retries used",
        ),
        (
            Attempt(failure=TransportFailure.NOT_SENT),
            b"",
            httpx.ConnectError("refused"),
            True,
            LaunchDarklyConnectionError,
            f"{POST_PATH} could not connect to app.launchdarkly.com (ConnectError); gave up after 3 retries: 3 retries used",
        ),
        (
            Attempt(failure=TransportFailure.MAYBE_SENT),
            b"",
            httpx.ReadTimeout("slow"),
            True,
            LaunchDarklyConnectionError,
            (
                f"{POST_PATH} connection failed to app.launchdarkly.com (ReadTimeout); the request may have been applied, "
                "and was not repeated because it is not idempotent"
            ),
        ),
    ],
)
def test_final_error_shared_by_both_hooks(attempt, content, failure, create, error_class, message):
    request = (
        operations.create_destination(
            "proj", "prod", kind="google-pubsub", config={"project": "p", "topic": "t"}
        )
        if create
        else operations.get_destination("proj", "prod", "abc")
    )
    error = final_error(
        request,
        attempt,
        content,
        failure,
        retries=3,
        reason="3 retries used",
        policy=policy(),
        host="app.launchdarkly.com",
    )
    assert type(error) is error_class
    assert str(error) == message


@pytest.mark.asyncio
async def test_shared_client_sends_at_most_its_pool_size_at_once_and_queues_the_rest():
    """Hundreds of triggers polling together wait on the client's semaphore, not on the pool's timeout."""
    in_flight = peak = 0
    release = asyncio.Event()

    async def answer(request: httpx.Request) -> httpx.Response:
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        await release.wait()
        in_flight -= 1
        return httpx.Response(200, json={"path": request.url.path})

    client = launchdarkly_async._SharedAsyncClient(
        in_flight=3, transport=httpx.MockTransport(answer), base_url="http://emulator"
    )
    async with client:
        requests = [asyncio.create_task(client.get(f"/r/{i}")) for i in range(10)]
        for _ in range(50):  # let every request run as far as it can
            await asyncio.sleep(0)
        assert (in_flight, peak) == (3, 3)
        release.set()
        answers = await asyncio.gather(*requests)
    assert peak == 3
    assert [a.json()["path"] for a in answers] == [f"/r/{i}" for i in range(10)]
