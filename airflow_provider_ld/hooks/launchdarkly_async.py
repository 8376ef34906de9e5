"""
The async LaunchDarkly client (``httpx``) used by triggers, built on the same pure core as the sync hook.

Requests are built by :mod:`airflow_provider_ld.api.operations`, headed by
:func:`~airflow_provider_ld.api.calls.request_headers`, read by
:func:`~airflow_provider_ld.api.calls.parse_response` and retried as
:meth:`~airflow_provider_ld.api.retries.RetryPolicy.decide` says; only the transport differs.
One ``httpx.AsyncClient`` per event loop and base URL is shared by every hook in that loop, so many
triggers on one triggerer share one connection pool. The token travels in per-request headers only.
"""

from __future__ import annotations

import asyncio
import ssl
import weakref
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any, Self, cast

import httpx

from airflow_provider_ld._compat import BaseHook, aextra_dejson, aget_connection, amask_secret
from airflow_provider_ld.api import operations
from airflow_provider_ld.api.calls import (
    READ_CHUNK_BYTES,
    USER_AGENT,
    ApiRequest,
    CappedBody,
    DeadlineExceeded,
    attempt_deadline,
    final_error,
    parse_response,
    request_headers,
)
from airflow_provider_ld.api.retries import Attempt, RetryPolicy, TransportFailure
from airflow_provider_ld.connection import ConnectionSettings, settings_from_connection
from airflow_provider_ld.destination_ref import DestinationRef
from airflow_provider_ld.exceptions import LaunchDarklyNotFoundError
from airflow_provider_ld.hooks._cookies import refusing_jar
from airflow_provider_ld.models import CallerIdentity, Destination
from airflow_provider_ld.models.destinations import check_scope, filter_destinations
from airflow_provider_ld.models.secrets import secret_values

#: httpx errors raised before the request could reach the server.
_NOT_SENT_ERRORS: tuple[type[Exception], ...] = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


def classify_httpx_error(error: Exception) -> TransportFailure:
    """
    Tell whether an ``httpx`` transport error happened before the request could reach the server.

    Connection refused, name resolution, connect and pool timeouts mean it never did; anything later (read
    timeout, connection dropped, protocol error) means the server may have acted.
    """
    return TransportFailure.NOT_SENT if isinstance(error, _NOT_SENT_ERRORS) else TransportFailure.MAYBE_SENT


# One shared client per (event loop, base URL)


@dataclass
class _SharedClient:
    client: httpx.AsyncClient
    users: int = 0


#: Shared clients by event loop (held weakly: a loop that is gone drops its clients) and base URL.
_CLIENTS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, _SharedClient]] = (
    weakref.WeakKeyDictionary()
)


#: One TLS context per process: loading the CA bundle takes tens of milliseconds, so it is built once,
#: off the loop.
_SSL_CONTEXT: ssl.SSLContext | None = None


async def _ssl_context() -> ssl.SSLContext | bool:
    global _SSL_CONTEXT
    create = getattr(httpx, "create_ssl_context", None)
    if create is None:  # pragma: no cover - httpx before 0.28 builds its own
        return True
    if _SSL_CONTEXT is None:
        context = await asyncio.to_thread(create, trust_env=False)
        _SSL_CONTEXT = _SSL_CONTEXT or context
    return _SSL_CONTEXT


#: Request extension: called when the shared client lets a queued request go (its deadline starts then).
_ON_SENDING = "airflow_provider_ld.on_sending"

#: Connections per shared client (one client per event loop and base URL).
SHARED_POOL_SIZE = 10


class _SharedAsyncClient(httpx.AsyncClient):
    """
    An ``httpx.AsyncClient`` that sends at most ``in_flight`` requests at once; the others wait their turn.

    Waiting on a semaphore is cheap and fair, and it is not counted against the request's pool timeout,
    so hundreds of triggers polling at the same moment queue quietly on a few kept-alive connections.

    :param in_flight: how many requests may be sent at once (the connection pool's size).
    """

    def __init__(self, *args: Any, in_flight: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._in_flight = asyncio.Semaphore(in_flight)

    async def send(self, request: httpx.Request, **kwargs: Any) -> httpx.Response:
        async with self._in_flight:
            on_sending = request.extensions.get(_ON_SENDING)
            if on_sending is not None:
                on_sending()
            return await super().send(request, **kwargs)


def _new_client(base_url: str, verify: ssl.SSLContext | bool) -> httpx.AsyncClient:
    # No token and no timeout here: both come with each request, so hooks with other settings can share it.
    # No cookies either: a cookie set for one token's request must never travel with another's.
    return _SharedAsyncClient(
        in_flight=SHARED_POOL_SIZE,
        base_url=base_url,
        headers={"User-Agent": USER_AGENT, "Accept": "application/json"},
        verify=verify,
        follow_redirects=False,
        trust_env=False,
        cookies=refusing_jar(),
        # Equal limits: every connection stays alive, so many triggers polling at once reuse a small pool
        # instead of opening and closing connections beyond the keep-alive limit (see benchmarks/, section 4).
        limits=httpx.Limits(max_connections=SHARED_POOL_SIZE, max_keepalive_connections=SHARED_POOL_SIZE),
    )


def _acquire_client(
    loop: asyncio.AbstractEventLoop, base_url: str, verify: ssl.SSLContext | bool
) -> httpx.AsyncClient:
    clients = _CLIENTS.setdefault(loop, {})
    shared = clients.get(base_url)
    if shared is None or shared.client.is_closed:
        shared = clients[base_url] = _SharedClient(_new_client(base_url, verify))
    shared.users += 1
    return shared.client


async def _release_client(loop: asyncio.AbstractEventLoop, base_url: str, client: httpx.AsyncClient) -> None:
    clients = _CLIENTS.get(loop, {})
    shared = clients.get(base_url)
    if shared is None or shared.client is not client:
        return
    shared.users -= 1
    if shared.users <= 0:
        del clients[base_url]
        await client.aclose()


async def _read_capped(request: ApiRequest, response: httpx.Response) -> bytes:
    """
    Read a streamed ``httpx`` answer's body within :data:`MAX_RESPONSE_BYTES` (see :class:`CappedBody`).

    :param request: the call, for the error.
    :param response: an ``httpx.Response`` sent with ``stream=True``.
    """
    body = CappedBody(request, response.status_code, response.headers)
    async for chunk in response.aiter_bytes(READ_CHUNK_BYTES):
        body.add(chunk)
    return body.content()


class LaunchDarklyAsyncHook(BaseHook):
    """
    Call the LaunchDarkly REST API from async code (triggers) over a shared ``httpx.AsyncClient``.

    Takes the same connection as :class:`~airflow_provider_ld.hooks.launchdarkly.LaunchDarklyHook`, applies
    the same retry policy, and raises the same errors with the same messages.

    :param launchdarkly_conn_id: the Airflow connection to use.
    :param timeout: seconds per request; overrides the connection's ``timeout`` extra.
    :param max_retries: retries per request; overrides the connection's ``max_retries`` extra.
    :param max_retry_wait: total seconds of waiting per request; overrides the ``max_retry_wait`` extra.
    :param retry_policy: a ready :class:`RetryPolicy` (mainly for tests); built from the settings otherwise.
    :param sleep: the coroutine function used to wait between retries (injectable for tests).
    """

    conn_name_attr = "launchdarkly_conn_id"
    default_conn_name = "launchdarkly_default"
    conn_type = "launchdarkly"
    hook_name = "LaunchDarkly"

    def __init__(
        self,
        launchdarkly_conn_id: str = default_conn_name,
        *,
        timeout: float | None = None,
        max_retries: int | None = None,
        max_retry_wait: float | None = None,
        retry_policy: RetryPolicy | None = None,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
    ) -> None:
        super().__init__()
        self.launchdarkly_conn_id = launchdarkly_conn_id
        self._overrides = {"timeout": timeout, "max_retries": max_retries, "max_retry_wait": max_retry_wait}
        self._retry_policy = retry_policy
        self._sleep = sleep
        self._settings: ConnectionSettings | None = None
        self._client: httpx.AsyncClient | None = None
        self._client_loop: asyncio.AbstractEventLoop | None = None

    def __repr__(self) -> str:
        return f"{type(self).__name__}(launchdarkly_conn_id={self.launchdarkly_conn_id!r})"

    # Plumbing

    async def get_settings(self) -> ConnectionSettings:
        """Read and check the connection once, without blocking the event loop; the token is masked."""
        if self._settings is None:
            conn = await aget_connection(self.launchdarkly_conn_id)
            view = SimpleNamespace(
                host=conn.host,
                port=conn.port,
                password=conn.password,
                extra_dejson=await aextra_dejson(conn),
            )
            settings = settings_from_connection(view, **self._overrides)
            await amask_secret(settings.token)
            self._settings = settings
        return self._settings

    def retry_policy_for(self, settings: ConnectionSettings) -> RetryPolicy:
        """Return the retry rules for this hook's requests."""
        if self._retry_policy is None:
            self._retry_policy = RetryPolicy(
                max_retries=settings.max_retries, max_wait=settings.max_retry_wait
            )
        return self._retry_policy

    async def get_conn(self) -> httpx.AsyncClient:
        """Return the ``httpx.AsyncClient`` shared by the hooks of this event loop for this base URL."""
        settings = await self.get_settings()
        verify = await _ssl_context()
        loop = asyncio.get_running_loop()
        # No await from here on, so concurrent calls cannot both take a share.
        if self._client is None or self._client_loop is not loop or self._client.is_closed:
            self._client = _acquire_client(loop, settings.base_url, verify)
            self._client_loop = loop
        return self._client

    async def aclose(self) -> None:
        """Stop using the shared client; the last hook of a loop to let go of it closes it."""
        client, loop = self._client, self._client_loop
        self._client = self._client_loop = None
        if client is not None and loop is not None and self._settings is not None:
            await _release_client(loop, self._settings.base_url, client)

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def call(self, request: ApiRequest) -> Any:
        """
        Send one call with the retry policy and return its parsed answer.

        :param request: a call built by :mod:`airflow_provider_ld.api.operations`.
        :return: the request's response model, or ``None`` for calls without a body.
        """
        settings = await self.get_settings()
        policy = self.retry_policy_for(settings)
        for value in secret_values(request.body):
            await amask_secret(value)
        client = await self.get_conn()
        headers = request_headers(settings, request)
        data = request.encoded_body()
        waited, retry_number = 0.0, 0
        while True:
            attempt, content, failure = await self._send(client, settings, request, headers, data)
            if attempt.failure is None and attempt.status is not None and attempt.status < 400:
                return parse_response(request, attempt.status, content)
            retry_number += 1
            decision = policy.decide(
                retry_number, attempt, idempotent=bool(request.idempotent), waited=waited
            )
            if not decision.retry:
                raise final_error(
                    request,
                    attempt,
                    content,
                    failure,
                    retries=retry_number - 1,
                    reason=decision.reason,
                    policy=policy,
                    host=settings.host,
                )
            self.log.info(
                "LaunchDarkly %s answered %s; retry %d of %d in %.2f s (%s; %.1f of %.0f s retry budget used)",
                request.describe(),
                attempt.describe(),
                retry_number,
                policy.max_retries,
                decision.wait,
                decision.reason,
                waited,
                policy.max_wait,
            )
            await self._sleep(decision.wait)
            waited += decision.wait

    async def _send(
        self,
        client: httpx.AsyncClient,
        settings: ConnectionSettings,
        request: ApiRequest,
        headers: dict[str, str],
        data: bytes | None,
    ) -> tuple[Attempt, bytes, Exception | None]:
        started = asyncio.get_running_loop().time()
        deadline = attempt_deadline(settings.timeout)
        try:
            async with asyncio.timeout(deadline) as scope:
                built = client.build_request(
                    request.method, request.path, content=data, headers=headers, timeout=settings.timeout
                )
                # The deadline counts from when the shared client lets the request go, not from the queue.
                built.extensions[_ON_SENDING] = lambda: scope.reschedule(
                    asyncio.get_running_loop().time() + deadline
                )
                response = await client.send(built, stream=True)
                try:
                    content = await _read_capped(request, response)
                finally:
                    await response.aclose()
        except TimeoutError:
            err: Exception = DeadlineExceeded(deadline)
            self.log.debug("LaunchDarkly %s failed: %s", request.describe(), type(err).__name__)
            return Attempt(failure=TransportFailure.MAYBE_SENT), b"", err
        except httpx.TransportError as err:
            self.log.debug("LaunchDarkly %s failed: %s", request.describe(), type(err).__name__)
            return Attempt(failure=classify_httpx_error(err)), b"", err
        self.log.debug(
            "LaunchDarkly %s -> %s in %.0f ms",
            request.describe(),
            response.status_code,
            (asyncio.get_running_loop().time() - started) * 1000,
        )
        return Attempt(status=response.status_code, headers=dict(response.headers)), content, None

    # Data Export destinations (read-only: what triggers need)

    async def list_destinations(
        self, project_key: str | None = None, environment_key: str | None = None
    ) -> list[Destination]:
        """
        List destinations: all in the account, or those of one project (and environment).

        :param project_key: keep only destinations of this project.
        :param environment_key: keep only destinations of this environment.
        """
        check_scope(project_key, environment_key)
        listing = await self.call(operations.list_destinations())
        return filter_destinations(listing.items, project_key=project_key, environment_key=environment_key)

    async def find_destinations(
        self, project_key: str, environment_key: str, *, name: str | None = None, kind: str | None = None
    ) -> list[Destination]:
        """
        Return the destinations of one environment with the given name and/or kind.

        :param project_key: the project key.
        :param environment_key: the environment key.
        :param name: exact destination name to match.
        :param kind: destination kind to match.
        """
        return filter_destinations(
            await self.list_destinations(project_key, environment_key), name=name, kind=kind
        )

    async def find_destination(self, ref: DestinationRef) -> Destination | None:
        """
        Return the destination a reference names, or ``None`` when it does not exist (a 404 means absent).

        :param ref: which destination.
        :raises LaunchDarklyValidationError: when several destinations match the name (and kind).
        """
        if ref.destination_id:
            try:
                return await self.get_destination(ref.project_key, ref.environment_key, ref.destination_id)
            except LaunchDarklyNotFoundError:
                return None
        return ref.select(
            await self.find_destinations(ref.project_key, ref.environment_key, name=ref.name, kind=ref.kind)
        )

    async def get_destination(
        self, project_key: str, environment_key: str, destination_id: str
    ) -> Destination:
        """Return one destination; raises ``LaunchDarklyNotFoundError`` if it does not exist."""
        return cast(
            "Destination",
            await self.call(operations.get_destination(project_key, environment_key, destination_id)),
        )

    # Identity

    async def get_caller_identity(self) -> CallerIdentity:
        """Return who the token belongs to and what it may reach."""
        return cast("CallerIdentity", await self.call(operations.get_caller_identity()))


__all__ = ["LaunchDarklyAsyncHook", "classify_httpx_error"]
