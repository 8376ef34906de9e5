"""
Fixtures for the CeleryExecutor end-to-end suite (``make e2e-celery``, which installs Redis first).

The suite needs ``redis-server``, so ``make test`` does not collect it; ``make e2e-celery`` runs it with
``E2E_CELERY=1``. One Redis, one deployment (two Celery workers) and one emulator serve the whole package.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_ld.testing import LaunchDarklyEmulator
from tests.e2e_celery.deployment import CeleryDeployment, RedisServer

if os.environ.get("E2E_CELERY") != "1":
    collect_ignore_glob = ["test_*.py"]

ROOT = Path(__file__).resolve().parents[2]
DAGS = [
    ROOT / "example_dags" / "example_launchdarkly_onboarding.py",
    *(Path(__file__).parent / "dags").glob("*.py"),
]
TOKEN = "api-celery-e2e-8c3f1d7b-token"
WRITE_KEY = "celery-write-key-7b3e9a51"
POOL_SLOTS = 4
#: Long enough that every environment's sensor finds nothing at first and defers to the triggerer.
SETUP_DELAY = 8.0


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "e2e: starts a real Airflow deployment (a few minutes); deselect with -m 'not e2e'"
    )


@pytest.fixture(scope="package")
def emulator() -> Any:
    """The LaunchDarkly API for every component, served from this process."""
    with LaunchDarklyEmulator(token=TOKEN, setup_delay=SETUP_DELAY) as emulator:
        yield emulator


@pytest.fixture(scope="package")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """A private Redis: the Celery broker and result backend."""
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    try:
        server.start()
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="package")
def airflow(tmp_path_factory: pytest.TempPathFactory, redis_server: RedisServer, emulator) -> Any:
    """
    Airflow 3 with the CeleryExecutor, two workers, the triggerer, scheduler, DAG processor and API server.

    The ``launchdarkly`` pool, the connection and the Segment write key Variable are created over REST.
    """
    home = tmp_path_factory.mktemp("airflow-celery-home")
    dags = home / "dags"
    dags.mkdir()
    for source in DAGS:
        shutil.copy(source, dags / source.name)
    deployment = CeleryDeployment(home=home, dags_folder=dags, parallelism=8, broker_url=redis_server.url)
    try:
        deployment.start(timeout=240)
        deployment.wait_dags_parsed(["example_launchdarkly_onboarding", "e2e_celery_handover"], timeout=120)
        deployment.api(
            "POST",
            "/pools",
            expect=201,
            json={"name": "launchdarkly", "slots": POOL_SLOTS, "description": "LD API"},
        )
        deployment.api(
            "POST",
            "/connections",
            expect=201,
            json={
                "connection_id": "launchdarkly_default",
                "conn_type": "launchdarkly",
                "host": emulator.base_url,
                "password": TOKEN,
                "extra": json.dumps({"timeout": 10, "max_retries": 3, "max_retry_wait": 1}),
            },
        )
        deployment.api(
            "POST",
            "/variables",
            expect=201,
            json={"key": "launchdarkly_segment_write_key", "value": WRITE_KEY},
        )
        yield deployment
    finally:
        deployment.stop()
        timings = ", ".join(f"{name} {seconds:.0f} s" for name, seconds in deployment.timings.items())
        print(f"\nCelery e2e deployment in {home} ({timings}); component logs in {home / 'component-logs'}")
