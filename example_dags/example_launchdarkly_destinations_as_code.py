"""
Destinations as code: plan a manifest, let a human approve the plan in the Airflow UI, then apply it.

The plan task logs a table of the changes and returns the JSON plan; when it has changes, the approval
task shows its summary in the UI (Airflow's human-in-the-loop ``ApprovalOperator``); the apply task
applies exactly the reviewed plan, and refuses any change whose destination moved since the plan was
made. Where the installed Airflow has no human-in-the-loop operator, the approval is the run's
``approved`` parameter instead: trigger the DAG again with ``approved: true`` after reading the plan.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.exceptions import AirflowOptionalProviderFeatureException
from airflow.providers.standard.operators.python import ShortCircuitOperator
from airflow.sdk import DAG, Param

from airflow_provider_ld.operators.fleet import (
    LaunchDarklyApplyDestinationsOperator,
    LaunchDarklyPlanDestinationsOperator,
)

try:  # shipped with the standard provider since Airflow 3.1
    from airflow.providers.standard.operators.hitl import ApprovalOperator
except (
    ImportError,
    AirflowOptionalProviderFeatureException,
):  # the standard provider has it from Airflow 3.1
    ApprovalOperator = None

MANIFEST = "launchdarkly_destinations.yaml"  # relative to this file's folder


def plan_has_changes(plan: dict) -> bool:
    """Continue to approval only when the plan would change something (conflicts included)."""
    return any(plan["summary"][action] for action in ("create", "update", "delete", "conflict"))


with DAG(
    dag_id="example_launchdarkly_destinations_as_code",
    description="Plan the destinations manifest, approve the plan in the UI, apply it",
    start_date=datetime(2026, 1, 1),
    schedule=None,
    catchup=False,
    max_active_runs=1,
    tags=["launchdarkly", "example"],
    params={
        "approved": Param(False, type="boolean", description="Used only without human-in-the-loop support")
    },
) as dag:
    plan = LaunchDarklyPlanDestinationsOperator(task_id="plan", manifest=MANIFEST)
    has_changes = ShortCircuitOperator(
        task_id="has_changes", python_callable=plan_has_changes, op_args=[plan.output]
    )
    apply = LaunchDarklyApplyDestinationsOperator(task_id="apply", manifest=MANIFEST, plan=plan.output)
    if ApprovalOperator is not None:
        approve = ApprovalOperator(
            task_id="approve",
            subject="Apply the LaunchDarkly destinations plan?",
            body="Changes: {{ ti.xcom_pull(task_ids='plan')['summary'] }}. The plan task's log has the table.",
            response_timeout=timedelta(days=1),
        )
    else:
        approve = ShortCircuitOperator(
            task_id="approve", python_callable=lambda approved: approved, op_args=["{{ params.approved }}"]
        )
    plan >> has_changes >> approve >> apply
