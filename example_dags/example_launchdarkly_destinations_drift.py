"""
Nightly drift check: fail (and so alert) when the account's destinations left the manifest.

The check costs one API request whatever the number of destinations. Its log holds the table of
differences, and the plan is pushed to XCom under ``plan`` before the task fails.
"""

from __future__ import annotations

from datetime import datetime

from airflow.sdk import DAG

from airflow_provider_ld.operators.fleet import LaunchDarklyPlanDestinationsOperator

with DAG(
    dag_id="example_launchdarkly_destinations_drift",
    description="Fail when LaunchDarkly destinations drift from the manifest",
    start_date=datetime(2026, 1, 1),
    schedule="0 3 * * *",
    catchup=False,
    tags=["launchdarkly", "example"],
) as dag:
    LaunchDarklyPlanDestinationsOperator(
        task_id="check_drift", manifest="launchdarkly_destinations.yaml", prune=True, fail_on_changes=True
    )
