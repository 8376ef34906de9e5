"""
E2E test DAG: the configured sensor in reschedule mode (no worker slot held between pokes).

The awaited destination does not exist until the test adds it to the emulator, after it has seen
the task instance rescheduled. The poke interval stays well above the few seconds the scheduler may take
to process a finished poke: a shorter one runs into Airflow's reschedule race (apache/airflow#71172),
where the late "success" of one poke fails the next one.
"""

from __future__ import annotations

from datetime import datetime

from airflow.sdk import DAG

from airflow_provider_ld.sensors.destinations import LaunchDarklyDestinationConfiguredSensor

with DAG(
    dag_id="e2e_launchdarkly_reschedule",
    start_date=datetime(2026, 1, 1),
    schedule=None,
    catchup=False,
    tags=["launchdarkly", "e2e"],
):
    LaunchDarklyDestinationConfiguredSensor(
        task_id="wait_in_reschedule_mode",
        project_key="e2e-project",
        environment_key="production",
        name="late-destination",
        kind="segment",
        require_on=True,
        mode="reschedule",
        poke_interval=10,
        timeout=240,
    )
