"""The destinations-as-code example DAGs run end to end against the emulator with ``dag.test()``."""

from __future__ import annotations

import pytest

from tests.example_dags.test_example_dags import AS_CODE, DRIFT, xcom_value

SEGMENT_KEY = "segment-write-key-from-a-variable-42"


@pytest.fixture
def segment_variable(monkeypatch):
    """The Airflow Variable the example manifest reads the Segment write key from."""
    monkeypatch.setenv("AIRFLOW_VAR_SEGMENT_WRITE_KEY", SEGMENT_KEY)


def _identities(emulator):
    return sorted(
        (d["_links"]["self"]["href"].split("/")[4], d["_links"]["self"]["href"].split("/")[5], d["kind"])
        for d in emulator.destinations
    )


def test_plan_approve_apply_then_a_rerun_changes_nothing(
    airflow_db, dagbag, emulator, ld_connection, segment_variable
):
    dag = dagbag.get_dag(AS_CODE)
    assert [t.task_id for t in dag.topological_sort()] == ["plan", "has_changes", "approve", "apply"]
    run = dag.test(mark_success_pattern="^approve$")  # stands in for the human clicking Approve
    assert run.state == "success"
    assert _identities(emulator) == [
        ("demo-mobile", "production", "google-pubsub"),
        ("demo-project", "production", "google-pubsub"),
        ("demo-project", "production", "segment"),
        ("demo-project", "staging", "google-pubsub"),
    ]
    segment = next(d for d in emulator.stored_destinations if d["kind"] == "segment")
    assert segment["config"] == {"writeKey": SEGMENT_KEY}
    plan = xcom_value(run, "plan", "return_value")
    assert plan["summary"] == {"create": 4, "update": 0, "delete": 0, "unchanged": 0, "conflict": 0}
    report = xcom_value(run, "apply", "return_value")
    assert report["summary"] == {"created": 4}
    assert SEGMENT_KEY not in str(plan) + str(report)

    writes = len([c for c in emulator.calls_to() if c.method != "GET"])
    rerun = dag.test(mark_success_pattern="^approve$")
    assert rerun.state == "success"
    assert xcom_value(rerun, "plan", "return_value")["summary"]["unchanged"] == 4
    assert len([c for c in emulator.calls_to() if c.method != "GET"]) == writes, (
        "no changes: apply is skipped"
    )


def test_nightly_drift_check_passes_in_sync_and_fails_on_drift(
    airflow_db, dagbag, emulator, ld_connection, segment_variable
):
    assert dagbag.get_dag(AS_CODE).test(mark_success_pattern="^approve$").state == "success"
    drift = dagbag.get_dag(DRIFT)
    assert drift.test().state == "success"
    calls = len(emulator.calls_to())
    stray = emulator.add_destination("demo-project", "staging", kind="kinesis", name="Hand-made stream")
    run = drift.test()
    assert run.state == "failed"
    assert len(emulator.calls_to()) - calls == 1, "the drift check costs one request"
    plan = xcom_value(run, "check_drift", "plan")
    assert [(c["action"], c["destination_id"]) for c in plan["changes"] if c["action"] != "unchanged"] == [
        ("delete", stray["_id"])
    ]
