"""Import-cost DAG: one environment onboarded with this provider's operators and sensor (7 tasks)."""

from __future__ import annotations

from datetime import datetime

from airflow.sdk import DAG

from airflow_provider_ld.assets import destination_asset
from airflow_provider_ld.operators.destinations import (
    LaunchDarklyCompleteWarehouseSetupOperator,
    LaunchDarklyCreateDestinationOperator,
    LaunchDarklyDeleteDestinationOperator,
    LaunchDarklyToggleDestinationOperator,
    LaunchDarklyUpdateDestinationOperator,
    LaunchDarklyWarehouseSetupOperator,
)
from airflow_provider_ld.sensors.destinations import LaunchDarklyDestinationConfiguredSensor

KEYS = {"project_key": "bench", "environment_key": "production"}

with DAG(
    dag_id="bench_import_launchdarkly", start_date=datetime(2026, 1, 1), schedule=None, catchup=False
) as dag:
    setup = LaunchDarklyWarehouseSetupOperator(
        task_id="setup", kind="snowflake-v2", setup={"name": "warehouse"}, **KEYS
    )
    complete = LaunchDarklyCompleteWarehouseSetupOperator(
        task_id="complete",
        kind="snowflake-v2",
        name="warehouse",
        public_key="{{ ti.xcom_pull('setup') }}",
        **KEYS,
    )
    wait = LaunchDarklyDestinationConfiguredSensor(
        task_id="wait", name="warehouse", kind="snowflake-v2", require_on=False, deferrable=True, **KEYS
    )
    turn_on = LaunchDarklyToggleDestinationOperator(
        task_id="turn_on",
        name="warehouse",
        kind="snowflake-v2",
        on=True,
        outlets=[destination_asset("bench", "production", "warehouse")],
        **KEYS,
    )
    create = LaunchDarklyCreateDestinationOperator(
        task_id="create", kind="segment", name="events", config={"writeKey": "{{ var.value.key }}"}, **KEYS
    )
    update = LaunchDarklyUpdateDestinationOperator(
        task_id="update", name="events", kind="segment", config={"writeKey": "{{ var.value.key2 }}"}, **KEYS
    )
    delete = LaunchDarklyDeleteDestinationOperator(task_id="delete", name="events", kind="segment", **KEYS)
    setup >> complete >> wait >> turn_on
    create >> update >> delete
