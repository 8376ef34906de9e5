"""A trigger that waits, in the triggerer, until a Data Export destination is configured."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

from airflow.triggers.base import BaseTrigger, TriggerEvent

from airflow_provider_ld.destination_ref import DestinationRef, check_identity
from airflow_provider_ld.exceptions import (
    TRANSIENT_ERRORS,
    LaunchDarklyError,
    LaunchDarklyValidationError,
)
from airflow_provider_ld.hooks.launchdarkly_async import LaunchDarklyAsyncHook
from airflow_provider_ld.readiness import evaluate_readiness
from airflow_provider_ld.triggers.shared_polls import Found, Subscription, poller_for

#: Seconds the check made at the deadline may take; no check runs longer past ``end_time``.
FINAL_CHECK_SECONDS = 10.0


class LaunchDarklyDestinationConfiguredTrigger(BaseTrigger):
    """
    Poll LaunchDarkly until a destination is configured, then fire one event.

    The triggers of one event loop that use the same connection share their polls: one
    ``GET /api/v2/destinations`` per round answers all of them (see
    :mod:`~airflow_provider_ld.triggers.shared_polls` and ``docs/shared-polls.md``).

    The destination is looked up by ``destination_id`` (a 404 means "not there yet"), or else by ``name``
    and ``kind`` (several matches are an error). What counts as configured is decided by
    :func:`~airflow_provider_ld.readiness.evaluate_readiness`.

    The single event is ``{"status": "success" | "error" | "timeout", "message": ..., <ids>}`` where the
    ids are ``project_key``, ``environment_key``, ``destination_id``, ``name`` and ``kind``. A success also
    carries ``destination`` (its ``to_dict()``, secrets redacted); an error carries ``error_type`` (the
    exception's class name), ``status_code`` and ``error`` (its code, request id, method and path, from
    :meth:`~airflow_provider_ld.exceptions.LaunchDarklyError.to_event_payload`), so the sensor raises the
    same error. Errors whose class is ``transient`` (rate limiting, server and connection errors) are
    logged and polled through until ``end_time``. The trigger sleeps ``poll_interval`` between checks, never past
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
        super().__init__()  # type: ignore[no-untyped-call]  # Airflow's BaseTrigger is untyped
        check_identity(destination_id, name, kind, awaiting=True)
        if (
            isinstance(poll_interval, bool)
            or not isinstance(poll_interval, (int, float))
            or not poll_interval > 0
        ):
            raise LaunchDarklyValidationError(
                f"poll_interval: must be a number of seconds > 0, got {poll_interval!r}",
                field="poll_interval",
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
    def ref(self) -> DestinationRef:
        """The awaited destination."""
        return DestinationRef(
            self.project_key,
            self.environment_key,
            destination_id=self.destination_id,
            name=self.name,
            kind=self.kind,
        )

    @property
    def target(self) -> str:
        """How logs and messages name the awaited destination."""
        return str(self.ref)

    async def run(self) -> AsyncIterator[TriggerEvent]:
        """Wait on the loop's shared poller until the destination is configured, an error ends it, or time is up."""
        poller = poller_for(
            self.launchdarkly_conn_id,
            clock=self._clock,
            sleep=self._sleep,
            hook=lambda: LaunchDarklyAsyncHook(self.launchdarkly_conn_id, sleep=self._sleep),
        )
        subscription = Subscription(
            project_key=self.project_key,
            environment_key=self.environment_key,
            destination_id=self.destination_id,
            name=self.name,
            kind=self.kind,
            poll_interval=self.poll_interval,
            end_time=self.end_time,
            decide=self._decide,
            fail=self._fail,
            time_out=self._timed_out,
        )
        self._started = self._clock()
        poller.subscribe(subscription)
        try:
            payload = await self._wait(subscription)
        finally:
            await poller.unsubscribe(subscription)
        yield TriggerEvent(payload)  # type: ignore[no-untyped-call]

    async def _wait(self, subscription: Subscription) -> dict[str, Any]:
        """
        Wait for the poller's verdict; a check still running past the deadline ends the wait.

        The check made at the deadline may take :data:`FINAL_CHECK_SECONDS`.
        """
        try:
            async with asyncio.timeout(max(self.end_time - self._clock(), 0) + FINAL_CHECK_SECONDS):
                return await asyncio.shield(subscription.result)
        except TimeoutError:
            elapsed = self._clock() - self._started
            message = (
                f"{self.target} not configured by the deadline: check {subscription.checks + 1} was still "
                f"running after {elapsed:.0f} s"
            )
            return self._payload("timeout", message)

    def _decide(self, found: Found, number: int) -> dict[str, Any] | str:
        """
        Decide from what a check found; return the final event payload, or why it is not configured yet.

        :param found: the destination (or ``None``) when waiting by id; the candidates by name and kind otherwise.
        :param number: which check of this trigger this is.
        :raises LaunchDarklyValidationError: when several destinations have the name and kind.
        """
        if isinstance(found, list):
            destination = self.ref.select(found)
        else:
            destination = found
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

    def _fail(self, err: BaseException, number: int) -> dict[str, Any] | str:
        """Return the error event for an error in check ``number``, or (if transient) the reason to keep waiting."""
        if isinstance(err, LaunchDarklyError) and err.transient:
            self.log.warning("LaunchDarkly %s: check %d failed, will retry: %s", self.target, number, err)
            return f"{type(err).__name__}: {err}"
        if isinstance(err, LaunchDarklyError):
            return self._payload("error", str(err), **err.to_event_payload())
        # a bug or a missing connection: report it instead of crashing the trigger
        self.log.error("Waiting for LaunchDarkly %s failed: %s: %s", self.target, type(err).__name__, err)
        return self._payload(
            "error", f"{type(err).__name__}: {err}", error_type=type(err).__name__, status_code=None
        )

    def _timed_out(self, checks: int, reason: str) -> dict[str, Any]:
        elapsed = self._clock() - self._started
        message = f"{self.target} not configured after {checks} checks in {elapsed:.0f} s: {reason}"
        return self._payload("timeout", message)

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
