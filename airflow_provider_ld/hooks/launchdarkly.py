"""The LaunchDarkly hook: one method per API operation over one reused ``requests`` session."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from functools import cached_property
from typing import TYPE_CHECKING, Any, Self, cast

from airflow_provider_ld._compat import BaseHook, connection_form_widgets, mask_secret
from airflow_provider_ld.api import operations
from airflow_provider_ld.api.calls import (
    USER_AGENT,
    ApiRequest,
    DeadlineExceeded,
    attempt_deadline,
    final_error,
    parse_response,
    request_headers,
)
from airflow_provider_ld.api.retries import Attempt, RetryPolicy
from airflow_provider_ld.connection import ConnectionSettings, settings_from_connection
from airflow_provider_ld.destination_ref import DestinationRef
from airflow_provider_ld.exceptions import (
    LaunchDarklyConnectionError,
    LaunchDarklyError,
    LaunchDarklyNotFoundError,
)
from airflow_provider_ld.get_provider_info import CONN_FIELDS, UI_FIELD_BEHAVIOUR
from airflow_provider_ld.hooks._attempts import classify_failure, classify_transport_error, read_capped
from airflow_provider_ld.hooks._delivery import DeliveryConfigurationsMixin
from airflow_provider_ld.hooks._updates import DestinationUpdatesMixin
from airflow_provider_ld.hooks._warehouse import WarehouseSetupMixin
from airflow_provider_ld.models import (
    CallerIdentity,
    Destination,
)
from airflow_provider_ld.models.configs import DestinationConfig
from airflow_provider_ld.models.destinations import check_scope, filter_destinations
from airflow_provider_ld.models.secrets import secret_values

if TYPE_CHECKING:
    import requests


class LaunchDarklyHook(DestinationUpdatesMixin, WarehouseSetupMixin, DeliveryConfigurationsMixin, BaseHook):
    """
    Call the LaunchDarkly REST API (Data Export destinations, warehouse setup, delivery configurations).

    The connection's password is the API access token and its host the base URL (default
    ``https://app.launchdarkly.com``; EU ``https://app.eu.launchdarkly.com``; federal
    ``https://app.launchdarkly.us``). Every method checks its input before sending anything, returns a
    typed model, and raises a :class:`~airflow_provider_ld.exceptions.LaunchDarklyError` subclass on failure.

    :param launchdarkly_conn_id: the Airflow connection to use.
    :param timeout: seconds per request; overrides the connection's ``timeout`` extra.
    :param max_retries: retries per request; overrides the connection's ``max_retries`` extra.
    :param max_retry_wait: total seconds of waiting per request; overrides the ``max_retry_wait`` extra.
    :param retry_policy: a ready :class:`RetryPolicy` (mainly for tests); built from the settings otherwise.
    :param sleep: the function used to wait between retries (injectable for tests).
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
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        super().__init__()
        self.launchdarkly_conn_id = launchdarkly_conn_id
        self._overrides = {"timeout": timeout, "max_retries": max_retries, "max_retry_wait": max_retry_wait}
        self._retry_policy = retry_policy
        self._sleep = sleep
        self._watchdog: Any = None
        self._aborted = False

    def __repr__(self) -> str:
        return f"{type(self).__name__}(launchdarkly_conn_id={self.launchdarkly_conn_id!r})"

    # Connection form

    @classmethod
    def get_ui_field_behaviour(cls) -> dict[str, Any]:
        """Return how the connection form shows the standard fields (Airflow 3.0/3.1 read this)."""
        return {
            "hidden_fields": list(UI_FIELD_BEHAVIOUR["hidden-fields"]),
            "relabeling": dict(UI_FIELD_BEHAVIOUR["relabeling"]),
            "placeholders": dict(UI_FIELD_BEHAVIOUR["placeholders"]),
        }

    @classmethod
    def get_connection_form_widgets(cls) -> dict[str, Any]:
        """Return the extra form fields for Airflow releases that still build forms from widgets."""
        return connection_form_widgets(CONN_FIELDS)

    # Plumbing

    @cached_property
    def settings(self) -> ConnectionSettings:
        """The checked connection settings; the token is registered with Airflow's secrets masker."""
        conn = self.get_connection(self.launchdarkly_conn_id)
        settings = settings_from_connection(conn, **self._overrides)
        mask_secret(settings.token)
        return settings

    @cached_property
    def retry_policy(self) -> RetryPolicy:
        """The retry rules for this hook's requests."""
        if self._retry_policy is not None:
            return self._retry_policy
        return RetryPolicy(max_retries=self.settings.max_retries, max_wait=self.settings.max_retry_wait)

    @cached_property
    def session(self) -> requests.Session:
        """
        One ``requests.Session`` for all calls of this hook (connection pooling, keep-alive).

        It refuses cookies, ignores proxy settings from the environment, and lets each attempt's deadline
        cut its connection.
        """
        from airflow_provider_ld.hooks._transport import new_session

        return new_session({"User-Agent": USER_AGENT, "Accept": "application/json"})

    def get_conn(self) -> requests.Session:
        """Return the ``requests.Session`` this hook uses."""
        return self.session

    def close(self) -> None:
        """Close the pooled connections."""
        if "session" in self.__dict__:
            self.session.close()
            del self.__dict__["session"]

    @property
    def aborted(self) -> bool:
        """Whether :meth:`abort` stopped this hook (its calls then fail at once)."""
        return self._aborted

    def abort(self) -> None:
        """
        Stop the request in flight, if any, and close the pooled connections (``on_kill`` calls this).

        Safe to call from another thread or a signal handler: the attempt in flight fails at once as if its
        deadline had passed, so the task's own thread unwinds without waiting for the server.
        """
        self._aborted = True
        watchdog = self._watchdog
        if watchdog is not None:
            watchdog.expire_now()
        self.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def call(self, request: ApiRequest) -> Any:
        """
        Send one call with the retry policy and return its parsed answer.

        :param request: a call built by :mod:`airflow_provider_ld.api.operations`.
        :return: the request's response model, or ``None`` for calls without a body.
        """
        settings = self.settings
        for value in secret_values(request.body):
            mask_secret(value)
        url = settings.base_url + request.path
        headers = request_headers(settings, request)
        data = request.encoded_body()
        waited, retry_number = 0.0, 0
        while True:
            if not self._aborted:
                attempt, content, failure = self._send(request, url, headers, data)
                if attempt.failure is None and attempt.status is not None and attempt.status < 400:
                    return parse_response(request, attempt.status, content)
            if self._aborted:
                raise LaunchDarklyConnectionError(
                    "stopped: the task was killed", method=request.method, path=request.path
                )
            retry_number += 1
            decision = self.retry_policy.decide(
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
                    policy=self.retry_policy,
                    host=self.settings.host,
                )
            self.log.info(
                "LaunchDarkly %s answered %s; retry %d of %d in %.2f s (%s; %.1f of %.0f s retry budget used)",
                request.describe(),
                attempt.describe(),
                retry_number,
                self.retry_policy.max_retries,
                decision.wait,
                decision.reason,
                waited,
                self.retry_policy.max_wait,
            )
            self._sleep(decision.wait)
            waited += decision.wait

    def _send(
        self, request: ApiRequest, url: str, headers: dict[str, str], data: bytes | None
    ) -> tuple[Attempt, bytes, Exception | None]:
        """
        Make one attempt, bounded as a whole by :func:`attempt_deadline` and its body by ``MAX_RESPONSE_BYTES``.

        :return: the attempt, the body read, and the transport exception when the attempt failed.
        """
        import requests

        from airflow_provider_ld.hooks._transport import AttemptWatchdog

        started = time.monotonic()
        deadline = attempt_deadline(self.settings.timeout)
        failure: Exception | None = None
        with AttemptWatchdog(deadline) as watchdog:
            self._watchdog = watchdog
            try:
                response = self.session.request(
                    request.method,
                    url,
                    data=data,
                    headers=headers,
                    timeout=self.settings.timeout,
                    allow_redirects=False,
                    stream=True,
                )
                with response:
                    content = read_capped(request, response)
            except (requests.RequestException, OSError) as err:
                failure = err
            finally:
                self._watchdog = None
        if watchdog.expired:  # whatever was read after the cut may look complete, but is not
            failure = DeadlineExceeded(deadline)
        if failure is not None:
            self.log.debug("LaunchDarkly %s failed: %s", request.describe(), type(failure).__name__)
            return Attempt(failure=classify_failure(failure)), b"", failure
        self.log.debug(
            "LaunchDarkly %s -> %s in %.0f ms",
            request.describe(),
            response.status_code,
            (time.monotonic() - started) * 1000,
        )
        return Attempt(status=response.status_code, headers=response.headers), content, None

    # Data Export destinations

    def list_destinations(
        self, project_key: str | None = None, environment_key: str | None = None
    ) -> list[Destination]:
        """
        List destinations: all in the account, or those of one project (and environment).

        The API lists every destination in one unpaginated call; filtering happens here.

        :param project_key: keep only destinations of this project.
        :param environment_key: keep only destinations of this environment (needs ``project_key``).
        """
        check_scope(project_key, environment_key)
        return filter_destinations(
            self.call(operations.list_destinations()).items,
            project_key=project_key,
            environment_key=environment_key,
        )

    def find_destinations(
        self, project_key: str, environment_key: str, *, name: str | None = None, kind: str | None = None
    ) -> list[Destination]:
        """
        Return the destinations of one environment with the given name and/or kind.

        :param project_key: the project key.
        :param environment_key: the environment key.
        :param name: exact destination name to match.
        :param kind: destination kind to match.
        """
        return filter_destinations(self.list_destinations(project_key, environment_key), name=name, kind=kind)

    def find_destination(self, ref: DestinationRef) -> Destination | None:
        """
        Return the destination a reference names, or ``None`` when it does not exist (a 404 means absent).

        By id this is one ``GET``; by name (and kind) one listing, from which the one match is picked.

        :param ref: which destination.
        :raises LaunchDarklyValidationError: when several destinations match the name (and kind).
        """
        if ref.destination_id:
            try:
                return self.get_destination(ref.project_key, ref.environment_key, ref.destination_id)
            except LaunchDarklyNotFoundError:
                return None
        return ref.select(
            self.find_destinations(ref.project_key, ref.environment_key, name=ref.name, kind=ref.kind)
        )

    def create_destination(
        self,
        project_key: str,
        environment_key: str,
        *,
        kind: str,
        config: Mapping[str, Any] | DestinationConfig,
        name: str | None = None,
        on: bool = False,
        allow_unknown_kind: bool = False,
    ) -> Destination:
        """
        Create a destination. The kind and config are checked before anything is sent.

        The call is retried only when the API provably did not act (429, connection refused), so it never
        creates two destinations.

        :param project_key: the project key.
        :param environment_key: the environment key.
        :param kind: the destination kind, e.g. ``segment`` or ``snowflake-v2``.
        :param config: the kind's settings in wire spelling, or a config model such as ``SegmentConfig``.
        :param name: a display name.
        :param on: whether export starts at once.
        :param allow_unknown_kind: send a kind (and config fields) this release does not know.
        """
        request = operations.create_destination(
            project_key,
            environment_key,
            kind=kind,
            config=config,
            name=name,
            on=on,
            allow_unknown_kind=allow_unknown_kind,
        )
        return cast("Destination", self.call(request))

    def get_destination(self, project_key: str, environment_key: str, destination_id: str) -> Destination:
        """Return one destination; raises ``LaunchDarklyNotFoundError`` if it does not exist."""
        return cast(
            "Destination", self.call(operations.get_destination(project_key, environment_key, destination_id))
        )

    def patch_destination(
        self,
        project_key: str,
        environment_key: str,
        destination_id: str,
        patch: list[dict[str, Any]] | None = None,
        *,
        merge_patch: Mapping[str, Any] | None = None,
        comment: str | None = None,
    ) -> Destination:
        """
        Apply a JSON Patch (or a JSON Merge Patch) to a destination.

        A patch that starts with a ``test`` of ``/version`` is safe to retry; others are not retried after
        a lost answer. ``comment`` uses the API's ``{comment, patch}`` envelope, which LaunchDarkly documents
        API-wide but not for destinations specifically.

        :param patch: JSON Patch operations.
        :param merge_patch: a JSON Merge Patch object, instead of ``patch``.
        :param comment: an audit-log comment.
        """
        request = operations.patch_destination(
            project_key, environment_key, destination_id, patch, merge_patch=merge_patch, comment=comment
        )
        return cast("Destination", self.call(request))

    def delete_destination(self, project_key: str, environment_key: str, destination_id: str) -> None:
        """Delete a destination; raises ``LaunchDarklyNotFoundError`` if it does not exist."""
        self.call(operations.delete_destination(project_key, environment_key, destination_id))

    # Identity

    def get_caller_identity(self) -> CallerIdentity:
        """Return who the token belongs to and what it may reach."""
        return cast("CallerIdentity", self.call(operations.get_caller_identity()))

    def test_connection(self) -> tuple[bool, str]:
        """Check the token with ``GET /api/v2/caller-identity``; report its scope or the API's error."""
        try:
            identity = self.get_caller_identity()
        except LaunchDarklyError as err:
            return False, str(err)
        return True, f"Connected to {self.settings.base_url}: {identity.describe()}"


__all__ = ["LaunchDarklyHook", "classify_transport_error"]
