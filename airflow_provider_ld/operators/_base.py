"""
What every destination operator shares: connection, hook, secret masking, summaries and the link.

Parsing a DAG must stay cheap: this module imports no models, hook or HTTP library at import time;
they are imported inside the methods that run when a task executes.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from functools import cached_property
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseOperator

from airflow_provider_ld._compat import mask_secret
from airflow_provider_ld.exceptions import LaunchDarklyValidationError
from airflow_provider_ld.links import (
    DESTINATION_URL_XCOM_KEY,
    LaunchDarklyDestinationLink,
    destination_ui_url,
)

if TYPE_CHECKING:
    from airflow_provider_ld.hooks.launchdarkly import LaunchDarklyHook
    from airflow_provider_ld.models import Destination

#: Fields that may hold secrets after rendering; registered with the secrets masker at render time.
SECRET_BEARING_FIELDS = ("config", "setup")


def _parsed_if_json(value: Any) -> Any:
    """
    Return ``value`` parsed when it is a JSON string (a templated config renders to one), else unchanged.

    The masker must see the secrets inside every form the operators accept, including a JSON object string.
    """
    if not isinstance(value, (str, bytes)):
        return value
    try:
        return json.loads(value)
    except (ValueError, RecursionError):
        return value


class LaunchDarklyBaseOperator(BaseOperator):
    """
    Base of the LaunchDarkly operators.

    :param project_key: the LaunchDarkly project key (templated).
    :param environment_key: the environment key (templated).
    :param launchdarkly_conn_id: the ``launchdarkly`` connection to use (templated).
    """

    template_fields: Sequence[str] = ("project_key", "environment_key", "launchdarkly_conn_id")
    operator_extra_links = (LaunchDarklyDestinationLink(),)
    ui_color = "#405BFF"

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

    @cached_property
    def hook(self) -> LaunchDarklyHook:
        """The hook, built on first use (never at DAG parse time)."""
        from airflow_provider_ld.hooks.launchdarkly import LaunchDarklyHook

        return LaunchDarklyHook(self.launchdarkly_conn_id)

    def render_template_fields(self, context: Any, jinja_env: Any = None) -> None:
        """Render as usual, then register every secret in the rendered config with the secrets masker."""
        from airflow_provider_ld.models.secrets import secret_values

        super().render_template_fields(context, jinja_env)
        for field in SECRET_BEARING_FIELDS:
            for value in secret_values(_parsed_if_json(getattr(self, field, None))):
                mask_secret(value)

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
        from airflow_provider_ld.models._base import validate_bool

        return validate_bool(field, value)

    def push_destination_url(self, context: Any) -> str:
        """Compute the UI link for this environment and push it to XCom for the extra link."""
        url = destination_ui_url(self.hook.settings.base_url, self.project_key, self.environment_key)
        ti = context.get("ti") if hasattr(context, "get") else None
        if ti is not None:
            ti.xcom_push(key=DESTINATION_URL_XCOM_KEY, value=url)
        return url

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

    def on_kill(self) -> None:
        """
        Stop the API request in flight and close the hook's connections when the task is killed.

        Every operator is idempotent, so the next run converges from wherever the kill left things: a
        change the API already applied is found and adopted, one it did not apply is made again.
        """
        if "hook" in self.__dict__:
            self.log.info("Task killed: stopping the LaunchDarkly request in flight")
            self.hook.abort()

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

    def close_hook(self) -> None:
        """Close the hook's pooled connections, if a hook was built."""
        if "hook" in self.__dict__:
            self.hook.close()
