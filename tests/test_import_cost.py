"""
Parsing a DAG that uses this provider imports nothing heavy and opens no connection (in a fresh process).

This is a behaviour test, not a timing test: how long parsing takes is measured by ``benchmarks/`` only.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

DAG_FILE = """
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

KEYS = {"project_key": "proj", "environment_key": "prod"}

with DAG(dag_id="import_cost", start_date=datetime(2026, 1, 1), schedule=None) as dag:
    setup = LaunchDarklyWarehouseSetupOperator(task_id="setup", kind="snowflake-v2", **KEYS)
    complete = LaunchDarklyCompleteWarehouseSetupOperator(
        task_id="complete", kind="snowflake-v2", public_key="{{ ti.xcom_pull('setup') }}", **KEYS
    )
    wait = LaunchDarklyDestinationConfiguredSensor(
        task_id="wait", name="warehouse", kind="snowflake-v2", deferrable=True, **KEYS
    )
    by_id = LaunchDarklyDestinationConfiguredSensor(task_id="wait_by_id", destination_id="abc", **KEYS)
    turn_on = LaunchDarklyToggleDestinationOperator(
        task_id="turn_on", name="warehouse", kind="snowflake-v2", on=True,
        outlets=[destination_asset("proj", "prod", "warehouse")], **KEYS,
    )
    create = LaunchDarklyCreateDestinationOperator(
        task_id="create", kind="segment", name="events", config={"writeKey": "{{ var.value.k }}"}, **KEYS
    )
    update = LaunchDarklyUpdateDestinationOperator(task_id="update", destination_id="abc", on=True, **KEYS)
    delete = LaunchDarklyDeleteDestinationOperator(task_id="delete", name="events", **KEYS)
    setup >> complete >> wait >> turn_on
    create >> update >> delete
"""

PROBE = """
import importlib.util, json, socket, sys

from airflow.sdk import DAG  # every DAG file imports this first; what it loads is not the DAG's doing
from airflow.sdk import BaseOperator

# Nor is what Airflow itself loads for any task (on Airflow 3.0, building an operator loads httpx and pydantic).
BaseOperator(task_id="baseline")
before = set(sys.modules)
attempts = []

def refuse(*args, **kwargs):
    attempts.append(repr(args[:2]))
    raise OSError("network access at DAG parse time")

socket.socket.connect = refuse
socket.create_connection = refuse
spec = importlib.util.spec_from_file_location("dag_under_test", sys.argv[1])
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
print(json.dumps({
    "tasks": len(module.dag.tasks),
    "new": sorted(set(sys.modules) - before),
    "loaded": sorted(sys.modules),
    "attempts": attempts,
}))
"""

#: Imported only when a task runs: models (pydantic), the API core, both hooks, the trigger, readiness rules.
RUNTIME_MODULES = (
    "airflow_provider_ld.models",
    "airflow_provider_ld.api",
    "airflow_provider_ld.hooks.launchdarkly",
    "airflow_provider_ld.hooks.launchdarkly_async",
    "airflow_provider_ld.triggers.destinations",
    "airflow_provider_ld.readiness",
    "airflow_provider_ld.connection",
    "airflow_provider_ld.lineage",
)
#: Third-party libraries a DAG file must not pull in (some, like httpx and pydantic, Airflow loads itself).
HEAVY_LIBRARIES = ("requests", "urllib3", "httpx", "jsonpatch", "pydantic", "aiohttp", "openlineage")


def parse_in_fresh_process(tmp_path: Path) -> dict:
    dag_file = tmp_path / "dag_under_test.py"
    dag_file.write_text(textwrap.dedent(DAG_FILE))
    done = subprocess.run(
        [sys.executable, "-c", PROBE, str(dag_file)],
        capture_output=True,
        check=False,
        text=True,
        env={**os.environ, "AIRFLOW__CORE__LOAD_EXAMPLES": "False"},
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_parsing_a_dag_imports_nothing_heavy_and_opens_no_connection(tmp_path):
    result = parse_in_fresh_process(tmp_path)

    assert result["tasks"] == 8
    assert result["attempts"] == []
    ours = [name for name in result["loaded"] if name.startswith("airflow_provider_ld")]
    runtime = [name for name in ours if name.startswith(RUNTIME_MODULES)]
    assert runtime == [], f"imported at parse time, needed only when a task runs: {runtime}"
    added = {name.split(".")[0] for name in result["new"]}
    heavy = sorted(added.intersection(HEAVY_LIBRARIES))
    assert heavy == [], f"the DAG file imported {heavy}"
    assert "jsonpatch" not in result["loaded"]
    assert "requests" not in result["loaded"]
    # Airflow reads every installed provider's metadata (``get_provider_info``); nothing more of OpenLineage.
    lineage = [n for n in result["loaded"] if n.startswith("airflow.providers.openlineage.")]
    assert lineage in ([], ["airflow.providers.openlineage.get_provider_info"]), lineage


def test_names_moved_out_of_module_scope_are_still_importable():
    from airflow_provider_ld.models import Destination
    from airflow_provider_ld.operators import destinations as operators
    from airflow_provider_ld.sensors import destinations as sensors
    from airflow_provider_ld.triggers.destinations import TRANSIENT_ERRORS

    assert operators.Destination is Destination
    assert callable(operators.validate_key) and callable(operators.validate_destination_config)
    assert sensors.Destination is Destination
    assert sensors.TRANSIENT_ERRORS is TRANSIENT_ERRORS
    assert sensors.LaunchDarklyHook.default_conn_name == "launchdarkly_default"
