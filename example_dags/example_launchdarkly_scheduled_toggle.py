"""
Pause a Data Export destination during a nightly window, and resume it afterwards.

At the start of each window the destination is turned off; a reschedule-mode sensor (no worker slot
held) waits for the window's end; then the state found before the window is restored. Each toggle
sends one PATCH only when the state differs, so re-running a run, or a task retry, changes nothing twice.

The pause is a setup task and the resume its teardown: the resume runs whatever happens in between (the
window task fails, times out or is marked failed), so the destination is never left off by accident, and
the run still fails when the window task failed. The resume restores what the pause found (its XCom's
``previous_on``): a destination that was already off before the window stays off. When the pause cannot
know what it found (a retry that found the destination off already), the resume turns it on.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.providers.standard.sensors.date_time import DateTimeSensor
from airflow.sdk import DAG, Param

from airflow_provider_ld.operators.destinations import LaunchDarklyToggleDestinationOperator

TARGET = {
    "project_key": "{{ params.project_key }}",
    "environment_key": "{{ params.environment_key }}",
    "name": "{{ params.destination_name }}",
    "kind": "{{ params.destination_kind }}",
    "launchdarkly_conn_id": "launchdarkly_default",
}

with DAG(
    dag_id="example_launchdarkly_scheduled_toggle",
    description="Turn a LaunchDarkly destination off for a nightly window, then back on",
    start_date=datetime(2026, 1, 1),
    schedule="0 22 * * *",
    catchup=False,
    max_active_runs=1,
    tags=["launchdarkly", "example"],
    params={
        "project_key": Param("demo-project", type="string"),
        "environment_key": Param("production", type="string"),
        "destination_name": Param("segment-events", type="string"),
        "destination_kind": Param("segment", type="string"),
        "window_minutes": Param(120, type="integer", minimum=0),
    },
    # The pool bounds how many tasks call the account-wide rate-limited API at once (see the README).
    default_args={"retries": 2, "retry_delay": timedelta(minutes=1), "pool": "launchdarkly"},
) as dag:
    pause = LaunchDarklyToggleDestinationOperator(
        task_id="turn_off_for_window", on=False, comment="Nightly export window started", **TARGET
    )
    window_end = DateTimeSensor(
        task_id="wait_for_window_end",
        target_time="{{ (dag_run.start_date + macros.timedelta(minutes=params.window_minutes)).isoformat() }}",
        mode="reschedule",
        poke_interval=60,
    )
    resume = LaunchDarklyToggleDestinationOperator(
        task_id="turn_on_after_window",
        # What the pause found; on unless it surely found the destination off.
        on="{{ ti.xcom_pull(task_ids='turn_off_for_window')['previous_on'] is not false }}",
        comment="Nightly export window ended",
        **TARGET,
    )
    pause.as_setup() >> window_end >> resume.as_teardown(setups=pause)
