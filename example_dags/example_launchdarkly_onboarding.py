"""
Onboard a LaunchDarkly project's environments to Data Export.

For each environment (dynamic task mapping) a Snowflake warehouse destination is set up, completed,
awaited until it is configured (deferrable sensor: no worker slot is held while waiting) and turned on.
A Segment streaming destination is created and turned on beside it.

Every task is idempotent: re-running the DAG adopts what exists instead of creating duplicates.
Nothing here calls the API at import time. Point the ``launchdarkly_default`` connection at your
account (or at the bundled emulator) and trigger it; the params choose project and environments.
The Segment write key comes from the ``launchdarkly_segment_write_key`` Variable, so it is never in
the DAG file, and it is masked in logs and rendered fields.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import DAG, Param, task

from airflow_provider_ld.assets import destination_asset
from airflow_provider_ld.operators.destinations import (
    LaunchDarklyCreateDestinationOperator,
    LaunchDarklyToggleDestinationOperator,
)
from airflow_provider_ld.operators.warehouse import (
    LaunchDarklyCompleteWarehouseSetupOperator,
    LaunchDarklyWarehouseSetupOperator,
)
from airflow_provider_ld.sensors.destinations import LaunchDarklyDestinationConfiguredSensor

WAREHOUSE_NAME = "warehouse-export"
STREAM_NAME = "segment-events"
COMMON = {"project_key": "{{ params.project_key }}", "launchdarkly_conn_id": "launchdarkly_default"}

with DAG(
    dag_id="example_launchdarkly_onboarding",
    description="Set up Snowflake and Segment Data Export destinations for a LaunchDarkly project",
    start_date=datetime(2026, 1, 1),
    schedule=None,
    catchup=False,
    tags=["launchdarkly", "example"],
    params={
        "project_key": Param("demo-project", type="string", pattern=r"^[A-Za-z0-9._-]+$"),
        "environment_keys": Param(["staging", "production"], type="array", minItems=1),
        "snowflake_host": Param("acme.snowflakecomputing.com", type="string"),
        "stream_environment_key": Param("production", type="string"),
    },
    # The pool bounds how many tasks call the account-wide rate-limited API at once (see the README).
    default_args={"retries": 2, "retry_delay": timedelta(seconds=30), "pool": "launchdarkly"},
) as dag:

    @task
    def environments(params=None) -> list[str]:
        """The environments to onboard, from the run's params."""
        return list(params["environment_keys"])

    environment_keys = environments()

    setup = LaunchDarklyWarehouseSetupOperator.partial(
        task_id="start_snowflake_setup",
        kind="snowflake-v2",
        setup={"name": WAREHOUSE_NAME, "snowflakeHostAddress": "{{ params.snowflake_host }}"},
        **COMMON,
    ).expand(environment_key=environment_keys)

    # One XCom holding the dict (what expand_kwargs reads), not one per key: Airflow infers
    # multiple_outputs from "-> dict", and 3.0 then refuses the None public key of a rerun.
    @task(multiple_outputs=False)
    def apply_setup_script(result: dict) -> dict:
        """
        Run the setup SQL in Snowflake (as ACCOUNTADMIN), then hand over what completion needs.

        In a real deployment run ``result["setup"]["script"]`` with the Snowflake provider's
        ``SQLExecuteQueryOperator``; this example only reports it.
        """
        setup_result = result.get("setup") or {}
        script = setup_result.get("script") or ""
        print(
            f"{result['environment_key']}: {result['action']}; {len(script.splitlines())} SQL statements to apply"
        )
        return {"environment_key": result["environment_key"], "public_key": setup_result.get("publicKey")}

    handover = apply_setup_script.expand(result=setup.output)

    complete = LaunchDarklyCompleteWarehouseSetupOperator.partial(
        task_id="complete_snowflake_setup", kind="snowflake-v2", name=WAREHOUSE_NAME, **COMMON
    ).expand_kwargs(handover)

    configured = LaunchDarklyDestinationConfiguredSensor.partial(
        task_id="wait_until_configured",
        name=WAREHOUSE_NAME,
        kind="snowflake-v2",
        require_on=False,
        deferrable=True,
        poke_interval=5,
        timeout=600,
        **COMMON,
    ).expand(environment_key=environment_keys)

    turn_on = LaunchDarklyToggleDestinationOperator.partial(
        task_id="turn_on_warehouse_export", name=WAREHOUSE_NAME, kind="snowflake-v2", on=True, **COMMON
    ).expand(environment_key=environment_keys)

    complete >> configured >> turn_on

    create_stream = LaunchDarklyCreateDestinationOperator(
        task_id="create_segment_destination",
        environment_key="{{ params.stream_environment_key }}",
        kind="segment",
        name=STREAM_NAME,
        config={"writeKey": "{{ var.value.get('launchdarkly_segment_write_key', 'demo-write-key') }}"},
        on=False,
        **COMMON,
    )
    stream_on = LaunchDarklyToggleDestinationOperator(
        task_id="turn_on_segment_destination",
        environment_key="{{ params.stream_environment_key }}",
        name=STREAM_NAME,
        kind="segment",
        on=True,
        outlets=[destination_asset("demo-project", "production", STREAM_NAME)],
        **COMMON,
    )
    create_stream >> stream_on
