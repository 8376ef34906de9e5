"""Test-wide Airflow settings: a throw-away AIRFLOW_HOME, no examples, unit-test mode."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

_AIRFLOW_HOME = tempfile.mkdtemp(prefix="ld-provider-airflow-home-")
os.environ["AIRFLOW_HOME"] = _AIRFLOW_HOME
os.environ["AIRFLOW__CORE__UNIT_TEST_MODE"] = "True"
os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
os.environ["AIRFLOW__CORE__TEST_CONNECTION"] = "Enabled"
os.environ["AIRFLOW__CORE__DAGS_FOLDER"] = str(Path(__file__).resolve().parents[1] / "example_dags")
os.environ.pop("AIRFLOW_CONN_LAUNCHDARKLY_DEFAULT", None)

import pytest

TOKEN = "api-test-token-4f1c2e9a"


@pytest.fixture
def fake_sleep():
    """A ``sleep`` that records the waits instead of sleeping."""

    class FakeSleep:
        def __init__(self) -> None:
            self.waits: list[float] = []

        def __call__(self, seconds: float) -> None:
            self.waits.append(seconds)

    return FakeSleep()
