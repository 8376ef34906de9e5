"""
Fixtures for the end-to-end tests: one real Airflow 3 deployment and one emulator for the whole package.

Deselect these tests locally with ``-m "not e2e"``; they take a few minutes.
"""

from __future__ import annotations

import json
import shutil
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_ld.testing import LaunchDarklyEmulator
from tests.e2e.deployment import AirflowDeployment

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE_DAGS = ROOT / "example_dags"
E2E_DAGS = Path(__file__).resolve().parent / "dags"

#: A distinctive token, so a leak into any log file is easy to find.
TOKEN = "api-e2e-5d1c7a2f-token"
REFUSED_TOKEN = "api-e2e-refused-9e4b"
#: Seconds after complete-setup before the emulator shows the warehouse destination: long enough that
#: the onboarding sensor's first (synchronous) check finds nothing and it must defer to the triggerer.
SETUP_DELAY = 15.0

ONBOARDING = "example_launchdarkly_onboarding"
RESCHEDULE = "e2e_launchdarkly_reschedule"
FAILURES = "e2e_launchdarkly_failures"
LAUNCHDARKLY_POOL = "launchdarkly"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "e2e: starts a real Airflow deployment (a few minutes); deselect with -m 'not e2e'"
    )


@pytest.fixture(scope="package")
def emulator() -> Any:
    """The LaunchDarkly API for every component of the deployment, served from this process."""
    with LaunchDarklyEmulator(token=TOKEN, setup_delay=SETUP_DELAY) as emulator:
        yield emulator


@pytest.fixture(scope="package")
def airflow(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """
    Airflow 3 (api-server, scheduler, dag-processor, triggerer; LocalExecutor on SQLite), started once.

    Its DAGs folder holds the example DAGs and the e2e test DAGs. Every component is stopped at the
    end, also when a test or the start failed; the component logs stay in the temporary home.
    """
    home = tmp_path_factory.mktemp("airflow-home")
    dags = home / "dags"
    dags.mkdir()
    for source in [*EXAMPLE_DAGS.glob("*.py"), *E2E_DAGS.glob("*.py")]:
        shutil.copy(source, dags / source.name)
    deployment = AirflowDeployment(home=home, dags_folder=dags, parallelism=4)
    try:
        deployment.start(timeout=240)
        deployment.wait_dags_parsed([ONBOARDING, RESCHEDULE, FAILURES], timeout=120)
        yield deployment
    finally:
        deployment.stop()
        timings = ", ".join(f"{name} {seconds:.0f} s" for name, seconds in deployment.timings.items())
        print(f"\nAirflow e2e deployment in {home} ({timings}); component logs in {home / 'component-logs'}")


@pytest.fixture(scope="package")
def connections(airflow: AirflowDeployment, emulator: LaunchDarklyEmulator) -> dict[str, str]:
    """
    Create the DAGs' connections and the ``launchdarkly`` pool through the REST API, as an operator would.

    ``launchdarkly_default`` points at the emulator with its token; ``launchdarkly_refused`` has a token
    the emulator refuses. The example DAGs run their tasks in the ``launchdarkly`` pool.
    """
    airflow.api(
        "POST",
        "/pools",
        expect=201,
        json={"name": LAUNCHDARKLY_POOL, "slots": 4, "description": "LaunchDarkly API calls"},
    )
    for conn_id, token in (("launchdarkly_default", TOKEN), ("launchdarkly_refused", REFUSED_TOKEN)):
        airflow.api(
            "POST",
            "/connections",
            expect=201,
            json={
                "connection_id": conn_id,
                "conn_type": "launchdarkly",
                "host": emulator.base_url,
                "password": token,
                "extra": json.dumps({"timeout": 10}),
            },
        )
    return {"default": "launchdarkly_default", "refused": "launchdarkly_refused"}


@dataclass
class ObservedRun:
    """A finished DAG run and what polling saw while it ran."""

    dag_id: str
    run_id: str
    state: str
    seconds: float
    task_instances: list[dict[str, Any]]
    #: Every state each (task_id, map_index) was seen in, in order.
    states: dict[tuple[str, int], list[str]] = field(default_factory=lambda: defaultdict(list))
    #: The trigger each (task_id, map_index) had while deferred (with the id of the triggerer running it).
    deferrals: dict[tuple[str, int], dict[str, Any]] = field(default_factory=dict)

    def ti(self, task_id: str, map_index: int = -1) -> dict[str, Any]:
        """The final task instance."""
        return next(t for t in self.task_instances if t["task_id"] == task_id and t["map_index"] == map_index)

    def observe(self, task_instances: list[dict[str, Any]]) -> None:
        """Record the states and deferral details of one poll."""
        for ti in task_instances:
            key = (ti["task_id"], ti["map_index"])
            seen = self.states[key]
            if ti["state"] and (not seen or seen[-1] != ti["state"]):
                seen.append(ti["state"])
            # While deferred, keep the last sighting that names the triggerer running it (once one has it).
            trigger = ti.get("trigger") if ti["state"] == "deferred" else None
            if trigger and (trigger.get("triggerer_id") is not None or key not in self.deferrals):
                self.deferrals[key] = {"trigger": trigger}


def run_and_observe(
    airflow: AirflowDeployment, dag_id: str, conf: dict[str, Any] | None = None, *, timeout: float
) -> ObservedRun:
    """Trigger ``dag_id`` and poll it (every 0.5 s) until it finishes, recording what it went through."""
    started = time.monotonic()
    run_id = airflow.trigger(dag_id, conf)
    observed = ObservedRun(dag_id, run_id, "", 0.0, [])
    observed.state = airflow.wait_for_run(dag_id, run_id, timeout=timeout, observe=observed.observe)
    observed.seconds = time.monotonic() - started
    observed.task_instances = airflow.task_instances(dag_id, run_id)
    airflow.timings[f"run {dag_id}"] = observed.seconds
    return observed


@pytest.fixture(scope="package")
def onboarding_run(airflow: AirflowDeployment, connections: dict[str, str]) -> ObservedRun:
    """The onboarding example, triggered over REST for two environments and awaited."""
    return run_and_observe(
        airflow,
        ONBOARDING,
        {"project_key": "demo-project", "environment_keys": ["staging", "production"]},
        timeout=240,
    )
