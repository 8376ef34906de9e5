"""The "LaunchDarkly destination" extra link shown on every task of this provider."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseOperatorLink

if TYPE_CHECKING:
    from airflow.sdk import BaseOperator

#: XCom key under which tasks store the destination's UI link, before any waiting.
DESTINATION_URL_XCOM_KEY = "launchdarkly_destination_url"


def destination_ui_url(base_url: str, project_key: str, environment_key: str) -> str:
    """
    Return the LaunchDarkly UI page where an environment's Data Export destinations are managed.

    The API documents no per-destination UI address, so the link opens the Integrations page of the
    instance the connection points at (commercial, EU or federal), where Data Export destinations live.

    :param base_url: the connection's base URL, e.g. ``https://app.eu.launchdarkly.com``.
    :param project_key: the project key (kept in the query so the link names the destination's scope).
    :param environment_key: the environment key.
    """
    return f"{base_url}/settings/integrations?project={project_key}&environment={environment_key}"


def _xcom_class() -> Any:
    from airflow.sdk.execution_time.xcom import XCom

    return XCom


class LaunchDarklyDestinationLink(BaseOperatorLink):
    """Link from a task to its destination in the LaunchDarkly UI (read from the task's XCom)."""

    name = "LaunchDarkly destination"

    def get_link(self, operator: BaseOperator, *, ti_key: Any) -> str:
        """Return the URL the task pushed, or an empty string when it did not get that far."""
        return _xcom_class().get_value(ti_key=ti_key, key=DESTINATION_URL_XCOM_KEY) or ""
