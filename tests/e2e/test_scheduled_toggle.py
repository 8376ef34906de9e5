"""
The scheduled toggle example in a real deployment: when the window task fails in the middle of the
window, the resume (a teardown) still runs and turns export back on, and the run fails.
"""

from __future__ import annotations

import pytest

from tests.e2e.conftest import ObservedRun
from tests.e2e.deployment import AirflowDeployment, poll

pytestmark = pytest.mark.e2e

TOGGLE = "example_launchdarkly_scheduled_toggle"
#: The example's default params: the nightly run the scheduler starts on unpause uses them.
PROJECT, ENVIRONMENT, NAME = "demo-project", "production", "segment-events"


def test_failing_the_window_task_still_resumes_export_and_fails_the_run(
    airflow: AirflowDeployment, connections, emulator
):
    existing = [
        d
        for d in emulator.destinations
        if d["name"] == NAME
        and d["kind"] == "segment"
        and f"/{PROJECT}/{ENVIRONMENT}/" in d["_links"]["self"]["href"]
    ]
    if existing:  # the onboarding example created it already: it must be on before the window
        assert existing[0]["on"] is True
        destination_id = existing[0]["_id"]
    else:
        destination_id = emulator.add_destination(
            PROJECT, ENVIRONMENT, kind="segment", name=NAME, config={"writeKey": "w"}, on=True
        )["_id"]
    airflow.wait_dags_parsed([TOGGLE])
    # Unpausing makes the scheduler start the latest nightly run (window_minutes=120): that run is tested.
    airflow.api("PATCH", f"/dags/{TOGGLE}", json={"is_paused": False})
    (run,) = poll(
        "the nightly run the scheduler starts on unpause",
        lambda: airflow.api("GET", f"/dags/{TOGGLE}/dagRuns")["dag_runs"] or None,
        timeout=60,
        alive=airflow.check_alive,
    )
    run_id = run["dag_run_id"]
    observed = ObservedRun(TOGGLE, run_id, "", 0.0, [])

    def destination_on() -> bool:
        return next(d for d in emulator.destinations if d["_id"] == destination_id)["on"]

    def window_open() -> bool:
        observed.observe(airflow.task_instances(TOGGLE, run_id))
        states = {ti["task_id"]: ti["state"] for ti in airflow.task_instances(TOGGLE, run_id)}
        return states.get("wait_for_window_end") == "up_for_reschedule" and not destination_on()

    poll(
        "the window to open (export off, sensor waiting)",
        window_open,
        timeout=120,
        alive=airflow.check_alive,
        describe=lambda: str(dict(observed.states)),
    )
    # The middle task fails (as a timeout, a crash or an operator marking it failed would make it).
    airflow.api(
        "PATCH",
        f"/dags/{TOGGLE}/dagRuns/{run_id}/taskInstances/wait_for_window_end",
        json={"new_state": "failed"},
    )
    observed.state = airflow.wait_for_run(TOGGLE, run_id, timeout=120, observe=observed.observe)
    airflow.api("PATCH", f"/dags/{TOGGLE}", json={"is_paused": True})

    assert observed.state == "failed", "the window task failed, so the run fails"
    final = {ti["task_id"]: ti["state"] for ti in airflow.task_instances(TOGGLE, run_id)}
    assert final == {
        "turn_off_for_window": "success",
        "wait_for_window_end": "failed",
        "turn_on_after_window": "success",
    }
    assert destination_on() is True, "export resumed although the window task failed"
    path = f"/api/v2/destinations/{PROJECT}/{ENVIRONMENT}/{destination_id}"
    # The run's two PATCHes (the onboarding example may have patched this destination before).
    pause_patch, resume_patch = (call.json() for call in emulator.calls_to("PATCH", path)[-2:])
    assert (pause_patch["comment"], pause_patch["patch"][-1]["value"]) == (
        "Nightly export window started",
        False,
    )
    assert (resume_patch["comment"], resume_patch["patch"][-1]["value"]) == (
        "Nightly export window ended",
        True,
    )
