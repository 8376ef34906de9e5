"""The example DAGs parse offline and run end to end against the emulator with ``dag.test()``."""

from __future__ import annotations

import socket

from tests.airflow_compat import dagbag_module
from tests.example_dags.conftest import EXAMPLE_DAGS

ONBOARDING = "example_launchdarkly_onboarding"
TOGGLE = "example_launchdarkly_scheduled_toggle"
AS_CODE = "example_launchdarkly_destinations_as_code"
DRIFT = "example_launchdarkly_destinations_drift"


def test_every_example_imports_without_errors_or_network(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("network access at DAG parse time")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    bag = dagbag_module().DagBag(str(EXAMPLE_DAGS))
    assert bag.import_errors == {}
    files = sorted(path.name for path in EXAMPLE_DAGS.glob("example_*.py"))
    assert len(bag.dags) == len(files) == 4
    assert set(bag.dag_ids) == {ONBOARDING, TOGGLE, AS_CODE, DRIFT}
    for dag in bag.dags.values():
        assert "launchdarkly" in dag.tags


def test_onboarding_runs_end_to_end_and_reruns_without_duplicates(
    airflow_db, dagbag, emulator, ld_connection
):
    emulator.setup_delay = 1.0
    dag = dagbag.get_dag(ONBOARDING)
    run = dag.test()
    assert run.state == "success"
    state = {
        (d["kind"], d["name"], d["_links"]["self"]["href"].split("/")[5]): d["on"]
        for d in emulator.destinations
    }
    assert state == {
        ("snowflake-v2", "warehouse-export", "staging"): True,
        ("snowflake-v2", "warehouse-export", "production"): True,
        ("segment", "segment-events", "production"): True,
    }
    posts_before = len(emulator.calls_to("POST"))
    assert dag.test().state == "success"
    assert len(emulator.destinations) == 3, "a second run adopts; nothing is duplicated"
    assert [c.path for c in emulator.calls_to("POST")[posts_before:]] == [], "nothing is created twice"


def test_scheduled_toggle_turns_off_then_on(airflow_db, dagbag, emulator, ld_connection):
    created = emulator.add_destination(
        "demo-project", "production", kind="segment", name="segment-events", config={"writeKey": "w"}, on=True
    )
    dag = dagbag.get_dag(TOGGLE)
    run = dag.test(run_conf={"window_minutes": 0})
    assert run.state == "success"
    patches = [call.json() for call in emulator.calls_to("PATCH")]
    assert [p["patch"][1]["value"] for p in patches] == [False, True]
    assert [p["comment"] for p in patches] == ["Nightly export window started", "Nightly export window ended"]
    assert emulator.destinations[0]["on"] is True
    assert emulator.destinations[0]["_id"] == created["_id"]
    link = xcom_value(run, "turn_off_for_window", "_link_LaunchDarklyDestinationLink")
    assert link == f"{emulator.base_url}/settings/integrations?project=demo-project&environment=production"
    summary = xcom_value(run, "turn_on_after_window", "return_value")
    assert (summary["action"], summary["on"], summary["destination_id"]) == (
        "turned on",
        True,
        created["_id"],
    )


def xcom_value(run, task_id: str, key: str):
    """Read one XCom value of a finished ``dag.test()`` run from the metadata database."""
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session

    with create_session() as session:
        row = session.scalars(
            XComModel.get_many(run_id=run.run_id, key=key, dag_ids=run.dag_id, task_ids=task_id)
        ).first()
        return XComModel.deserialize_value(row)
