"""
The scheduled toggle never strands a destination off: the resume is a teardown that runs whatever the
window task does, restores what the pause found, and the run still fails when the window task failed.
"""

from __future__ import annotations

import pytest
from airflow.providers.standard.sensors.date_time import DateTimeSensor

from airflow_provider_ld._compat import AirflowFailException
from tests.example_dags.test_example_dags import TOGGLE, xcom_value

TARGET = {"kind": "segment", "name": "segment-events", "config": {"writeKey": "w"}}


def _states(run) -> dict[str, str]:
    return {ti.task_id: ti.state for ti in run.get_task_instances()}


@pytest.fixture
def failing_window(monkeypatch):
    """Make the window task fail (as a sensor timeout or a task marked failed would)."""

    def fail(self, context):
        raise AirflowFailException("the export window task failed")

    monkeypatch.setattr(DateTimeSensor, "poke", fail)


def test_a_failed_window_task_still_resumes_the_destination_and_fails_the_run(
    airflow_db, dagbag, emulator, ld_connection, failing_window
):
    created = emulator.add_destination("demo-project", "production", on=True, **TARGET)
    run = dagbag.get_dag(TOGGLE).test(run_conf={"window_minutes": 0})

    assert run.state == "failed", "the window task failed, so the run fails"
    assert _states(run) == {
        "turn_off_for_window": "success",
        "wait_for_window_end": "failed",
        "turn_on_after_window": "success",
    }
    assert [call.json()["patch"][1]["value"] for call in emulator.calls_to("PATCH")] == [False, True]
    assert emulator.destinations[0]["on"] is True, "export resumed"
    assert xcom_value(run, "turn_off_for_window", "return_value")["previous_on"] is True
    resumed = xcom_value(run, "turn_on_after_window", "return_value")
    assert (resumed["action"], resumed["destination_id"]) == ("turned on", created["_id"])


def test_a_destination_that_was_off_before_the_window_stays_off(airflow_db, dagbag, emulator, ld_connection):
    emulator.add_destination("demo-project", "production", on=False, **TARGET)
    run = dagbag.get_dag(TOGGLE).test(run_conf={"window_minutes": 0})

    assert run.state == "success"
    assert emulator.calls_to("PATCH") == [], "nothing to change, before or after the window"
    assert emulator.destinations[0]["on"] is False
    assert xcom_value(run, "turn_off_for_window", "return_value")["previous_on"] is False
    assert xcom_value(run, "turn_on_after_window", "return_value")["action"] == "unchanged"


def test_the_resume_is_the_teardown_of_the_pause(dagbag):
    dag = dagbag.get_dag(TOGGLE)
    pause, window, resume = (
        dag.get_task(t) for t in ("turn_off_for_window", "wait_for_window_end", "turn_on_after_window")
    )
    assert pause.is_setup and resume.is_teardown
    assert pause.task_id in resume.upstream_task_ids and window.task_id in resume.upstream_task_ids
