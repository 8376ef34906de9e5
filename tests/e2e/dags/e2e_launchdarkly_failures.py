"""
E2E test DAG: two ways a run fails, each with retries allowed so the test can see none are used.

``toggle_with_refused_token`` uses a connection whose token the API refuses (401); the sensor waits,
deferred, for a destination that never appears and times out after 10 seconds.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import DAG

from airflow_provider_ld.operators.destinations import LaunchDarklyToggleDestinationOperator
from airflow_provider_ld.sensors.destinations import LaunchDarklyDestinationConfiguredSensor

with DAG(
    dag_id="e2e_launchdarkly_failures",
    start_date=datetime(2026, 1, 1),
    schedule=None,
    catchup=False,
    tags=["launchdarkly", "e2e"],
    default_args={"retries": 2, "retry_delay": timedelta(seconds=5)},
):
    LaunchDarklyToggleDestinationOperator(
        task_id="toggle_with_refused_token",
        launchdarkly_conn_id="launchdarkly_refused",
        project_key="e2e-project",
        environment_key="production",
        name="segment-events",
        kind="segment",
        on=True,
    )
    LaunchDarklyDestinationConfiguredSensor(
        task_id="wait_for_missing_destination",
        project_key="e2e-project",
        environment_key="production",
        name="never-configured",
        kind="segment",
        deferrable=True,
        poke_interval=2,
        timeout=10,
    )
