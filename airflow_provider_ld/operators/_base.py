"""
What every destination operator shares beyond :mod:`airflow_provider_ld.task`: rendered values, summaries, logs.

Parsing a DAG must stay cheap: this module imports no models, hook or HTTP library at import time;
they are imported inside the methods that run when a task executes.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseOperator

from airflow_provider_ld.checks import validate_bool
from airflow_provider_ld.exceptions import LaunchDarklyValidationError
from airflow_provider_ld.links import LaunchDarklyDestinationLink
from airflow_provider_ld.task import LaunchDarklyTaskMixin

if TYPE_CHECKING:
    from airflow_provider_ld.models import Destination


class LaunchDarklyBaseOperator(LaunchDarklyTaskMixin, BaseOperator):
    """
    Base of the destination and warehouse operators: a task in one environment, with the destination link.

    :param project_key: the LaunchDarkly project key (templated).
    :param environment_key: the environment key (templated).
    :param launchdarkly_conn_id: the ``launchdarkly`` connection to use (templated).
    """

    template_fields: Sequence[str] = ("project_key", "environment_key", "launchdarkly_conn_id")
    secret_bearing_fields: Sequence[str] = ("config", "setup")
    operator_extra_links = (LaunchDarklyDestinationLink(),)

    def __init__(
        self,
        *,
        project_key: str,
        environment_key: str,
        launchdarkly_conn_id: str = "launchdarkly_default",
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.project_key = project_key
        self.environment_key = environment_key
        self.launchdarkly_conn_id = launchdarkly_conn_id

    @staticmethod
    def rendered_mapping(field: str, value: Any) -> Any:
        """Accept a dict, or a JSON object string (what a Jinja template renders to without native rendering)."""
        if isinstance(value, str):
            try:
                value = json.loads(value)
            except ValueError:
                raise LaunchDarklyValidationError(
                    f"{field}: must be an object (dict) or a JSON object string", field=field
                ) from None
        return value

    @staticmethod
    def rendered_bool(field: str, value: Any) -> Any:
        """Accept a bool, or ``"true"``/``"false"`` (what a Jinja template renders to); else fail naming the field."""
        if isinstance(value, str) and value.strip().lower() in ("true", "false"):
            return value.strip().lower() == "true"
        return validate_bool(field, value)

    def summarize(self, action: str, destination: Destination, url: str) -> dict[str, Any]:
        """
        Return the JSON-serialisable XCom result: what was done and the destination, secrets redacted.

        :param action: ``created``, ``adopted``, ``updated``, ``unchanged``, ``deleted``, ``absent``, ...
        :param destination: the destination as the API last returned it.
        :param url: the UI link.
        """
        self._lineage_source = (action, destination, url)
        return {
            "action": action,
            "destination_id": destination.id,
            "project_key": self.project_key,
            "environment_key": self.environment_key,
            "kind": destination.kind,
            "name": destination.name,
            "on": destination.on,
            "version": destination.version,
            "url": url,
            "destination": destination.to_dict(),
        }

    def log_action(self, action: str, destination: Destination, url: str) -> None:
        """Log what was done, with the destination id and the link."""
        self.log.info(
            "%s %s destination %s (%r) in %s/%s, on=%s: %s",
            action.capitalize(),
            destination.kind,
            destination.id,
            destination.name,
            self.project_key,
            self.environment_key,
            destination.on,
            url,
        )

    def get_openlineage_facets_on_complete(self, task_instance: Any) -> Any:
        """
        Report the LaunchDarkly event stream as input and the destination's sink as output (OpenLineage).

        Called by ``apache-airflow-providers-openlineage`` after the task succeeded; the lineage module
        (and OpenLineage) is imported only here. A task that deleted or found no destination reports none.

        :param task_instance: the finished task instance (unused: the task keeps what it did).
        :return: an ``OperatorLineage``.
        """
        from airflow.providers.openlineage.extractors import OperatorLineage

        source = getattr(self, "_lineage_source", None)
        if source is None or source[0] == "deleted":
            return OperatorLineage()
        from airflow_provider_ld.lineage import operator_lineage

        action, destination, url = source
        return operator_lineage(url, self.project_key, self.environment_key, destination, action)
