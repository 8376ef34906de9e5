"""A deferrable sensor on its own ``handover`` queue, so the test can choose which worker resumes it."""

from __future__ import annotations

from datetime import datetime

from airflow.sdk import DAG

from airflow_provider_ld.sensors.destinations import LaunchDarklyDestinationConfiguredSensor

with DAG(
    dag_id="e2e_celery_handover",
    start_date=datetime(2026, 1, 1),
    schedule=None,
    catchup=False,
    tags=["launchdarkly", "e2e"],
):
    LaunchDarklyDestinationConfiguredSensor(
        task_id="wait_for_handover",
        project_key="demo-project",
        environment_key="handover",
        name="handover-events",
        kind="segment",
        require_on=False,
        deferrable=True,
        poke_interval=2,
        timeout=300,
        queue="handover",
        pool="launchdarkly",
    )
