"""The command-line entry point and the pytest plugin."""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]
PREFIX = "LaunchDarkly API emulator listening on "


def _read_line(stream, timeout: float) -> str:
    """Read one line from a pipe without risking a hang."""
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: lines.put(stream.readline()), daemon=True).start()
    return lines.get(timeout=timeout)


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_cli_serves_until_signal(sig):
    process = subprocess.Popen(
        [sys.executable, "-m", "airflow_provider_ld.testing.emulator", "--port", "0", "--token", "cli-token"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONWARNINGS": "error::RuntimeWarning"},
    )
    try:
        line = _read_line(process.stdout, timeout=30)
        assert line.startswith(PREFIX), line
        base_url = line[len(PREFIX) :].strip()
        assert base_url.startswith("http://127.0.0.1:") and not base_url.endswith(":0")
        response = requests.get(
            f"{base_url}/api/v2/caller-identity", headers={"Authorization": "cli-token"}, timeout=5
        )
        assert response.status_code == 200
        assert response.json()["tokenKind"] == "service"
        process.send_signal(sig)
        _, stderr = process.communicate(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0
    assert "Traceback" not in stderr
    assert stderr.strip() == ""


def test_cli_requires_token():
    result = subprocess.run(
        [sys.executable, "-m", "airflow_provider_ld.testing.emulator", "--port", "0"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=30,
        check=False,
    )
    assert result.returncode == 2
    assert "--token" in result.stderr


def test_plugin_fixture_via_entry_point(tmp_path):
    test_file = tmp_path / "test_uses_fixture.py"
    test_file.write_text(
        textwrap.dedent(
            """
            import requests

            seen = []

            def test_fixture_is_running(launchdarkly_emulator):
                seen.append(launchdarkly_emulator)
                assert launchdarkly_emulator.token == "test-token"
                response = requests.get(
                    launchdarkly_emulator.base_url + "/api/v2/caller-identity",
                    headers={"Authorization": "test-token"},
                    timeout=5,
                )
                assert response.status_code == 200

            def test_fixture_was_stopped():
                assert seen and not seen[0].running
            """
        )
    )
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "--rootdir",
            str(tmp_path),
            str(test_file),
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 passed" in result.stdout


def test_package_import_is_light():
    heavy = ("airflow_provider_ld.testing.emulator", "jsonpatch", "requests", "airflow")
    code = (
        "import sys, airflow_provider_ld.testing, airflow_provider_ld.testing.pytest_plugin;"
        f"print([m for m in {heavy!r} if m in sys.modules])"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60, check=False
    )
    assert result.stdout.strip() == "[]", result.stdout + result.stderr
