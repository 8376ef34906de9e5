"""The package as Airflow sees it: provider discovery, the connection type, and the CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from airflow_provider_ld import __version__
from airflow_provider_ld.get_provider_info import get_provider_info
from tests.airflow_compat import task_runtime_hooks
from tests.hooks.conftest import connection_json

AIRFLOW = str(Path(sys.executable).parent / "airflow")


def run_airflow(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [AIRFLOW, *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **(env or {})},
        check=False,
    )


def test_provider_info_shape():
    info = get_provider_info()
    assert info["package-name"] == "airflow-provider-launchdarkly"
    assert info["versions"] == [__version__]
    (connection_type,) = info["connection-types"]
    assert connection_type["connection-type"] == "launchdarkly"
    assert connection_type["hook-class-name"] == "airflow_provider_ld.hooks.launchdarkly.LaunchDarklyHook"
    assert set(connection_type["conn-fields"]) == {"api_version", "timeout", "max_retries", "max_retry_wait"}
    assert {"schema", "port", "login"} <= set(connection_type["ui-field-behaviour"]["hidden-fields"])


def test_providers_manager_discovers_hook_and_form():
    from airflow.providers_manager import ProvidersManager

    manager = ProvidersManager()
    assert manager.providers["airflow-provider-launchdarkly"].version == __version__
    hook_info = task_runtime_hooks()["launchdarkly"]
    assert hook_info.hook_class_name == "airflow_provider_ld.hooks.launchdarkly.LaunchDarklyHook"
    assert hook_info.connection_id_attribute_name == "launchdarkly_conn_id"
    behaviour = manager.field_behaviours["launchdarkly"]
    assert behaviour["relabeling"]["password"] == "API access token"
    widgets = {name.rsplit("__", 1)[-1] for name in manager.connection_form_widgets if "launchdarkly" in name}
    assert widgets == {"api_version", "timeout", "max_retries", "max_retry_wait"}


def test_airflow_cli_lists_the_provider():
    result = run_airflow("providers", "list", "--output", "json")
    assert result.returncode == 0, result.stderr
    listing = next(line for line in result.stdout.splitlines() if line.startswith("[{"))
    providers = {item["package_name"]: item for item in json.loads(listing)}
    assert providers["airflow-provider-launchdarkly"]["version"] == __version__


def test_airflow_cli_tests_the_connection_against_the_emulator(launchdarkly_emulator):
    env = {
        "AIRFLOW__CORE__TEST_CONNECTION": "Enabled",
        "AIRFLOW_CONN_LAUNCHDARKLY_DEFAULT": connection_json(launchdarkly_emulator.base_url),
    }
    result = run_airflow("connections", "test", "launchdarkly_default", env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Connection success!" in result.stdout
    assert "test-token" not in result.stdout + result.stderr
    assert len(launchdarkly_emulator.calls_to("GET", "/api/v2/caller-identity")) == 1


def test_airflow_cli_reports_a_refused_token(launchdarkly_emulator):
    env = {
        "AIRFLOW__CORE__TEST_CONNECTION": "Enabled",
        "AIRFLOW_CONN_LAUNCHDARKLY_DEFAULT": connection_json(
            launchdarkly_emulator.base_url, token="wrong-token-zz"
        ),
    }
    result = run_airflow("connections", "test", "launchdarkly_default", env=env)
    output = result.stdout + result.stderr
    assert "Connection failed!" in output
    assert "401 unauthorized" in output
    assert "wrong-token-zz" not in output


def test_provider_info_modules_and_links_import():
    import importlib

    info = get_provider_info()
    for section in ("operators", "sensors", "triggers", "hooks"):
        for entry in info[section]:
            for module in entry["python-modules"]:
                importlib.import_module(module)
    for path in info["extra-links"]:
        module, _, name = path.rpartition(".")
        link = getattr(importlib.import_module(module), name)()
        assert link.name == "LaunchDarkly destination"


def test_providers_manager_registers_the_extra_link():
    from airflow.providers_manager import ProvidersManager

    assert (
        "airflow_provider_ld.links.LaunchDarklyDestinationLink" in ProvidersManager().extra_links_class_names
    )
