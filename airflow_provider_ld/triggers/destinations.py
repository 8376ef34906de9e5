"""A trigger that waits, in the triggerer, until a Data Export destination is configured."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

from airflow.triggers.base import BaseTrigger, TriggerEvent

from airflow_provider_ld.exceptions import (
    LaunchDarklyConnectionError,
    LaunchDarklyError,
    LaunchDarklyNotFoundError,
    LaunchDarklyRateLimitError,
    LaunchDarklyServerError,
    LaunchDarklyValidationError,
)
from airflow_provider_ld.hooks.launchdarkly_async import LaunchDarklyAsyncHook
from airflow_provider_ld.models import Destination
from airflow_provider_ld.readiness import (
    describe_target,
    evaluate_readiness,
    select_destination,
    validate_target,
)

#: Errors that may clear up by themselves: the trigger logs them and polls again until its deadline.
TRANSIENT_ERRORS: tuple[type[LaunchDarklyError], ...] = (
    LaunchDarklyRateLimitError,
    LaunchDarklyServerError,
    LaunchDarklyConnectionError,
)

#: Seconds the check made at the deadline may take; no check runs longer past ``end_time``.
FINAL_CHECK_SECONDS = 10.0


class LaunchDarklyDestinationConfiguredTrigger(BaseTrigger):
    """
    Poll LaunchDarkly until a destination is configured, then fire one event.

    The destination is looked up by ``destination_id`` (a 404 means "not there yet"), or else by ``name``
    and ``kind`` (several matches are an error). What counts as configured is decided by
    :func:`~airflow_provider_ld.readiness.evaluate_readiness`.

    The single event is ``{"status": "success" | "error" | "timeout", "message": ..., <ids>}`` where the
    ids are ``project_key``, ``environment_key``, ``destination_id``, ``name`` and ``kind``. A success also
    carries ``destination`` (its ``to_dict()``, secrets redacted); an error carries ``error_type`` (the
    exception's class name) and ``status_code``. Rate limiting, server and connection errors are logged
    and polled through until ``end_time``. The trigger sleeps ``poll_interval`` between checks, never past
    the deadline; a check still running at the deadline (or :data:`FINAL_CHECK_SECONDS` into the last check,
    made at the deadline) is cut short with a ``timeout`` event.

    :param project_key: the project key.
    :param environment_key: the environment key.
    :param destination_id: the destination's ``_id``; takes precedence over ``name`` and ``kind``.
    :param name: the destination's exact name (with ``kind``).
    :param kind: the destination's kind (with ``name``).
    :param require_on: also wait for export to be switched on.
    :param launchdarkly_conn_id: the Airflow connection to use.
    :param poll_interval: seconds between checks.
    :param end_time: the deadline, in epoch seconds; a ``timeout`` event fires after it.
    """

    #: Time and sleep (the sleep also serves the hook's retry waits); tests replace them on an instance.
    #: They are not serialised.
    _clock = staticmethod(time.time)
    _sleep = staticmethod(asyncio.sleep)

    def __init__(
        self,
        *,
        project_key: str,
        environment_key: str,
        end_time: float,
        destination_id: str | None = None,
        name: str | None = None,
        kind: str | None = None,
        require_on: bool = True,
        launchdarkly_conn_id: str = LaunchDarklyAsyncHook.default_conn_name,
        poll_interval: float = 30.0,
    ) -> None:
        super().__init__()
        validate_target(destination_id, name, kind)
        if isinstance(poll_interval, bool) or not isinstance(poll_interval, (int, float)) or not poll_interval > 0:
            raise LaunchDarklyValidationError(
                f"poll_interval: must be a number of seconds > 0, got {poll_interval!r}", field="poll_interval"
            )
        self.project_key = project_key
        self.environment_key = environment_key
        self.destination_id = destination_id
        self.name = name
        self.kind = kind
        self.require_on = require_on
        self.launchdarkly_conn_id = launchdarkly_conn_id
        self.poll_interval = float(poll_interval)
        self.end_time = float(end_time)

    def serialize(self) -> tuple[str, dict[str, Any]]:
        """Return the class path and the plain-valued keyword arguments that rebuild this trigger."""
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {
                "project_key": self.project_key,
                "environment_key": self.environment_key,
                "destination_id": self.destination_id,
                "name": self.name,
                "kind": self.kind,
                "require_on": self.require_on,
                "launchdarkly_conn_id": self.launchdarkly_conn_id,
                "poll_interval": self.poll_interval,
                "end_time": self.end_time,
            },
        )

    @property
    def target(self) -> str:
        """How logs and messages name the awaited destination."""
        return describe_target(
            self.project_key, self.environment_key, self.destination_id, self.name, self.kind
        )

    async def run(self) -> AsyncIterator[TriggerEvent]:
        """Poll until the destination is configured, an error makes waiting pointless, or time is up."""
        hook = LaunchDarklyAsyncHook(self.launchdarkly_conn_id, sleep=self._sleep)
        try:
            payload = await self._wait(hook)
        except Exception as err:  # a bug or a missing connection: report it instead of crashing the trigger
            self.log.exception("Waiting for LaunchDarkly %s failed", self.target)
            payload = self._payload(
                "error", f"{type(err).__name__}: {err}", error_type=type(err).__name__, status_code=None
            )
        finally:
            await hook.aclose()
        yield TriggerEvent(payload)

    async def _wait(self, hook: LaunchDarklyAsyncHook) -> dict[str, Any]:
        started, checks = self._clock(), 0
        while True:
            checks += 1
            try:
                # A check (with the hook's retries) ends by the deadline; the last one, at the deadline,
                # gets FINAL_CHECK_SECONDS.
                async with asyncio.timeout(max(self.end_time - self._clock(), FINAL_CHECK_SECONDS)):
                    outcome = await self._check(hook, checks)
            except TimeoutError:
                elapsed = self._clock() - started
                message = (
                    f"{self.target} not configured by the deadline: check {checks} was still running "
                    f"after {elapsed:.0f} s"
                )
                return self._payload("timeout", message)
            if isinstance(outcome, dict):
                return outcome
            remaining = self.end_time - self._clock()
            if remaining <= 0:
                elapsed = self._clock() - started
                message = f"{self.target} not configured after {checks} checks in {elapsed:.0f} s: {outcome}"
                return self._payload("timeout", message)
            await self._sleep(min(self.poll_interval, remaining))

    async def _check(self, hook: LaunchDarklyAsyncHook, number: int) -> dict[str, Any] | str:
        """Check once; return the final event payload, or why the destination is not configured yet."""
        try:
            destination = await self._lookup(hook)
        except TRANSIENT_ERRORS as err:
            self.log.warning("LaunchDarkly %s: check %d failed, will retry: %s", self.target, number, err)
            return f"{type(err).__name__}: {err}"
        except LaunchDarklyError as err:
            return self._payload(
                "error", str(err), error_type=type(err).__name__, status_code=err.status_code
            )
        readiness = evaluate_readiness(destination, require_on=self.require_on)
        if not readiness.ready or destination is None:
            self.log.info(
                "LaunchDarkly %s not configured yet (check %d): %s", self.target, number, readiness.reason
            )
            return readiness.reason
        self.log.info("LaunchDarkly %s: %s", self.target, readiness.reason)
        payload = self._payload("success", readiness.reason, destination=destination.to_dict())
        payload["destination_id"] = destination.id
        return payload

    async def _lookup(self, hook: LaunchDarklyAsyncHook) -> Destination | None:
        if self.destination_id:
            try:
                return await hook.get_destination(self.project_key, self.environment_key, self.destination_id)
            except LaunchDarklyNotFoundError:
                return None
        name, kind = str(self.name), str(self.kind)  # both given: checked in __init__
        candidates = await hook.find_destinations(
            self.project_key, self.environment_key, name=name, kind=kind
        )
        return select_destination(candidates, name=name, kind=kind)

    def _payload(self, status: str, message: str, **extra: Any) -> dict[str, Any]:
        return {
            "status": status,
            "message": message,
            "project_key": self.project_key,
            "environment_key": self.environment_key,
            "destination_id": self.destination_id,
            "name": self.name,
            "kind": self.kind,
            **extra,
        }


__all__ = ["FINAL_CHECK_SECONDS", "TRANSIENT_ERRORS", "LaunchDarklyDestinationConfiguredTrigger"]
