"""
Operators for the guided warehouse setup: start it (get the script to run) and complete it.

Both are safe to retry: an existing destination of the kind is returned or adopted instead of starting
or completing a second setup. Importing this module loads no models, hook or HTTP library.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from airflow_provider_ld.checks import (
    WAREHOUSE_COMPLETE_KINDS,
    WAREHOUSE_SETUP_KINDS,
    validate_key,
    validate_kind,
)
from airflow_provider_ld.exceptions import LaunchDarklyNotFoundError, LaunchDarklyValidationError
from airflow_provider_ld.operators._base import LaunchDarklyBaseOperator

if TYPE_CHECKING:
    from airflow_provider_ld.models import Destination

#: Clock and pause of the connection-test wait (module attributes, so tests can drive a fake clock).
_monotonic = time.monotonic
_sleep = time.sleep


class LaunchDarklyWarehouseSetupOperator(LaunchDarklyBaseOperator):
    """
    Start a guided warehouse setup: get the SQL script (and key pair or IAM policies) to apply.

    The script goes to the task log and to XCom; only public keys are returned by LaunchDarkly, and
    secrets sent in ``setup`` (e.g. ``clickHousePassword``) are masked. When a destination of this kind
    (and ``setup["name"]``, if given) already exists, nothing is started and the existing destination is
    returned (``action="exists"``), so re-running the DAG never creates a second destination. LaunchDarkly
    also refuses to start a setup when the environment already has a destination of the kind (whatever its
    name); that refusal is answered the same way.

    :param kind: ``snowflake-v2``, ``redshift`` or ``clickhouse`` (templated).
    :param setup: optional names and settings, see ``WarehouseSetupRequest`` (templated).
    :param include_trust_policy: also fetch the AWS trust policy for Data Export (e.g. for Redshift).
    """

    template_fields: Sequence[str] = (*LaunchDarklyBaseOperator.template_fields, "kind", "setup")
    template_fields_renderers = {"setup": "json"}

    def __init__(
        self,
        *,
        kind: str,
        setup: Mapping[str, Any] | None = None,
        include_trust_policy: bool = False,
        allow_unknown_kind: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.kind = kind
        self.setup = setup
        self.include_trust_policy = include_trust_policy
        self.allow_unknown_kind = allow_unknown_kind

    def execute(self, context: Any) -> dict[str, Any]:
        from airflow_provider_ld.models import WarehouseSetupRequest

        validate_key("project_key", self.project_key)
        validate_key("environment_key", self.environment_key)
        validate_kind(self.kind, allowed=WAREHOUSE_SETUP_KINDS, allow_unknown=self.allow_unknown_kind)
        request = WarehouseSetupRequest.parse(self.rendered_mapping("setup", self.setup))
        with self.linked(context) as url:
            existing, script, policy = self._start(request)
        if existing is not None:
            self.log_action("found existing", existing, url)
            return {**self.summarize("exists", existing, url), "setup": None}
        result = {
            "action": "setup started",
            "kind": self.kind,
            "project_key": self.project_key,
            "environment_key": self.environment_key,
            "url": url,
            "setup": script.to_dict(),
        }
        if policy is not None:
            result["trust_policy"] = policy.to_dict()
        self._log_handover(script)
        return result

    def _start(self, request: Any) -> tuple[Destination | None, Any, Any]:
        """
        Start the setup, unless a destination of the kind (and name) exists.

        :return: the existing destination, or ``None`` with the setup script and (if asked) the trust policy.
        """
        existing = self.hook.find_destinations(
            self.project_key, self.environment_key, name=request.name, kind=self.kind
        )
        if existing:
            return existing[0], None, None
        try:
            script = self.hook.generate_warehouse_setup_script(
                self.project_key,
                self.environment_key,
                self.kind,
                request,
                allow_unknown_kind=self.allow_unknown_kind,
            )
        except LaunchDarklyValidationError:
            of_kind = self.hook.find_destinations(self.project_key, self.environment_key, kind=self.kind)
            if not of_kind:
                raise
            self.log.info("LaunchDarkly refused the setup: a %s destination already exists", self.kind)
            return of_kind[0], None, None
        policy = None
        if self.include_trust_policy:
            policy = self.hook.generate_trust_policy(self.project_key, self.environment_key)
        return None, script, policy

    def _log_handover(self, script: Any) -> None:
        self.log.info(
            "Started %s setup for %s/%s. Run this script in the warehouse, then complete the setup:\n%s",
            self.kind,
            self.project_key,
            self.environment_key,
            script.script,
        )
        if script.redshift_iam_permissions_policy:
            self.log.info(
                "IAM permissions policy for the Redshift role:\n%s", script.redshift_iam_permissions_policy
            )
        if script.redshift_iam_trust_policy:
            self.log.info("IAM trust policy for the Redshift role:\n%s", script.redshift_iam_trust_policy)


class LaunchDarklyCompleteWarehouseSetupOperator(LaunchDarklyBaseOperator):
    """
    Finish a pending warehouse setup once its script ran in the warehouse.

    If the setup was already completed (e.g. this task is retried after a lost answer) the completed
    destination of this kind (and ``name``) is adopted instead of failing.

    Completing tests the warehouse connection, which fails for a while after the script ran (Snowflake
    takes time to propagate a new key; LaunchDarkly's own setup tool retries for that reason). A refused
    connection test (400) is therefore retried every ``connection_test_interval`` seconds for up to
    ``connection_test_timeout`` seconds before the task fails with the API's last answer.

    :param kind: the warehouse kind the setup was started for (templated).
    :param public_key: the ``publicKey`` the setup returned; required for ``snowflake-v2`` (templated,
        e.g. ``"{{ ti.xcom_pull('setup')['setup']['publicKey'] }}"``).
    :param name: the destination name given at setup, to find it when adopting (templated).
    :param connection_test_timeout: seconds to keep retrying a refused connection test (``0``: never retry).
    :param connection_test_interval: seconds between two attempts.
    """

    template_fields: Sequence[str] = (*LaunchDarklyBaseOperator.template_fields, "kind", "public_key", "name")

    def __init__(
        self,
        *,
        kind: str,
        public_key: str | None = None,
        name: str | None = None,
        allow_unknown_kind: bool = False,
        connection_test_timeout: float = 60.0,
        connection_test_interval: float = 15.0,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.kind = kind
        self.public_key = public_key
        self.name = name
        self.allow_unknown_kind = allow_unknown_kind
        self.connection_test_timeout = connection_test_timeout
        self.connection_test_interval = connection_test_interval

    def execute(self, context: Any) -> dict[str, Any]:
        validate_key("project_key", self.project_key)
        validate_key("environment_key", self.environment_key)
        validate_kind(self.kind, allowed=WAREHOUSE_COMPLETE_KINDS, allow_unknown=self.allow_unknown_kind)
        _check_seconds("connection_test_timeout", self.connection_test_timeout, allow_zero=True)
        _check_seconds("connection_test_interval", self.connection_test_interval, allow_zero=False)
        with self.linked(context) as url:
            action, destination = self._complete_or_adopt()
        self.log_action(action, destination, url)
        return self.summarize(action, destination, url)

    def _complete_or_adopt(self) -> tuple[str, Destination]:
        if self.kind == "snowflake-v2" and not self.public_key:
            # The setup step found an existing destination and started nothing: adopt it.
            existing = self._existing()
            if len(existing) == 1:
                return "adopted", existing[0]
            raise LaunchDarklyValidationError(
                "public_key: required for kind 'snowflake-v2' (the publicKey the setup returned)",
                field="public_key",
            )
        try:
            return "completed", self._complete_when_reachable()
        except LaunchDarklyNotFoundError as err:
            existing = self._existing()
            if len(existing) == 1:
                self.log.info("No pending %s setup; adopting the completed destination", self.kind)
                return "adopted", existing[0]
            raise LaunchDarklyNotFoundError(
                f"no pending {self.kind} setup in {self.project_key}/{self.environment_key} and "
                f"{len(existing)} completed ones match; run the setup operator first",
                method=err.method,
                path=err.path,
                status_code=err.status_code,
                code=err.code,
                request_id=err.request_id,
            ) from err

    def _complete_when_reachable(self) -> Destination:
        """Call complete-setup, retrying a refused connection test until ``connection_test_timeout``."""
        deadline = _monotonic() + self.connection_test_timeout
        attempt = 1
        while True:
            try:
                return self.hook.complete_warehouse_setup(
                    self.project_key,
                    self.environment_key,
                    self.kind,
                    self.public_key or None,
                    allow_unknown_kind=self.allow_unknown_kind,
                )
            except LaunchDarklyValidationError as err:
                if _monotonic() + self.connection_test_interval > deadline:
                    raise
                self.log.warning(
                    "Completing the %s setup failed its warehouse connection test (attempt %d: %s); "
                    "retrying in %.0f s, as a new key can take a while to propagate",
                    self.kind,
                    attempt,
                    err,
                    self.connection_test_interval,
                )
            _sleep(self.connection_test_interval)
            attempt += 1

    def _existing(self) -> list[Destination]:
        return self.hook.find_destinations(
            self.project_key, self.environment_key, name=self.name, kind=self.kind
        )


def _check_seconds(field: str, value: Any, *, allow_zero: bool) -> None:
    """
    Check a duration argument before any request.

    :raises LaunchDarklyValidationError: naming the field, unless ``value`` is a number of seconds
        (above zero, or at least zero with ``allow_zero``).
    """
    is_number = isinstance(value, (int, float)) and not isinstance(value, bool) and not math.isnan(value)
    if not is_number or value < 0 or (value == 0 and not allow_zero):
        bound = "at least 0" if allow_zero else "greater than 0"
        raise LaunchDarklyValidationError(f"{field}: must be a number of seconds {bound}", field=field)


__all__ = ["LaunchDarklyCompleteWarehouseSetupOperator", "LaunchDarklyWarehouseSetupOperator"]
