"""The LaunchDarkly hook: one method per API operation over one reused ``requests`` session."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from functools import cached_property
from typing import Any, Self

from airflow_provider_ld._compat import BaseHook, connection_form_widgets, mask_secret
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
from airflow_provider_ld.api.patches import comparable_config, make_patch
from airflow_provider_ld.api.retries import Attempt, RetryPolicy, TransportFailure
from airflow_provider_ld.connection import ConnectionSettings, settings_from_connection
from airflow_provider_ld.destination_ref import DestinationRef
from airflow_provider_ld.exceptions import (
    LaunchDarklyConflictError,
    LaunchDarklyConnectionError,
    LaunchDarklyError,
    LaunchDarklyNotFoundError,
)
from airflow_provider_ld.get_provider_info import CONN_FIELDS, UI_FIELD_BEHAVIOUR
from airflow_provider_ld.models import (
    CallerIdentity,
    DeliveryValidationResult,
    Destination,
    IntegrationDeliveryConfiguration,
    TrustPolicy,
    WarehouseKeyPair,
    WarehouseSetupScript,
    validate_destination_config,
)
from airflow_provider_ld.models._base import validate_bool, validate_key, validate_name
from airflow_provider_ld.models.configs import DestinationConfig
from airflow_provider_ld.models.destinations import check_scope, check_update_arguments, filter_destinations
from airflow_provider_ld.models.secrets import secret_values


class LaunchDarklyHook(BaseHook):
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
    def session(self):
        """
        One ``requests.Session`` for all calls of this hook (connection pooling, keep-alive).

        It refuses cookies, ignores proxy settings from the environment, and lets each attempt's deadline
        cut its connection.
        """
        from airflow_provider_ld.hooks._transport import new_session

        return new_session({"User-Agent": USER_AGENT, "Accept": "application/json"})

    def get_conn(self):
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
                if attempt.failure is None and attempt.status < 400:
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
                    content = _read_capped(request, response)
            except (requests.RequestException, OSError) as err:
                failure = err
            finally:
                self._watchdog = None
        if watchdog.expired:  # whatever was read after the cut may look complete, but is not
            failure = DeadlineExceeded(deadline)
        if failure is not None:
            self.log.debug("LaunchDarkly %s failed: %s", request.describe(), type(failure).__name__)
            return Attempt(failure=_classify_failure(failure)), b"", failure
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
        return self.call(request)

    def get_destination(self, project_key: str, environment_key: str, destination_id: str) -> Destination:
        """Return one destination; raises ``LaunchDarklyNotFoundError`` if it does not exist."""
        return self.call(operations.get_destination(project_key, environment_key, destination_id))

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
        return self.call(request)

    def update_destination(
        self,
        project_key: str,
        environment_key: str,
        destination_id: str,
        *,
        name: str | None = None,
        on: bool | None = None,
        config: Mapping[str, Any] | DestinationConfig | None = None,
        comment: str | None = None,
        allow_unknown_kind: bool = False,
        current: Destination | None = None,
        rotate_secrets: bool = False,
    ) -> tuple[Destination, bool]:
        """
        Bring a destination to the desired state with the minimal, version-guarded JSON Patch.

        Fields left ``None`` are not touched. No PATCH is sent when nothing differs. The version test
        makes the PATCH fail with ``LaunchDarklyConflictError`` if someone else changed it meanwhile.

        LaunchDarkly answers stored secrets (``writeKey``, ``policyKey``, ``apiKey``, ``secret``) as
        obfuscated stand-ins, so they cannot be compared: a secret in ``config`` is left as stored, and
        never re-sent, unless ``rotate_secrets`` is set. A stand-in whose visible characters disagree with
        the given value is reported in the log as a probable rotation outside Airflow.

        :param current: the destination as just read (saves the GET when the caller has it).
        :param rotate_secrets: send the secret values in ``config`` even though the stored ones cannot be
            compared (a deliberate secret rotation); each run with it set sends them again.
        :return: the destination after the update, and whether a PATCH was sent.
        """
        check_update_arguments(name=name, on=on, config=config, comment=comment)
        validate_bool("rotate_secrets", rotate_secrets)
        validate_key("destination_id", destination_id)
        if current is None or current.id != destination_id:
            current = self.get_destination(project_key, environment_key, destination_id)
        desired = self.desired_destination_state(
            current, name=name, on=on, config=config, allow_unknown_kind=allow_unknown_kind
        )
        desired = self._comparable(current, desired, rotate_secrets=rotate_secrets)
        patch = make_patch(current.model_dump(by_alias=True), desired, version=current.version)
        if not patch:
            return current, False
        try:
            updated = self.patch_destination(
                project_key, environment_key, destination_id, patch, comment=comment
            )
        except LaunchDarklyConflictError as conflict:
            updated = self._settle_conflict(project_key, environment_key, destination_id, desired, conflict)
        return updated, True

    def _comparable(
        self, current: Destination, desired: dict[str, Any], *, rotate_secrets: bool
    ) -> dict[str, Any]:
        """
        Return ``desired`` with its config made comparable with ``current`` (see :func:`comparable_config`).

        Logs the secret fields left uncompared, and those that visibly differ.
        """
        if "config" not in desired:
            return desired
        comparison = comparable_config(
            current.kind, current.config, desired["config"], rotate_secrets=rotate_secrets
        )
        if comparison.uncompared:
            self.log.info(
                "Destination %s: secret fields %s are stored obfuscated and were not compared or sent "
                "(pass rotate_secrets=True to push new values)",
                current.id,
                ", ".join(comparison.uncompared),
            )
        if comparison.disagreeing:
            self.log.warning(
                "Destination %s: the stored %s differ from the given values (their visible characters do "
                "not match); if they were rotated, pass rotate_secrets=True to push the new values",
                current.id,
                ", ".join(comparison.disagreeing),
            )
        return {**desired, "config": comparison.desired}

    def _settle_conflict(
        self,
        project_key: str,
        environment_key: str,
        destination_id: str,
        desired: dict[str, Any],
        conflict: LaunchDarklyConflictError,
    ) -> Destination:
        """
        After a version conflict, succeed only if the destination already is in the desired state.

        That is the case when an earlier attempt of this PATCH was applied but its answer was lost (the
        retry then fails its version test), or when someone made the same change. Any other difference
        is a real concurrent edit, and the conflict is raised again rather than overwriting it. Secrets
        the API shows obfuscated count as applied when the visible characters agree with the sent value.
        """
        latest = self.get_destination(project_key, environment_key, destination_id)
        settled = desired
        if "config" in desired:
            comparison = comparable_config(
                latest.kind, latest.config, desired["config"], rotate_secrets=False
            )
            if comparison.disagreeing:
                raise conflict
            settled = {**desired, "config": comparison.desired}
        if make_patch(latest.model_dump(by_alias=True), settled, version=None):
            raise conflict
        self.log.info(
            "Destination %s changed under the version test but already has the requested state (version %s)",
            destination_id,
            latest.version,
        )
        return latest

    @staticmethod
    def desired_destination_state(
        current: Destination,
        *,
        name: str | None = None,
        on: bool | None = None,
        config: Mapping[str, Any] | DestinationConfig | None = None,
        allow_unknown_kind: bool = False,
    ) -> dict[str, Any]:
        """Return the checked desired values of the writable fields that were given."""
        desired: dict[str, Any] = {}
        if name is not None:
            desired["name"] = validate_name("name", name, required=True)
        if on is not None:
            desired["on"] = validate_bool("on", on)
        if config is not None:
            kind = current.kind or ""
            checked = validate_destination_config(kind, config, allow_unknown=allow_unknown_kind)
            desired["config"] = checked.to_request() if isinstance(checked, DestinationConfig) else checked
        return desired

    def delete_destination(self, project_key: str, environment_key: str, destination_id: str) -> None:
        """Delete a destination; raises ``LaunchDarklyNotFoundError`` if it does not exist."""
        self.call(operations.delete_destination(project_key, environment_key, destination_id))

    # Warehouse setup

    def generate_warehouse_key_pair(
        self, project_key: str | None = None, environment_key: str | None = None
    ) -> WarehouseKeyPair:
        """
        Have LaunchDarkly generate a Snowflake key pair (public halves only).

        :param project_key: with ``environment_key``, use the project/environment-scoped route.
        :param environment_key: see ``project_key``; without both, the account-wide route is used.
        """
        return self.call(operations.generate_warehouse_key_pair(project_key, environment_key))

    def generate_trust_policy(self, project_key: str, environment_key: str) -> TrustPolicy:
        """Return the AWS trust policy that lets LaunchDarkly Data Export assume a role in your account."""
        return self.call(operations.generate_trust_policy(project_key, environment_key))

    def generate_warehouse_setup_script(
        self,
        project_key: str,
        environment_key: str,
        kind: str,
        setup: Mapping[str, Any] | None = None,
        *,
        allow_unknown_kind: bool = False,
    ) -> WarehouseSetupScript:
        """
        Start the guided warehouse setup: returns the SQL script (and keys or IAM policies) to apply.

        The API stores a pending destination that :meth:`complete_warehouse_setup` finishes.

        :param kind: ``snowflake-v2``, ``redshift`` or ``clickhouse``.
        :param setup: optional names and settings (see :class:`~airflow_provider_ld.models.WarehouseSetupRequest`).
        """
        request = operations.generate_warehouse_setup_script(
            project_key, environment_key, kind, setup, allow_unknown_kind=allow_unknown_kind
        )
        return self.call(request)

    def complete_warehouse_setup(
        self,
        project_key: str,
        environment_key: str,
        kind: str,
        public_key: str | None = None,
        *,
        allow_unknown_kind: bool = False,
    ) -> Destination:
        """
        Finish a pending warehouse setup, after the script ran in the warehouse.

        :param kind: the warehouse kind the setup was started for.
        :param public_key: the ``publicKey`` the setup call returned (required for ``snowflake-v2``).
        :return: the completed destination.
        """
        request = operations.complete_warehouse_setup(
            project_key, environment_key, kind, public_key, allow_unknown_kind=allow_unknown_kind
        )
        return self.call(request)

    # Integration delivery configurations (beta: these calls send LD-API-Version: beta)

    def list_delivery_configurations(
        self, project_key: str | None = None, environment_key: str | None = None
    ) -> list[IntegrationDeliveryConfiguration]:
        """List delivery configurations: all, or with both keys those of one environment (beta)."""
        return self.call(operations.list_delivery_configurations(project_key, environment_key)).items

    def create_delivery_configuration(
        self,
        project_key: str,
        environment_key: str,
        integration_key: str,
        *,
        config: Mapping[str, Any],
        on: bool = False,
        name: str | None = None,
        tags: list[str] | None = None,
        allow_unknown_integration: bool = False,
    ) -> IntegrationDeliveryConfiguration:
        """
        Create a delivery configuration for a feature-store integration (beta).

        :param integration_key: e.g. ``cloudflare``, ``fastly``, ``vercel``.
        :param config: the integration's form variables, in wire spelling.
        """
        request = operations.create_delivery_configuration(
            project_key,
            environment_key,
            integration_key,
            config=config,
            on=on,
            name=name,
            tags=tags,
            allow_unknown_integration=allow_unknown_integration,
        )
        return self.call(request)

    def get_delivery_configuration(
        self, project_key: str, environment_key: str, integration_key: str, configuration_id: str
    ) -> IntegrationDeliveryConfiguration:
        """Return one delivery configuration, with its (obfuscated) config (beta)."""
        request = operations.get_delivery_configuration(
            project_key, environment_key, integration_key, configuration_id
        )
        return self.call(request)

    def patch_delivery_configuration(
        self,
        project_key: str,
        environment_key: str,
        integration_key: str,
        configuration_id: str,
        patch: list[dict[str, Any]],
    ) -> IntegrationDeliveryConfiguration:
        """Apply a JSON Patch to a delivery configuration (beta)."""
        request = operations.patch_delivery_configuration(
            project_key, environment_key, integration_key, configuration_id, patch
        )
        return self.call(request)

    def delete_delivery_configuration(
        self, project_key: str, environment_key: str, integration_key: str, configuration_id: str
    ) -> None:
        """Delete a delivery configuration (beta)."""
        request = operations.delete_delivery_configuration(
            project_key, environment_key, integration_key, configuration_id
        )
        self.call(request)

    def validate_delivery_configuration(
        self, project_key: str, environment_key: str, integration_key: str, configuration_id: str
    ) -> DeliveryValidationResult:
        """Ask LaunchDarkly to test a delivery configuration against its integration (beta)."""
        request = operations.validate_delivery_configuration(
            project_key, environment_key, integration_key, configuration_id
        )
        return self.call(request)

    # Identity

    def get_caller_identity(self) -> CallerIdentity:
        """Return who the token belongs to and what it may reach."""
        return self.call(operations.get_caller_identity())

    def test_connection(self) -> tuple[bool, str]:
        """Check the token with ``GET /api/v2/caller-identity``; report its scope or the API's error."""
        try:
            identity = self.get_caller_identity()
        except LaunchDarklyError as err:
            return False, str(err)
        return True, f"Connected to {self.settings.base_url}: {identity.describe()}"


def _classify_failure(error: Exception) -> TransportFailure:
    import requests

    if isinstance(error, requests.RequestException):
        return classify_transport_error(error)
    return TransportFailure.MAYBE_SENT  # the attempt's deadline, or a socket error while reading


def classify_transport_error(error: Exception) -> TransportFailure:
    """
    Tell whether a ``requests`` error happened before the request could reach the server.

    Connection refused, name resolution and connect timeouts mean it never did; anything later (read
    timeout, connection dropped) means the server may have acted.
    """
    import requests
    from urllib3.exceptions import NameResolutionError, NewConnectionError

    if isinstance(error, requests.ConnectTimeout):
        return TransportFailure.NOT_SENT
    reason = getattr(error.args[0], "reason", None) if error.args else None
    if isinstance(reason, (NewConnectionError, NameResolutionError)):
        return TransportFailure.NOT_SENT
    return TransportFailure.MAYBE_SENT


def _read_capped(request: ApiRequest, response: Any) -> bytes:
    """
    Read a streamed ``requests`` answer's body within :data:`MAX_RESPONSE_BYTES` (see :class:`CappedBody`).

    :param request: the call, for the error.
    :param response: a ``requests.Response`` opened with ``stream=True``.
    """
    body = CappedBody(request, response.status_code, response.headers)
    for chunk in response.iter_content(chunk_size=READ_CHUNK_BYTES):
        body.add(chunk)
    return body.content()
