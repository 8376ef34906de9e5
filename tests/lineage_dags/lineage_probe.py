"""A DAG whose tasks create, toggle, update and delete destinations, for the lineage test."""

from __future__ import annotations

from datetime import datetime

from airflow.sdk import DAG

from airflow_provider_ld.operators.destinations import (
    LaunchDarklyCreateDestinationOperator,
    LaunchDarklyDeleteDestinationOperator,
    LaunchDarklyToggleDestinationOperator,
    LaunchDarklyUpdateDestinationOperator,
)

KEYS = {"project_key": "demo-project", "environment_key": "production"}
KINESIS = {
    "region": "eu-west-1",
    "roleArn": "arn:aws:iam::123456789012:role/ld-export",
    "streamName": "ld-events",
}

with DAG(dag_id="launchdarkly_lineage", start_date=datetime(2026, 1, 1), schedule=None, catchup=False):
    kinesis = LaunchDarklyCreateDestinationOperator(
        task_id="create_kinesis", kind="kinesis", name="stream", config=KINESIS, **KEYS
    )
    pubsub = LaunchDarklyCreateDestinationOperator(
        task_id="create_pubsub",
        kind="google-pubsub",
        name="topic",
        config={"project": "acme-data", "topic": "ld-events"},
        **KEYS,
    )
    segment = LaunchDarklyCreateDestinationOperator(
        task_id="create_segment",
        kind="segment",
        name="segment-events",
        config={"writeKey": "{{ var.value.get('segment_write_key', 'wk-lineage-secret-9d2f') }}"},
        **KEYS,
    )
    turn_on = LaunchDarklyToggleDestinationOperator(
        task_id="turn_on", name="stream", kind="kinesis", on=True, **KEYS
    )
    rename = LaunchDarklyUpdateDestinationOperator(task_id="update", name="topic", on=True, **KEYS)
    delete = LaunchDarklyDeleteDestinationOperator(task_id="delete", name="segment-events", **KEYS)
    kinesis >> turn_on
    pubsub >> rename
    segment >> delete
