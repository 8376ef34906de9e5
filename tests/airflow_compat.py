"""
The tests' one place for what differs between supported Airflow releases.

Flags come from :mod:`airflow_provider_ld._compat`, so dropping a release means deleting the branches
its flag guards here and there. Test modules import Airflow names that moved from here.
"""

from __future__ import annotations

from typing import Any

import pytest
from packaging.version import Version

from airflow_provider_ld._compat import (
    AIRFLOW_V_3_1_PLUS,
    AIRFLOW_V_3_2_PLUS,
    AIRFLOW_V_3_3_PLUS,
    AIRFLOW_VERSION,
    AirflowSensorTimeout,
)

#: Airflow 3.1.7 or later: the API server tests a saved connection with its stored password.
AIRFLOW_V_3_1_7_PLUS = Version(Version(AIRFLOW_VERSION).base_version) >= Version("3.1.7")

if AIRFLOW_V_3_2_PLUS:
    from airflow.sdk.exceptions import AirflowRescheduleException, TaskDeferred
else:  # Airflow 3.0 and 3.1
    from airflow.exceptions import AirflowRescheduleException, TaskDeferred  # type: ignore[no-redef]

#: For tests of an Airflow API that older supported releases do not have (the provider falls back there).
requires_airflow_3_1 = pytest.mark.skipif(
    not AIRFLOW_V_3_1_PLUS, reason="the API under test exists from Airflow 3.1"
)


def dagbag_module() -> Any:
    """The module holding ``DagBag`` and ``sync_bag_to_db`` (it moved in Airflow 3.2)."""
    if AIRFLOW_V_3_2_PLUS:
        from airflow.dag_processing import dagbag
    else:  # Airflow 3.0 and 3.1
        from airflow.models import dagbag  # type: ignore[no-redef]
    return dagbag


def sync_to_db(bag: Any) -> None:
    """
    Serialise every DAG of ``bag`` into the metadata database, as the DAG processor would.

    ``dag.test()`` runs what is in the database: without this, Airflow 3.0 and 3.1 find the DAG's assets
    inactive and fail the task that declares them.
    """
    from airflow.dag_processing.bundles.manager import DagBundlesManager

    DagBundlesManager().sync_bundles_to_db()
    if AIRFLOW_V_3_1_PLUS:
        dagbag_module().sync_bag_to_db(bag, "dags-folder", None)
    else:  # Airflow 3.0
        bag.sync_to_db("dags-folder", None)


def redact(value: Any, name: str | None = None) -> Any:
    """Airflow's own secrets-masker ``redact`` (its module moved in Airflow 3.1)."""
    if AIRFLOW_V_3_1_PLUS:
        from airflow.sdk._shared.secrets_masker import redact as airflow_redact
    else:  # Airflow 3.0
        from airflow.sdk.execution_time.secrets_masker import redact as airflow_redact
    return airflow_redact(value, name)


def task_runtime_hooks() -> Any:
    """The hooks the task runtime discovers (``ProvidersManagerTaskRuntime`` from 3.2, ``ProvidersManager`` before)."""
    if AIRFLOW_V_3_2_PLUS:
        from airflow.sdk.providers_manager_runtime import ProvidersManagerTaskRuntime

        return ProvidersManagerTaskRuntime().hooks
    from airflow.providers_manager import ProvidersManager  # Airflow 3.0 and 3.1

    return ProvidersManager().hooks


__all__ = [
    "AIRFLOW_VERSION",
    "AIRFLOW_V_3_1_7_PLUS",
    "AIRFLOW_V_3_1_PLUS",
    "AIRFLOW_V_3_2_PLUS",
    "AIRFLOW_V_3_3_PLUS",
    "AirflowRescheduleException",
    "AirflowSensorTimeout",
    "TaskDeferred",
    "dagbag_module",
    "redact",
    "requires_airflow_3_1",
    "sync_to_db",
    "task_runtime_hooks",
]
