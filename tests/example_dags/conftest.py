"""An Airflow metadata database (SQLite in the test AIRFLOW_HOME) for ``dag.test()`` runs."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.airflow_compat import dagbag_module, sync_to_db
from tests.hooks.conftest import emulator, ld_connection  # noqa: F401  (shared fixtures)

EXAMPLE_DAGS = Path(__file__).resolve().parents[2] / "example_dags"


@pytest.fixture(scope="session")
def airflow_db():
    """Create the metadata database once per test session."""
    airflow = str(Path(sys.executable).parent / "airflow")
    result = subprocess.run(
        [airflow, "db", "migrate"], capture_output=True, text=True, env=dict(os.environ), check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.fixture
def dagbag(airflow_db):
    """The example DAGs, parsed and serialised into the metadata database (as the DAG processor would)."""
    bag = dagbag_module().DagBag(str(EXAMPLE_DAGS))
    sync_to_db(bag)
    return bag
