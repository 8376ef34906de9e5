"""An Airflow metadata database (SQLite in the test AIRFLOW_HOME) for ``dag.test()`` runs."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.hooks.conftest import emulator, ld_connection  # noqa: F401  (shared fixtures)

EXAMPLE_DAGS = Path(__file__).resolve().parents[2] / "example_dags"


@pytest.fixture(scope="session")
def airflow_db():
    """Create the metadata database once per test session."""
    airflow = str(Path(sys.executable).parent / "airflow")
    result = subprocess.run([airflow, "db", "migrate"], capture_output=True, text=True, env=dict(os.environ))
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.fixture
def dagbag():
    """The example DAGs, parsed."""
    try:
        from airflow.dag_processing.dagbag import DagBag
    except ImportError:  # Airflow before 3.2
        from airflow.models.dagbag import DagBag

    return DagBag(str(EXAMPLE_DAGS))
