"""The plain input checks: importable without pydantic, and in step with the config models."""

from __future__ import annotations

import subprocess
import sys

from airflow_provider_ld import checks
from airflow_provider_ld.models import configs


def test_the_kind_lists_match_the_config_models():
    assert checks.DESTINATION_KINDS == tuple(sorted(configs.CONFIG_MODELS))
    assert configs.KNOWN_KINDS == tuple(sorted({*checks.DESTINATION_KINDS, *checks.WAREHOUSE_KINDS}))


def test_the_checks_and_the_destination_reference_import_no_pydantic():
    # Airflow itself loads pydantic; what matters is what these two modules add on top of the error classes.
    probe = (
        "import sys; import airflow_provider_ld.exceptions; before = set(sys.modules); "
        "import airflow_provider_ld.checks, airflow_provider_ld.destination_ref; "
        "print(sorted(set(sys.modules) - before))"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    added = done.stdout.strip().splitlines()[-1]
    assert added == "['airflow_provider_ld.checks', 'airflow_provider_ld.destination_ref']", added
