"""Airflow Assets that stand for LaunchDarkly destinations, so downstream DAGs can wait on "destination ready"."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from airflow_provider_ld.models._base import validate_key


def destination_asset(project_key: str, environment_key: str, name: str, *, host: str = "app.launchdarkly.com") -> Any:
    """
    Return the Asset for a named destination, for ``outlets=[...]`` and ``schedule=[...]``.

    :param project_key: the project key.
    :param environment_key: the environment key.
    :param name: the destination's name (the key this provider uses to find it again).
    :param host: the LaunchDarkly instance, so destinations on EU/federal accounts get distinct assets.
    :return: ``Asset("launchdarkly://<host>/destinations/<project>/<environment>/<name>")``.
    """
    from airflow.sdk import Asset

    validate_key("project_key", project_key)
    validate_key("environment_key", environment_key)
    uri = f"launchdarkly://{host}/destinations/{project_key}/{environment_key}/{quote(name, safe='')}"
    return Asset(uri=uri, name=f"launchdarkly-destination-{project_key}-{environment_key}-{name}")
