"""The ``ld-destinations`` command line: exit codes, token handling, export, and no secret on the terminal."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys

import pytest
import yaml

from airflow_provider_ld.fleet.cli import main
from airflow_provider_ld.fleet.manifest import load_manifest
from tests.fleet.conftest import WRITE_KEY, fleet_manifest


@pytest.fixture
def manifest_file(tmp_path):
    path = tmp_path / "destinations.yaml"
    path.write_text(yaml.safe_dump(fleet_manifest(), sort_keys=False))
    return path


@pytest.fixture
def cli(emulator, monkeypatch, segment_key):
    """Run ``main(argv)`` against the emulator with the token in the environment; return (code, out, err)."""
    monkeypatch.setenv("LAUNCHDARKLY_API_TOKEN", emulator.token)

    def run(*argv: str) -> tuple[int, str, str]:
        out, err = io.StringIO(), io.StringIO()
        code = main(
            [*argv[:1], *argv[1:], "--base-url", emulator.base_url] if argv[0] != "schema" else list(argv),
            stdout=out,
            stderr=err,
        )
        return code, out.getvalue(), err.getvalue()

    return run


def test_plan_exits_2_with_changes_apply_then_plan_exits_0(cli, emulator, manifest_file, tmp_path):
    code, out, err = cli("plan", str(manifest_file))
    assert (code, err) == (2, "")
    assert "Plan: 12 to create, 0 to update, 0 to delete; 0 unchanged, 0 in conflict." in out
    assert [(c.method, c.path) for c in emulator.calls_to()] == [("GET", "/api/v2/destinations")]
    code, out, _ = cli("apply", str(manifest_file), "--json")
    assert code == 0 and json.loads(out)["summary"] == {"created": 12}
    code, out, _ = cli("plan", str(manifest_file), "--json")
    assert code == 0 and json.loads(out)["summary"]["unchanged"] == 12
    assert WRITE_KEY not in out


def test_apply_of_a_saved_plan_applies_it_and_fails_with_exit_1_when_a_change_is_refused(
    cli, emulator, manifest_file, tmp_path
):
    saved = tmp_path / "plan.json"
    code, out, _ = cli("plan", str(manifest_file), "--json")
    assert code == 2
    saved.write_text(out)  # what `ld-destinations plan --json > plan.json` saves
    emulator.add_destination(
        "web", "production", kind="segment", name="Segment", config={"writeKey": "x" * 20}
    )
    code, out, err = cli("apply", str(manifest_file), "--plan", str(saved))
    assert code == 1
    assert "refused" in out and "a destination with this kind and name now exists" in err
    assert len(emulator.destinations) == 12, "the other 11 creates went through; the moved one was refused"


def test_errors_exit_1_before_any_request(cli, emulator, tmp_path, monkeypatch):
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "destinations: [{name: x, kind: segment, targets: [{project: 'a b', environments: [p]}]}]\n"
    )
    code, _, err = cli("plan", str(bad))
    assert code == 1 and "destinations[0].targets[0].project: 'a b' may only contain" in err
    monkeypatch.delenv("LAUNCHDARKLY_API_TOKEN")
    code, _, err = cli("plan", str(bad))
    assert code == 1
    code, _, err = (
        main(["export", "--project", "web"], stdout=io.StringIO(), stderr=(stream := io.StringIO())),
        None,
        None,
    )
    assert code == 1 and "set LAUNCHDARKLY_API_TOKEN" in stream.getvalue()
    assert emulator.calls_to() == []


def test_plain_http_is_refused_for_a_remote_base_url(monkeypatch, manifest_file):
    monkeypatch.setenv("LAUNCHDARKLY_API_TOKEN", "api-secret-token-value")
    err = io.StringIO()
    code = main(
        ["plan", str(manifest_file), "--base-url", "http://example.com"], stdout=io.StringIO(), stderr=err
    )
    assert code == 1
    assert "--base-url: plain http:// is only allowed for loopback hosts" in err.getvalue()
    assert "api-secret-token-value" not in err.getvalue()


def test_usage_errors_exit_1_not_2(capsys):
    with pytest.raises(SystemExit) as caught:
        main(["plan"])
    assert caught.value.code == 1


def test_export_writes_a_manifest_that_plans_as_unchanged(cli, emulator, tmp_path, monkeypatch):
    for env in ("production", "staging"):
        emulator.add_destination(
            "web", env, kind="segment", name="Segment", config={"writeKey": "k" * 24}, on=True
        )
    emulator.add_destination(
        "web", "production", kind="google-pubsub", name="Events", config={"project": "g", "topic": "t"}
    )
    emulator.add_destination(
        "mobile", "production", kind="google-pubsub", name="Events", config={"project": "g", "topic": "t"}
    )
    code, out, _ = cli("export", "--project", "web")
    assert code == 0
    exported = yaml.safe_load(out)
    assert exported == {
        "destinations": [
            {
                "name": "Events",
                "kind": "google-pubsub",
                "on": False,
                "config": {"project": "g", "topic": "t"},
                "targets": [{"project": "web", "environments": ["production"]}],
            },
            {
                "name": "Segment",
                "kind": "segment",
                "on": True,
                "config": {"writeKey": {"from_env": "LD_SEGMENT_SEGMENT_WRITEKEY"}},
                "targets": [{"project": "web", "environments": ["production", "staging"]}],
            },
        ]
    }
    assert "k" * 24 not in out and "kkk****" not in out
    path = tmp_path / "exported.yaml"
    path.write_text(out)
    load_manifest(path)  # the export is a valid manifest
    monkeypatch.setenv("LD_SEGMENT_SEGMENT_WRITEKEY", "k" * 24)
    code, plan_out, _ = cli("plan", str(path), "--prune")
    assert code == 0, plan_out
    code, out, _ = cli("export", "--project", "web", "--environment", "staging", "--json")
    assert [d["targets"] for d in json.loads(out)["destinations"]] == [
        [{"project": "web", "environments": ["staging"]}]
    ]


def test_schema_command_prints_the_published_schema(cli):
    from airflow_provider_ld.fleet.manifest import SCHEMA_PATH

    code, out, _ = cli("schema")
    assert code == 0 and out == SCHEMA_PATH.read_text()


def test_console_script_and_module_run_in_a_fresh_process(emulator, manifest_file, segment_key):
    env = {**os.environ, "LAUNCHDARKLY_API_TOKEN": emulator.token}
    script = os.path.join(os.path.dirname(sys.executable), "ld-destinations")
    for command in ([script], [sys.executable, "-m", "airflow_provider_ld.fleet"]):
        result = subprocess.run(
            [*command, "plan", str(manifest_file), "--base-url", emulator.base_url, "--json"],
            check=False,
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
        )
        assert result.returncode == 2, result.stderr
        assert json.loads(result.stdout)["summary"]["create"] == 12
        assert emulator.token not in result.stdout + result.stderr
