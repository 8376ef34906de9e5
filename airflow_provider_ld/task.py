"""
What every LaunchDarkly task shares: the connection, the hook, secret masking, the link, closing and colour.

The destination operators, the warehouse operators, the manifest operators and the sensor all mix
:class:`LaunchDarklyTaskMixin` into their Airflow base class. Parsing a DAG must stay cheap: this module
imports no models, hook or HTTP library at import time; they are imported when a task runs.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from functools import cached_property
from typing import TYPE_CHECKING, Any

from airflow_provider_ld._compat import mask_secret
from airflow_provider_ld.links import DESTINATION_URL_XCOM_KEY, destination_ui_url

if TYPE_CHECKING:
    from airflow_provider_ld.hooks.launchdarkly import LaunchDarklyHook

#: The colour of every LaunchDarkly task in the Airflow UI.
UI_COLOR = "#405BFF"


def parsed_if_json(value: Any) -> Any:
    """
    Return ``value`` parsed when it is a JSON string (a templated config renders to one), else unchanged.

    The masker must see the secrets inside every form the operators accept, including a JSON object string.

    :param value: a rendered field.
    """
    if not isinstance(value, (str, bytes)):
        return value
    try:
        return json.loads(value)
    except (ValueError, RecursionError):
        return value


class LaunchDarklyTaskMixin:
    """
    The parts every LaunchDarkly task shares; mix it in before the Airflow base class.

    Subclasses set ``launchdarkly_conn_id`` (templated) and, when they act in one environment,
    ``project_key`` and ``environment_key``. Fields named in ``secret_bearing_fields`` are searched for
    secrets after rendering, and every secret found is registered with Airflow's secrets masker.
    """

    template_fields: Sequence[str] = ("launchdarkly_conn_id",)
    #: Fields that may hold secrets after rendering; registered with the secrets masker at render time.
    secret_bearing_fields: Sequence[str] = ()
    ui_color = UI_COLOR

    launchdarkly_conn_id: str
    project_key: str
    environment_key: str
    log: Any  # Airflow's task logger, from the Airflow base class

    @cached_property
    def hook(self) -> LaunchDarklyHook:
        """The hook, built on first use (never at DAG parse time)."""
        from airflow_provider_ld.hooks.launchdarkly import LaunchDarklyHook

        return LaunchDarklyHook(self.launchdarkly_conn_id)

    def render_template_fields(self, context: Any, jinja_env: Any = None) -> None:
        """Render as usual, then register every secret in the rendered fields with the secrets masker."""
        super().render_template_fields(context, jinja_env)  # type: ignore[misc]
        for value in self.rendered_secrets():
            mask_secret(value)

    def rendered_secrets(self) -> Iterator[str]:
        """Yield the secret values of the rendered ``secret_bearing_fields`` (JSON strings are parsed)."""
        from airflow_provider_ld.models.secrets import secret_values

        for field in self.secret_bearing_fields:
            yield from secret_values(parsed_if_json(getattr(self, field, None)))

    def push_destination_url(self, context: Any) -> str:
        """Compute the UI link for this task's environment and push it to XCom for the extra link."""
        url = destination_ui_url(self.hook.settings.base_url, self.project_key, self.environment_key)
        ti = context.get("ti") if hasattr(context, "get") else None
        if ti is not None:
            ti.xcom_push(key=DESTINATION_URL_XCOM_KEY, value=url)
        return url

    @contextmanager
    def linked(self, context: Any) -> Iterator[str]:
        """
        Push the link before any request that may fail or wait, and close the hook when the block ends.

        :param context: the task context (for the XCom push).
        :return: a context manager giving the UI link.
        """
        with self.closing():
            yield self.push_destination_url(context)

    @contextmanager
    def closing(self) -> Iterator[None]:
        """Close the hook's pooled connections when the block ends, however it ends."""
        try:
            yield
        finally:
            self.close_hook()

    def close_hook(self) -> None:
        """Close the hook's pooled connections, if a hook was built."""
        if "hook" in self.__dict__:
            self.hook.close()

    def on_kill(self) -> None:
        """
        Stop the API request in flight and close the hook's connections when the task is killed.

        Every operator is idempotent, so the next run converges from wherever the kill left things: a
        change the API already applied is found and adopted, one it did not apply is made again.
        """
        if "hook" in self.__dict__:
            self.log.info("Task killed: stopping the LaunchDarkly request in flight")
            self.hook.abort()


__all__ = ["UI_COLOR", "LaunchDarklyTaskMixin", "parsed_if_json"]
