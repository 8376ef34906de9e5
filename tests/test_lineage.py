"""
OpenLineage: the operators report LaunchDarkly's event stream as input and the destination's sink as output.

The end-to-end test runs ``airflow dags test`` in a fresh process with the OpenLineage provider's file
transport and reads the events it wrote; the naming tests check every kind's dataset name.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from airflow_provider_ld.lineage import events_dataset, sink_dataset, snowflake_account
from airflow_provider_ld.models import Destination
from tests.example_dags.conftest import airflow_db  # noqa: F401  (shared fixture)
from tests.hooks.conftest import connection_json, emulator  # noqa: F401  (shared fixtures)

LINEAGE_DAGS = Path(__file__).resolve().parent / "lineage_dags"
HOST = "app.launchdarkly.com"
SECRET = "wk-lineage-secret-9d2f"


def destination(kind: str, config: dict, destination_id: str = "d1") -> Destination:
    return Destination.model_validate(
        {"_id": destination_id, "kind": kind, "name": "n", "on": True, "version": 1, "config": config}
    )


@pytest.mark.parametrize(
    ("kind", "config", "namespace", "name"),
    [
        (
            "kinesis",
            {"region": "eu-west-1", "roleArn": "arn:aws:iam::123456789012:role/r", "streamName": "events"},
            "arn:aws:kinesis:eu-west-1:123456789012",
            "stream/events",
        ),
        ("google-pubsub", {"project": "acme", "topic": "ld"}, "pubsub", "topic:acme:ld"),
        (
            "azure-event-hubs",
            {"namespace": "acme-ns", "name": "ld-hub", "policyName": "send", "policyKey": "k"},
            "kafka://acme-ns.servicebus.windows.net:9093",
            "ld-hub",
        ),
        (
            "snowflake-v2",
            {
                "publicKey": "pk",
                "snowflakeHostAddress": "https://MyOrg-Acct.snowflakecomputing.com",
                "databaseName": "LD_EXPORT",
                "schemaName": "EVENTS",
            },
            "snowflake://myorg-acct",
            "LD_EXPORT.EVENTS",
        ),
        ("bigquery", {"projectId": "acme", "datasetId": "ld_export"}, "bigquery", "acme.ld_export"),
        (
            "redshift",
            {
                "clusterIdentifier": "wh",
                "clusterRegion": "us-east-1",
                "databaseName": "dev",
                "schemaName": "ld",
            },
            "redshift://wh.us-east-1:5439",
            "dev.ld",
        ),
        (
            "databricks",
            {"host": "https://dbc-1.cloud.databricks.com", "catalog": "main", "schema": "ld"},
            "databricks://dbc-1.cloud.databricks.com",
            "main.ld",
        ),
        # No dataset of their own, or not enough config to name one: the destination itself.
        ("segment", {"writeKey": "w"}, f"launchdarkly://{HOST}", "p/e/destinations/d1"),
        (
            "snowflake-v2",
            {"publicKey": "pk", "snowflakeHostAddress": "acme.snowflakecomputing.com"},
            f"launchdarkly://{HOST}",
            "p/e/destinations/d1",
        ),
        (
            "kinesis",
            {"region": "eu-west-1", "roleArn": "not-an-arn", "streamName": "events"},
            f"launchdarkly://{HOST}",
            "p/e/destinations/d1",
        ),
    ],
)
def test_sink_is_named_by_openlineage_conventions(kind, config, namespace, name):
    output = sink_dataset(HOST, "p", "e", destination(kind, config))
    assert (output.namespace, output.name) == (namespace, name)


def test_events_dataset_names_host_project_and_environment():
    dataset = events_dataset("app.eu.launchdarkly.com", "proj", "prod")
    assert (dataset.namespace, dataset.name) == ("launchdarkly://app.eu.launchdarkly.com", "proj/prod/events")


@pytest.mark.parametrize(
    ("host_address", "account"),
    [
        ("https://xy12345.us-east-1.snowflakecomputing.com", "xy12345.us-east-1"),
        ("myorg-acct.snowflakecomputing.com/", "myorg-acct"),
        ("myorg-acct", "myorg-acct"),
    ],
)
def test_snowflake_account_from_host_address(host_address, account):
    assert snowflake_account(host_address) == account


def test_operators_without_a_result_report_no_lineage():
    from airflow_provider_ld.operators.destinations import LaunchDarklyToggleDestinationOperator

    task = LaunchDarklyToggleDestinationOperator(
        task_id="t", project_key="p", environment_key="e", name="n", on=True
    )
    lineage = task.get_openlineage_facets_on_complete(None)
    assert (lineage.inputs, lineage.outputs) == ([], [])


def _copy_metadata_db(tmp_path: Path) -> str:
    """Copy the session's migrated SQLite database, so the child process never writes the shared one."""
    source = Path(os.environ["AIRFLOW_HOME"]) / "airflow.db"
    target = tmp_path / "airflow.db"
    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        src.backup(dst)
    return f"sqlite:///{target}"


def _run_dag_with_file_transport(tmp_path: Path, base_url: str) -> list[dict]:
    events_file = tmp_path / "openlineage.ndjson"
    env = {
        **os.environ,
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": _copy_metadata_db(tmp_path),
        "AIRFLOW__CORE__DAGS_FOLDER": str(LINEAGE_DAGS),
        "AIRFLOW__OPENLINEAGE__TRANSPORT": json.dumps(
            {"type": "file", "log_file_path": str(events_file), "append": True}
        ),
        "AIRFLOW__OPENLINEAGE__NAMESPACE": "lineage-test",
        "AIRFLOW_CONN_LAUNCHDARKLY_DEFAULT": connection_json(base_url, timeout=5),
    }
    airflow = str(Path(sys.executable).parent / "airflow")
    result = subprocess.run(
        [airflow, "dags", "test", "launchdarkly_lineage"],
        check=False,
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    text = events_file.read_text()
    assert SECRET not in text, "a secret reached the lineage events"
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def test_dags_test_emits_inputs_outputs_and_destination_facet(airflow_db, emulator, tmp_path):  # noqa: F811
    events = _run_dag_with_file_transport(tmp_path, emulator.base_url)
    complete = {
        event["job"]["name"].split(".", 1)[1]: event
        for event in events
        if event["eventType"] == "COMPLETE" and event["job"]["name"].startswith("launchdarkly_lineage.")
    }
    assert set(complete) == {
        "create_kinesis",
        "create_pubsub",
        "create_segment",
        "turn_on",
        "update",
        "delete",
    }
    host = emulator.base_url.split("://", 1)[1]
    events_input = [{"namespace": f"launchdarkly://{host}", "name": "demo-project/production/events"}]

    def datasets(task_id: str, key: str) -> list[dict]:
        return [{"namespace": d["namespace"], "name": d["name"]} for d in complete[task_id][key]]

    for task_id in ("create_kinesis", "turn_on"):
        assert datasets(task_id, "inputs") == events_input
        assert datasets(task_id, "outputs") == [
            {"namespace": "arn:aws:kinesis:eu-west-1:123456789012", "name": "stream/ld-events"}
        ]
    for task_id in ("create_pubsub", "update"):
        assert datasets(task_id, "inputs") == events_input
        assert datasets(task_id, "outputs") == [{"namespace": "pubsub", "name": "topic:acme-data:ld-events"}]

    by_kind = {d["kind"]: d for d in emulator.destinations}
    segment = complete["create_segment"]["outputs"][0]
    segment_id = segment["facets"]["launchdarklyDestination"]["destinationId"]
    assert (segment["namespace"], segment["name"]) == (
        f"launchdarkly://{host}",
        f"demo-project/production/destinations/{segment_id}",
    )
    assert "segment" not in by_kind, "the delete task removed it"
    assert datasets("delete", "outputs") == [] and datasets("delete", "inputs") == []

    facet = complete["turn_on"]["outputs"][0]["facets"]["launchdarklyDestination"]
    assert {k: v for k, v in facet.items() if not k.startswith("_")} == {
        "kind": "kinesis",
        "destinationId": by_kind["kinesis"]["_id"],
        "name": "stream",
        "on": True,
        "projectKey": "demo-project",
        "environmentKey": "production",
        "action": "turned on",
    }
    created = complete["create_kinesis"]["outputs"][0]["facets"]["launchdarklyDestination"]
    assert (created["action"], created["on"]) == ("created", False)
    assert complete["update"]["outputs"][0]["facets"]["launchdarklyDestination"]["action"] == "updated"
