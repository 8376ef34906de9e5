"""
The emulator's administration routes are protected: admin token, loopback ``Host`` only, loopback bind
unless explicitly allowed, tokens from the environment, and no credential-like header in the call log.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from airflow_provider_ld.testing import LaunchDarklyEmulator
from airflow_provider_ld.testing.emulator import ADMIN_TOKEN_ENV, TOKEN_ENV

ROOT = Path(__file__).resolve().parents[2]
ADMIN_ROUTES = [
    ("POST", "reset"),
    ("POST", "faults"),
    ("POST", "rate-limit"),
    ("GET", "calls"),
    ("GET", "destinations"),
]


def _admin(emulator: LaunchDarklyEmulator, method: str, action: str, **headers: str) -> requests.Response:
    with requests.Session() as session:
        session.trust_env = False
        return session.request(method, f"{emulator.base_url}/_emulator/{action}", headers=headers, timeout=5)


@pytest.mark.parametrize(("method", "action"), ADMIN_ROUTES)
@pytest.mark.parametrize("authorization", [None, "wrong", "test-token-but-longer"])
def test_admin_routes_refuse_a_missing_or_wrong_token(launchdarkly_emulator, method, action, authorization):
    launchdarkly_emulator.add_destination("proj", "prod", kind="segment", name="events")
    headers = {"Authorization": authorization} if authorization else {}
    response = _admin(launchdarkly_emulator, method, action, **headers)
    assert response.status_code == 401
    assert "admin token" in response.json()["message"]
    assert "writeKey" not in response.text
    assert len(launchdarkly_emulator.destinations) == 1, "nothing was reset"


@pytest.mark.parametrize(("method", "action"), ADMIN_ROUTES)
@pytest.mark.parametrize("host", ["evil.example.com", "evil.example.com:8765", "127.0.0.1.evil.example", ""])
def test_admin_routes_refuse_a_non_loopback_host_even_with_the_token(
    launchdarkly_emulator, method, action, host
):
    response = _admin(
        launchdarkly_emulator, method, action, Authorization=launchdarkly_emulator.admin_token, Host=host
    )
    assert response.status_code == 403
    assert response.json()["message"] == "The emulator administration routes only answer a loopback Host"


@pytest.mark.parametrize("host", ["localhost", "localhost:1", "127.0.0.1", "127.0.0.2:99", "[::1]:8765"])
def test_admin_routes_answer_the_admin_token_on_a_loopback_host(launchdarkly_emulator, host):
    response = _admin(
        launchdarkly_emulator, "GET", "calls", Authorization=launchdarkly_emulator.admin_token, Host=host
    )
    assert response.status_code == 200


def test_a_separate_admin_token_is_the_only_one_the_admin_routes_accept(launchdarkly_emulator_factory):
    emulator = launchdarkly_emulator_factory(token="api-token", admin_token="admin-token")
    assert _admin(emulator, "GET", "calls", Authorization="api-token").status_code == 401
    assert _admin(emulator, "GET", "calls", Authorization="admin-token").status_code == 200


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.10"])
def test_a_non_loopback_bind_is_refused_without_the_explicit_flag(host):
    with pytest.raises(ValueError, match="is not a loopback interface"):
        LaunchDarklyEmulator(host=host)
    emulator = LaunchDarklyEmulator(host=host, allow_remote=True)  # allowed; not started
    assert not emulator.running


def test_credential_like_headers_are_hidden_in_the_call_log(launchdarkly_emulator):
    secrets = {
        "Authorization": launchdarkly_emulator.token,
        "Cookie": "session=COOKIE-SECRET",
        "Proxy-Authorization": "Basic PROXY-SECRET",
        "X-Api-Key": "APIKEY-SECRET",
        "X-Auth-Token": "AUTH-SECRET",
        "X-Client-Secret": "CLIENT-SECRET",
    }
    with requests.Session() as session:
        session.trust_env = False
        session.get(f"{launchdarkly_emulator.base_url}/api/v2/destinations", headers=secrets, timeout=5)
    (call,) = launchdarkly_emulator.calls
    for name in secrets:
        assert call.headers[name.lower()] == "<redacted>"
    admin_view = _admin(
        launchdarkly_emulator, "GET", "calls", Authorization=launchdarkly_emulator.admin_token
    )
    for value in secrets.values():
        assert value not in admin_view.text
    assert call.headers["user-agent"].startswith("python-requests/"), "other headers stay readable"


def _cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "airflow_provider_ld.testing.emulator", "--port", "0", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=30,
        check=False,
        env={k: v for k, v in os.environ.items() if k not in (TOKEN_ENV, ADMIN_TOKEN_ENV)} | env,
    )


def test_cli_refuses_a_non_loopback_bind_without_allow_remote():
    result = _cli("--host", "0.0.0.0", env={TOKEN_ENV: "t"})
    assert result.returncode == 2
    assert "--host 0.0.0.0 is not a loopback interface; add --allow-remote" in result.stderr


def test_cli_reads_the_token_from_the_environment():
    process = subprocess.Popen(
        [sys.executable, "-m", "airflow_provider_ld.testing.emulator", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env={k: v for k, v in os.environ.items() if k != ADMIN_TOKEN_ENV} | {TOKEN_ENV: "env-token"},
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        base_url = line.strip().rsplit(" ", 1)[-1]
        assert base_url.startswith("http://127.0.0.1:"), line
        with requests.Session() as session:
            session.trust_env = False
            identity = session.get(
                f"{base_url}/api/v2/caller-identity", headers={"Authorization": "env-token"}, timeout=5
            )
            assert identity.status_code == 200
            calls = session.get(
                f"{base_url}/_emulator/calls", headers={"Authorization": "env-token"}, timeout=5
            )
            assert calls.status_code == 200
    finally:
        process.terminate()
        process.communicate(timeout=10)
