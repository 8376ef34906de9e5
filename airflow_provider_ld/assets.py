"""Airflow Assets that stand for LaunchDarkly destinations, so downstream DAGs can wait on "destination ready"."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

#: Keys that are certainly valid (the same characters and length ``validate_key`` accepts). DAG files call
#: :func:`destination_asset` at parse time, so a valid key is accepted without importing the models.
_PLAIN_KEY = re.compile(r"[A-Za-z0-9._-]{1,256}")


def _check_key(field: str, value: Any) -> None:
    if isinstance(value, str) and _PLAIN_KEY.fullmatch(value):
        return
    from airflow_provider_ld.models._base import validate_key

    validate_key(field, value)


def destination_asset(
    project_key: str, environment_key: str, name: str, *, host: str = "app.launchdarkly.com"
) -> Any:
    """
    Return the Asset for a named destination, for ``outlets=[...]`` and ``schedule=[...]``.

    :param project_key: the project key.
    :param environment_key: the environment key.
    :param name: the destination's name (the key this provider uses to find it again).
    :param host: the LaunchDarkly instance, so destinations on EU/federal accounts get distinct assets.
    :return: ``Asset("launchdarkly://<host>/destinations/<project>/<environment>/<name>")``.
    """
    from airflow.sdk import Asset

    _check_key("project_key", project_key)
    _check_key("environment_key", environment_key)
    uri = f"launchdarkly://{host}/destinations/{project_key}/{environment_key}/{quote(name, safe='')}"
    return Asset(uri=uri, name=f"launchdarkly-destination-{project_key}-{environment_key}-{name}")
