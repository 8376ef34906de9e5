"""
The provider on a distributed Airflow: CeleryExecutor, a Redis broker, two workers, the triggerer.

Proves the claim in ``docs/running-in-airflow.md``: tasks keep no worker-local state, so a deferred
sensor resumes on another worker, retried tasks converge without duplicates, and the ``launchdarkly``
pool bounds the API calls across workers.
"""

from __future__ import annotations

import time
from collections import Counter
from typing import Any

import pytest

from tests.e2e.deployment import poll
from tests.e2e_celery.conftest import POOL_SLOTS, TOKEN, WRITE_KEY
from tests.e2e_celery.deployment import WORKERS, CeleryDeployment

pytestmark = pytest.mark.e2e

ONBOARDING = "example_launchdarkly_onboarding"
HANDOVER = "e2e_celery_handover"
ENVIRONMENTS = [f"env-{n:02d}" for n in range(1, 21)]
SETUP_PATHS = "/api/v2/destinations/projects/*"
#: This environment's complete-setup answers one 503: its task fails once and Airflow retries it
#: (on whichever worker takes it).
FAILING_ENVIRONMENT = "env-07"


def task_instances(airflow: CeleryDeployment, dag_id: str, run_id: str) -> list[dict[str, Any]]:
    """Every task instance of a run, page by page (the API answers at most 100 at a time)."""
    path = f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances"
    found: list[dict[str, Any]] = []
    while True:
        page = airflow.api("GET", path, params={"limit": 100, "offset": len(found)})["task_instances"]
        found.extend(page)
        if len(page) < 100:
            return found


def test_a_deferred_sensor_resumes_on_the_other_worker(airflow: CeleryDeployment, emulator):
    run_id = airflow.trigger(HANDOVER)

    def deferred() -> dict[str, Any] | None:
        (ti,) = task_instances(airflow, HANDOVER, run_id)
        return ti if ti["state"] == "deferred" else None

    before = poll(
        "the sensor to defer", deferred, timeout=180, alive=airflow.check_alive, describe=airflow.logs_tail
    )
    assert before["hostname"] == "worker-a", "only worker-a consumes the handover queue at first"

    airflow.move_queue("handover", from_worker="worker-a", to_worker="worker-b")
    emulator.add_destination(
        "demo-project", "handover", kind="segment", name="handover-events", config={"writeKey": "w"}, on=False
    )

    assert airflow.wait_for_run(HANDOVER, run_id, timeout=180) == "success"
    (after,) = task_instances(airflow, HANDOVER, run_id)
    assert after["hostname"] == "worker-b", "the resumed task ran on the worker that did not defer it"
    assert after["try_number"] == 1, "resuming is not a retry"


@pytest.fixture(scope="module")
def onboarding(airflow: CeleryDeployment, emulator) -> dict[str, Any]:
    """The onboarding example over 20 environments with injected faults; what polling saw of the pool."""
    complete_path = f"/api/v2/destinations/projects/demo-project/environments/{FAILING_ENVIRONMENT}/kinds/snowflake-v2/complete-setup"
    # One 503 on this complete-setup: a POST the hook does not repeat, so the task fails and Airflow retries it.
    emulator.inject_fault("POST", complete_path, status=503, times=1)
    # Setup calls: 429s the hook waits out, 503s and lost answers (the API acted) that retried tasks recover.
    emulator.inject_fault("POST", SETUP_PATHS, status=429, retry_after=1, times=4)
    emulator.inject_fault("POST", SETUP_PATHS, status=503, times=2)
    emulator.inject_fault("POST", SETUP_PATHS, drop="after", times=2)
    pool_seen: list[dict[str, Any]] = []

    def watch_pool(_tis: list[dict[str, Any]]) -> None:
        pool_seen.append(airflow.api("GET", "/pools/launchdarkly"))

    calls_before = len(emulator.calls_to())
    started = time.monotonic()
    run_id = airflow.trigger(ONBOARDING, {"project_key": "demo-project", "environment_keys": ENVIRONMENTS})
    state = airflow.wait_for_run(ONBOARDING, run_id, timeout=900, observe=watch_pool)
    seconds = time.monotonic() - started
    airflow.timings["onboarding over 20 environments"] = seconds
    print(
        f"\nonboarding over 20 environments: {seconds:.0f} s, {len(emulator.calls_to()) - calls_before} API calls"
    )
    return {
        "state": state,
        "run_id": run_id,
        "task_instances": task_instances(airflow, ONBOARDING, run_id),
        "pool": pool_seen,
        "seconds": seconds,
    }


def test_every_task_succeeds_despite_the_faults(onboarding, emulator):
    states = Counter(ti["state"] for ti in onboarding["task_instances"])
    assert onboarding["state"] == "success", states
    # 20 environments x (setup, hand-over, complete, wait, turn on) + the environments task + 2 Segment tasks.
    assert states == {"success": 20 * 5 + 3}
    assert emulator.pending_faults == 0, "every injected fault was met"
    retried = {
        (ti["task_id"], ti["map_index"]): ti["try_number"]
        for ti in onboarding["task_instances"]
        if ti["try_number"] > 1
    }
    failing_index = ENVIRONMENTS.index(FAILING_ENVIRONMENT)
    assert retried.get(("complete_snowflake_setup", failing_index), 0) >= 2, retried


def test_exactly_one_destination_per_environment_and_name(onboarding, emulator):
    counts = Counter((d["_links"]["self"]["href"].split("/")[5], d["name"]) for d in emulator.destinations)
    expected = {(env, "warehouse-export") for env in ENVIRONMENTS} | {("production", "segment-events")}
    assert set(counts) >= expected
    assert {key: n for key, n in counts.items() if key in expected and n != 1} == {}


def test_tasks_ran_on_both_workers(onboarding):
    hostnames = Counter(ti["hostname"] for ti in onboarding["task_instances"])
    assert set(hostnames) == set(WORKERS), hostnames


def test_the_launchdarkly_pool_is_never_exceeded(onboarding):
    tis = onboarding["task_instances"]
    assert {ti["pool"] for ti in tis} == {"launchdarkly"}
    running = [p["running_slots"] for p in onboarding["pool"]]
    assert running and max(running) <= POOL_SLOTS, running
    assert max(running) == POOL_SLOTS, "the run was large enough to fill the pool"
    # Tasks that never deferred held their slot from start to end: at no instant more than POOL_SLOTS.
    spans = [
        (ti["start_date"], ti["end_date"])
        for ti in tis
        if ti["task_id"] != "wait_until_configured" and ti["start_date"] and ti["end_date"]
    ]
    edges = sorted(
        [(start, 1) for start, _ in spans] + [(end, -1) for _, end in spans], key=lambda e: (e[0], e[1])
    )
    level = peak = 0
    for _, step in edges:
        level += step
        peak = max(peak, level)
    assert peak <= POOL_SLOTS


def test_no_secret_in_any_worker_or_task_log(airflow: CeleryDeployment, onboarding):
    paths = [
        *(path for path in (airflow.home / "logs").rglob("*") if path.is_file()),
        *(airflow.home / "component-logs").glob("*.log"),
    ]
    assert any(path.name.startswith("worker-") for path in paths)
    leaks = [
        str(p)
        for p in paths
        if TOKEN in p.read_text(errors="replace") or WRITE_KEY in p.read_text(errors="replace")
    ]
    assert leaks == []
