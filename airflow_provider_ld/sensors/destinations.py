"""
A sensor that waits until a Data Export destination is configured (poke, reschedule or deferrable).

Importing this module (parsing a DAG) loads no models, hook, trigger or HTTP library: they are
imported when the sensor runs.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import timedelta
from importlib import import_module
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseSensorOperator, PokeReturnValue

from airflow_provider_ld._compat import AirflowSensorTimeout, conf
from airflow_provider_ld.destination_ref import DestinationRef, check_identity
from airflow_provider_ld.exceptions import (
    LaunchDarklyError,
    LaunchDarklyValidationError,
)
from airflow_provider_ld.links import LaunchDarklyDestinationLink
from airflow_provider_ld.task import LaunchDarklyTaskMixin

if TYPE_CHECKING:
    from airflow.sdk import Context

    from airflow_provider_ld.models import Destination
    from airflow_provider_ld.triggers.destinations import LaunchDarklyDestinationConfiguredTrigger

#: Names this module used to import eagerly, still importable from it; loaded on first access.
_LAZY_NAMES = {
    "LaunchDarklyHook": "airflow_provider_ld.hooks.launchdarkly",
    "Destination": "airflow_provider_ld.models",
    "validate_key": "airflow_provider_ld.models._base",
    "destination_summary": "airflow_provider_ld.readiness",
    "evaluate_readiness": "airflow_provider_ld.readiness",
    "TRANSIENT_ERRORS": "airflow_provider_ld.exceptions",
    "LaunchDarklyDestinationConfiguredTrigger": "airflow_provider_ld.triggers.destinations",
}


def __getattr__(name: str) -> Any:
    """Import the hook, models, readiness rules and trigger on first access (PEP 562), not at parse time."""
    module = _LAZY_NAMES.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(module), name)


class LaunchDarklyDestinationConfiguredSensor(LaunchDarklyTaskMixin, BaseSensorOperator):
    """
    Wait until a LaunchDarkly Data Export destination is configured, and return its summary.

    The destination is found by ``destination_id``, or else by ``name`` and ``kind`` (several matches are an
    error). It counts as configured when it exists, its config holds every field its kind requires, a guided
    Redshift setup has completed, and (with ``require_on``) export is on; see
    :func:`~airflow_provider_ld.readiness.evaluate_readiness`.

    A destination that does not exist yet, and rate limiting, server or connection errors, mean "not yet";
    a refused token or invalid input fail the task at once. The return value (XCom) is
    ``{"destination_id", "project_key", "environment_key", "kind", "name", "on", "version", "destination"}``
    with secrets redacted.

    :param project_key: the project key.
    :param environment_key: the environment key.
    :param destination_id: the destination's ``_id``; takes precedence over ``name`` and ``kind``.
    :param name: the destination's exact name (with ``kind``).
    :param kind: the destination's kind, e.g. ``snowflake-v2`` (with ``name``).
    :param allow_unknown_kind: accept a ``kind`` this release does not know.
    :param require_on: also wait for export to be switched on.
    :param launchdarkly_conn_id: the Airflow connection to use.
    :param deferrable: wait in the triggerer instead of a worker slot.
    :param poll_interval: seconds between checks in deferrable mode; defaults to ``poke_interval``.
    """

    template_fields: Sequence[str] = (
        "project_key",
        "environment_key",
        "destination_id",
        "name",
        "kind",
        "launchdarkly_conn_id",
    )
    operator_extra_links = (LaunchDarklyDestinationLink(),)

    def __init__(
        self,
        *,
        project_key: str,
        environment_key: str,
        destination_id: str | None = None,
        name: str | None = None,
        kind: str | None = None,
        allow_unknown_kind: bool = False,
        require_on: bool = True,
        launchdarkly_conn_id: str = "launchdarkly_default",
        deferrable: bool = conf.getboolean("operators", "default_deferrable", fallback=False),
        poll_interval: float | timedelta | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        check_identity(destination_id, name, kind, awaiting=True)
        self.project_key = project_key
        self.environment_key = environment_key
        self.destination_id = destination_id
        self.name = name
        self.kind = kind
        self.allow_unknown_kind = allow_unknown_kind
        self.require_on = require_on
        self.launchdarkly_conn_id = launchdarkly_conn_id
        self.deferrable = deferrable
        if isinstance(poll_interval, timedelta):
            poll_interval = poll_interval.total_seconds()
        self.poll_interval = float(poll_interval if poll_interval is not None else self.poke_interval)
        if deferrable and self.poll_interval <= 0:
            raise LaunchDarklyValidationError(
                f"poll_interval: must be > 0 seconds when deferrable, got {self.poll_interval!r}",
                field="poll_interval",
            )

    @property
    def ref(self) -> DestinationRef:
        """The awaited destination, from the rendered fields (a name needs its kind)."""
        return DestinationRef(
            self.project_key,
            self.environment_key,
            destination_id=self.destination_id,
            name=self.name,
            kind=self.kind,
            allow_unknown_kind=self.allow_unknown_kind,
        )

    @property
    def target(self) -> str:
        """How logs and messages name the awaited destination."""
        return str(self.ref)

    def execute(self, context: Context) -> Any:
        """Wait by poking (poke or reschedule mode), or check once and defer to the trigger."""
        self.ref.check(awaiting=True)
        with self.linked(context):
            if not self.deferrable:
                return super().execute(context)
            first = self.poke(context)
            if first:
                return first.xcom_value
        self.log.info(
            "Deferring until LaunchDarkly %s is configured (timeout %.0f s, checking every %.0f s)",
            self.target,
            self.timeout,
            self.poll_interval,
        )
        self.defer(
            trigger=self._trigger(),
            method_name="execute_complete",
            timeout=timedelta(seconds=self.timeout),
        )

    def poke(self, context: Context) -> PokeReturnValue:
        """
        Check the destination once.

        :return: done with the summary as XCom value when configured; not done otherwise.
        :raises LaunchDarklyAuthError: when the token is refused (not worth waiting).
        :raises LaunchDarklyValidationError: on invalid arguments, or several destinations with name and kind.
        """
        from airflow_provider_ld.readiness import evaluate_readiness

        self.ref.check(awaiting=True)
        try:
            destination = self.hook.find_destination(self.ref)
        except LaunchDarklyError as err:
            if not err.transient or ("hook" in self.__dict__ and self.hook.aborted):
                raise  # the task was killed: stop waiting instead of poking again
            self.log.warning("LaunchDarkly %s: check failed, will retry: %s", self.target, err)
            return PokeReturnValue(is_done=False)
        readiness = evaluate_readiness(destination, require_on=self.require_on)
        self.log.info("LaunchDarkly %s: %s", self.target, readiness.reason)
        if not readiness.ready or destination is None:
            return PokeReturnValue(is_done=False)
        return PokeReturnValue(is_done=True, xcom_value=self._summary(destination))

    def execute_complete(self, context: Context, event: dict[str, Any]) -> dict[str, Any]:
        """
        Finish after the trigger fired: return the summary, or raise what the event reports.

        :param event: the trigger's event payload.
        :raises AirflowSensorTimeout: when the destination was not configured before the deadline.
        :raises LaunchDarklyError: the subclass the event names, with its message.
        """
        status = event.get("status")
        message = str(event.get("message") or f"LaunchDarkly {self.target}: trigger reported {status!r}")
        if status == "success":
            from airflow_provider_ld.models import Destination

            self.log.info("LaunchDarkly %s: %s", self.target, message)
            return self._summary(Destination.model_validate(event["destination"]))
        if status == "timeout":
            raise AirflowSensorTimeout(message)
        raise LaunchDarklyError.from_event_payload({**event, "message": message})

    def _summary(self, destination: Destination) -> dict[str, Any]:
        from airflow_provider_ld.readiness import destination_summary

        return destination_summary(
            destination, project_key=self.project_key, environment_key=self.environment_key
        )

    def _trigger(self) -> LaunchDarklyDestinationConfiguredTrigger:
        from airflow_provider_ld.triggers.destinations import LaunchDarklyDestinationConfiguredTrigger

        return LaunchDarklyDestinationConfiguredTrigger(
            project_key=self.project_key,
            environment_key=self.environment_key,
            destination_id=self.destination_id,
            name=self.name,
            kind=self.kind,
            require_on=self.require_on,
            launchdarkly_conn_id=self.launchdarkly_conn_id,
            poll_interval=self.poll_interval,
            end_time=time.time() + self.timeout,
        )


__all__ = ["LaunchDarklyDestinationConfiguredSensor"]
