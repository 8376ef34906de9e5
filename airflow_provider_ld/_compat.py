"""
Everything that differs between the Airflow 3 releases this provider supports (3.0.6 and later), in one place.

Each branch is named after the first release that no longer needs the fallback (``AIRFLOW_V_3_1_PLUS``
means "Airflow 3.1 or later"), so dropping a release means deleting the branches its flag guards.
Nothing else in the package looks at Airflow's version or tries alternative imports.
"""

from __future__ import annotations

from typing import Any

from airflow import __version__ as AIRFLOW_VERSION
from packaging.version import Version

_RELEASE = Version(Version(AIRFLOW_VERSION).base_version)

#: Airflow 3.1 or later: ``airflow.sdk.BaseHook`` with ``aget_connection``; the task SDK's shared masker.
AIRFLOW_V_3_1_PLUS = _RELEASE >= Version("3.1.0")
#: Airflow 3.2 or later: the task SDK's exceptions and configuration.
AIRFLOW_V_3_2_PLUS = _RELEASE >= Version("3.2.0")
#: Airflow 3.3 or later: ``amask_secret`` and connections with ``aextra_dejson``.
AIRFLOW_V_3_3_PLUS = _RELEASE >= Version("3.3.0")

if AIRFLOW_V_3_1_PLUS:
    from airflow.sdk import BaseHook
else:  # Airflow 3.0
    from airflow.hooks.base import BaseHook  # type: ignore[no-redef]

if AIRFLOW_V_3_2_PLUS:
    from airflow.sdk.configuration import conf
    from airflow.sdk.exceptions import AirflowException, AirflowFailException, AirflowSensorTimeout
else:  # Airflow 3.0 and 3.1
    from airflow.configuration import conf  # type: ignore[no-redef]
    from airflow.exceptions import (  # type: ignore[no-redef]
        AirflowException,
        AirflowFailException,
        AirflowSensorTimeout,
    )


def mask_secret(value: str) -> None:
    """
    Register ``value`` with Airflow's secrets masker so it is redacted from task logs.

    :param value: the secret; empty values are ignored.
    """
    if value:
        from airflow.sdk.log import mask_secret as sdk_mask_secret

        sdk_mask_secret(value)


async def amask_secret(value: str) -> None:
    """
    Register ``value`` with Airflow's secrets masker from async code (a trigger) without blocking the loop.

    :param value: the secret; empty values are ignored.
    """
    if not value:
        return
    if AIRFLOW_V_3_3_PLUS:
        from airflow.sdk.log import amask_secret as sdk_amask_secret

        await sdk_amask_secret(value)
    else:  # Airflow 3.0 to 3.2: the sync call may talk to the supervisor, which must not run on the loop.
        from asgiref.sync import sync_to_async

        await sync_to_async(mask_secret)(value)


async def aget_connection(conn_id: str) -> Any:
    """
    Read an Airflow connection from async code without blocking the event loop.

    :param conn_id: the connection id.
    :return: the connection.
    """
    if AIRFLOW_V_3_1_PLUS:
        return await BaseHook.aget_connection(conn_id)
    # Airflow 3.0 has no async connection API: read it in a worker thread.
    from asgiref.sync import sync_to_async

    return await sync_to_async(BaseHook.get_connection)(conn_id)


async def aextra_dejson(conn: Any) -> dict[str, Any]:
    """
    Return a connection's extras from async code without blocking the event loop.

    :param conn: a connection, as returned by :func:`aget_connection`.
    :return: the extras as a dict.
    """
    aextra = getattr(conn, "aextra_dejson", None)
    if AIRFLOW_V_3_3_PLUS and aextra is not None:
        return await aextra()
    # Before 3.3, reading extras may talk to the supervisor to mask them: do it off the loop.
    from asgiref.sync import sync_to_async

    return await sync_to_async(lambda: conn.extra_dejson)()


def connection_form_widgets(fields: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """
    Return WTForms fields for the connection form's extras, as Airflow 3.0 and 3.1 expect them.

    Those releases build the extra fields of the connection form from these widgets; later releases read
    ``conn-fields`` from the provider info instead and ignore them. Labels are plain strings, so this
    works without ``flask_babel`` (which Airflow 3 no longer installs).

    :param fields: the provider info's ``conn-fields``: name to ``{"label", "schema", "description"}``.
    :return: name to an unbound WTForms field, or ``{}`` when WTForms is not installed.
    """
    try:
        from wtforms import IntegerField, StringField
    except ImportError:
        return {}
    widgets: dict[str, Any] = {}
    for name, spec in fields.items():
        field_class = IntegerField if "integer" in spec["schema"]["type"] else StringField
        widgets[name] = field_class(
            spec["label"], description=spec.get("description", ""), default=spec["schema"].get("default")
        )
    return widgets


__all__ = [
    "AIRFLOW_VERSION",
    "AIRFLOW_V_3_1_PLUS",
    "AIRFLOW_V_3_2_PLUS",
    "AIRFLOW_V_3_3_PLUS",
    "AirflowException",
    "AirflowFailException",
    "AirflowSensorTimeout",
    "BaseHook",
    "aextra_dejson",
    "aget_connection",
    "amask_secret",
    "conf",
    "connection_form_widgets",
    "mask_secret",
]
