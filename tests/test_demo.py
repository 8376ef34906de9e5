"""The README's demo command: the onboarding DAG end to end against the emulator, secrets masked."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

DEMO = Path(__file__).resolve().parents[1] / "scripts" / "demo.py"


@pytest.mark.timeout(900)  # a whole Airflow run in a subprocess, itself bounded at 600 s
def test_demo_runs_the_onboarding_dag_end_to_end():
    result = subprocess.run(
        [sys.executable, str(DEMO)], capture_output=True, text=True, timeout=600, check=False
    )
    out = result.stdout
    assert result.returncode == 0, out[-4000:] + result.stderr[-4000:]
    assert "airflow dags test example_launchdarkly_onboarding: succeeded" in out
    assert "Deferring until LaunchDarkly snowflake-v2 destination 'warehouse-export'" in out
    for line in (
        "production  segment       segment-events    on=True",
        "staging     snowflake-v2  warehouse-export  on=True",
        "production  snowflake-v2  warehouse-export  on=True",
    ):
        assert line in out
    assert "Secrets in the task logs: none" in out
    assert "demo-SECRET-segment-write-key" not in out + result.stderr
