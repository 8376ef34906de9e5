"""The plan and apply operators: manifest paths and dicts, drift failure, per-change report, cheap DAG parsing."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest
import yaml

from airflow_provider_ld.exceptions import LaunchDarklyValidationError
from airflow_provider_ld.fleet.apply import FleetApplyError
from airflow_provider_ld.fleet.plan import DestinationDriftError
from airflow_provider_ld.operators.fleet import (
    LaunchDarklyApplyDestinationsOperator,
    LaunchDarklyPlanDestinationsOperator,
)
from tests.fleet.conftest import fleet_manifest
from tests.test_import_cost import HEAVY_LIBRARIES, PROBE, RUNTIME_MODULES


class FakeTI:
    def __init__(self) -> None:
        self.pushed: dict[str, object] = {}

    def xcom_push(self, key, value):
        self.pushed[key] = json.loads(json.dumps(value))  # XCom must be JSON


def test_relative_manifest_path_is_read_from_the_dag_files_folder(
    tmp_path, emulator, ld_connection, segment_key
):
    (tmp_path / "m.yaml").write_text(yaml.safe_dump(fleet_manifest()))
    from airflow.sdk import DAG

    with DAG(dag_id="fleet", schedule=None) as dag:
        op = LaunchDarklyPlanDestinationsOperator(task_id="plan", manifest="m.yaml")
    dag.fileloc = str(tmp_path / "dag.py")
    assert op.manifest_path() == tmp_path / "m.yaml"
    result = op.execute({"ti": FakeTI()})
    assert result["summary"]["create"] == 12
    absolute = LaunchDarklyPlanDestinationsOperator(task_id="abs", manifest=str(tmp_path / "m.yaml"))
    assert absolute.manifest_path() == tmp_path / "m.yaml"


def test_drift_check_fails_without_retry_and_pushes_the_plan(emulator, ld_connection, segment_key):
    op = LaunchDarklyPlanDestinationsOperator(
        task_id="drift", manifest=fleet_manifest(), fail_on_changes=True
    )
    ti = FakeTI()
    with pytest.raises(DestinationDriftError, match="the account has drifted from the manifest: 12 create"):
        op.execute({"ti": ti})
    assert ti.pushed["plan"]["summary"]["create"] == 12
    LaunchDarklyApplyDestinationsOperator(task_id="apply", manifest=fleet_manifest()).execute(
        {"ti": FakeTI()}
    )
    assert op.execute({"ti": FakeTI()})["summary"]["unchanged"] == 12


def test_apply_runs_every_change_then_fails_with_the_report(emulator, ld_connection, segment_key):
    emulator.inject_fault("POST", "/api/v2/destinations/web/test", status=400)
    op = LaunchDarklyApplyDestinationsOperator(task_id="apply", manifest=fleet_manifest())
    ti = FakeTI()
    with pytest.raises(
        FleetApplyError,
        match=r"1 of 12 changes were not applied:\ncreate google-pubsub 'Product events' in web/test: failed",
    ):
        op.execute({"ti": ti})
    assert ti.pushed["report"]["summary"] == {"created": 11, "failed": 1}
    assert len(emulator.destinations) == 11


def test_apply_takes_the_reviewed_plan_as_a_dict_or_json(emulator, ld_connection, segment_key):
    reviewed = LaunchDarklyPlanDestinationsOperator(task_id="plan", manifest=fleet_manifest()).execute({})
    emulator.add_destination(
        "web", "production", kind="segment", name="Segment", config={"writeKey": "z" * 20}
    )
    op = LaunchDarklyApplyDestinationsOperator(
        task_id="apply", manifest=fleet_manifest(), plan=json.dumps(reviewed)
    )
    with pytest.raises(FleetApplyError, match="segment 'Segment' in web/production: refused"):
        op.execute({"ti": FakeTI()})
    assert len(emulator.calls_to("POST")) == 11


def test_jinja_secret_in_a_dict_manifest_is_masked_and_sent(emulator, ld_connection, monkeypatch):
    from airflow_provider_ld import task as module  # the masking every LaunchDarkly task shares

    masked = []
    monkeypatch.setattr(module, "mask_secret", masked.append)
    manifest = {
        "destinations": [
            {
                "name": "S",
                "kind": "segment",
                "config": {"writeKey": "{{ params.key }}"},
                "targets": [{"project": "web", "environments": ["production"]}],
            }
        ]
    }
    op = LaunchDarklyApplyDestinationsOperator(task_id="apply", manifest=manifest)
    from jinja2 import Environment

    op.render_template_fields({"params": {"key": "templated-write-key-77"}}, jinja_env=Environment())
    assert masked == ["templated-write-key-77"]
    op.execute({})
    assert emulator.stored_destinations[0]["config"] == {"writeKey": "templated-write-key-77"}


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"manifest": 42}, "manifest: must be a path to a YAML file or a dict"),
        ({"manifest": fleet_manifest(), "prune": "yes"}, "prune: must be true or false"),
        ({"manifest": {"destinations": [{"name": "x"}]}}, "destinations[0].kind: is required"),
    ],
)
def test_bad_arguments_fail_before_any_request(emulator, ld_connection, kwargs, message):
    with pytest.raises(LaunchDarklyValidationError) as caught:
        LaunchDarklyPlanDestinationsOperator(task_id="plan", **kwargs).execute({})
    assert str(caught.value).startswith(message)
    assert emulator.calls_to() == []


def test_parsing_a_dag_with_the_fleet_operators_imports_nothing_heavy(tmp_path):
    dag_file = tmp_path / "fleet_dag.py"
    dag_file.write_text(
        textwrap.dedent("""
        from datetime import datetime
        from airflow.sdk import DAG
        from airflow_provider_ld.operators.fleet import (
            LaunchDarklyApplyDestinationsOperator, LaunchDarklyPlanDestinationsOperator,
        )
        with DAG(dag_id="fleet", start_date=datetime(2026, 1, 1), schedule=None) as dag:
            plan = LaunchDarklyPlanDestinationsOperator(task_id="plan", manifest="m.yaml")
            plan >> LaunchDarklyApplyDestinationsOperator(task_id="apply", manifest="m.yaml", plan=plan.output)
    """)
    )
    done = subprocess.run(
        [sys.executable, "-c", PROBE, str(dag_file)], check=False, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["tasks"] == 2 and result["attempts"] == []
    ours = [name for name in result["loaded"] if name.startswith("airflow_provider_ld")]
    assert [name for name in ours if name.startswith((*RUNTIME_MODULES, "airflow_provider_ld.fleet"))] == []
    assert sorted({name.split(".")[0] for name in result["new"]} & set(HEAVY_LIBRARIES)) == []
    assert "yaml" not in {name.split(".")[0] for name in result["new"]}
