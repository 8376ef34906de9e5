"""The manifest is checked before any request, with errors that name their place and never echo secrets."""

from __future__ import annotations

import json

import pytest

from airflow_provider_ld.exceptions import LaunchDarklyValidationError
from airflow_provider_ld.fleet.manifest import SCHEMA_PATH, load_manifest, render_json_schema, resolve_config
from tests.fleet.conftest import fleet_manifest

YAML = """
destinations:
  - name: Product events
    kind: google-pubsub
    on: true
    config: {project: gcp-analytics, topic: ld-events}
    targets:
      - project: web
        environments: [production, staging]
      - project: mobile
        environments: [production]
        config: {topic: ld-mobile-events}     # per-target override
  - name: Segment
    kind: segment
    config: {writeKey: {from_env: SEGMENT_WRITE_KEY}}
    targets: [{project: web, environments: [production]}]
"""


def test_yaml_manifest_expands_to_one_entry_per_environment_with_overrides(tmp_path):
    path = tmp_path / "destinations.yaml"
    path.write_text(YAML)
    loaded = load_manifest(path)
    assert [
        (e.project_key, e.environment_key, e.kind, e.on, e.config.get("topic")) for e in loaded.entries
    ] == [
        ("web", "production", "google-pubsub", True, "ld-events"),
        ("web", "staging", "google-pubsub", True, "ld-events"),
        ("mobile", "production", "google-pubsub", True, "ld-mobile-events"),
        ("web", "production", "segment", False, None),
    ]
    assert loaded.entries[3].config == {"writeKey": {"from_env": "SEGMENT_WRITE_KEY"}}
    assert loaded.scope == {("web", "production"), ("web", "staging"), ("mobile", "production")}


def _with(**changes):
    manifest = fleet_manifest()
    destination = manifest["destinations"][1]
    destination.update(changes)
    return manifest


@pytest.mark.parametrize(
    ("manifest", "message"),
    [
        (
            _with(targets=[{"project": "w b", "environments": ["production"]}]),
            "destinations[1].targets[0].project: 'w b' may only contain",
        ),
        (
            _with(targets=[{"project": "web", "environments": []}]),
            "destinations[1].targets[0].environments: ",
        ),
        (
            _with(targets=[{"project": "web", "environments": ["p", "p"]}]),
            "destinations[1].targets[0].environments: ",
        ),
        (
            _with(kind="segmnt"),
            "destinations[1].kind: 'segmnt' is not a supported destination kind; allowed values: ",
        ),
        (_with(config={}), "destinations[1].targets[0].config.writeKey: required for kind 'segment'"),
        (
            _with(config={"writeKey": {"from_env": ""}}),
            "destinations[1].targets[0].config.writeKey: a secret reference is",
        ),
        (_with(colour="blue"), "destinations[1].colour: is not a manifest field"),
        (_with(targets=[]), "destinations[1].targets: "),
        ({"destinations": [{"kind": "segment", "targets": []}]}, "destinations[0].name: is required"),
        ([], "manifest: must be an object"),
    ],
)
def test_bad_manifests_name_the_place(manifest, message):
    with pytest.raises(LaunchDarklyValidationError) as caught:
        load_manifest(manifest)
    assert str(caught.value).startswith(message), str(caught.value)


def test_an_environment_declared_twice_is_refused():
    manifest = fleet_manifest()
    manifest["destinations"].append(
        dict(manifest["destinations"][1], targets=[{"project": "web", "environments": ["production"]}])
    )
    with pytest.raises(
        LaunchDarklyValidationError,
        match=r"destinations\[2\].targets\[0\]: segment destination 'Segment' in web/production is already declared at destinations\[1\].targets\[0\]",
    ):
        load_manifest(manifest)


def test_a_secret_written_in_clear_is_not_echoed_by_an_error():
    manifest = _with(config={"writeKey": "clear-secret-value-123", "colour": 1})
    with pytest.raises(LaunchDarklyValidationError) as caught:
        load_manifest(manifest)
    assert "clear-secret-value-123" not in str(caught.value)
    assert "config.colour" in str(caught.value)


def test_yaml_on_is_a_key_and_only_true_false_are_booleans(tmp_path):
    path = tmp_path / "m.yaml"
    path.write_text(
        "destinations:\n  - {name: yes, kind: google-pubsub, on: true, config: {project: no, topic: t},"
        " targets: [{project: web, environments: [on]}]}\n"
    )
    (entry,) = load_manifest(path).entries
    assert (entry.name, entry.on, entry.config["project"], entry.environment_key) == ("yes", True, "no", "on")


def test_unreadable_and_malformed_files_are_validation_errors(tmp_path):
    with pytest.raises(LaunchDarklyValidationError, match="manifest: cannot read"):
        load_manifest(tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("destinations: [\n")
    with pytest.raises(LaunchDarklyValidationError, match="is not valid YAML"):
        load_manifest(bad)


def test_secret_references_resolve_only_on_demand_and_missing_ones_name_the_variable(monkeypatch):
    monkeypatch.delenv("SEGMENT_WRITE_KEY", raising=False)
    entry = load_manifest(fleet_manifest()).entries[-1]  # loading needs no secret
    with pytest.raises(
        LaunchDarklyValidationError,
        match=r"config.writeKey: the environment variable 'SEGMENT_WRITE_KEY' is not set",
    ):
        resolve_config(entry.config, entry.place)
    monkeypatch.setenv("SEGMENT_WRITE_KEY", "k-123456")
    assert resolve_config(entry.config, entry.place) == {"writeKey": "k-123456"}
    with pytest.raises(LaunchDarklyValidationError, match="from_variable needs Airflow"):
        resolve_config({"writeKey": {"from_variable": "SEG"}}, "destinations[0].targets[0]")
    assert resolve_config({"writeKey": {"from_variable": "SEG"}}, "p", variables={"SEG": "v-1"}.get) == {
        "writeKey": "v-1"
    }


def test_published_json_schema_is_up_to_date():
    assert SCHEMA_PATH.read_text() == render_json_schema(), (
        "regenerate with: ld-destinations schema > " + str(SCHEMA_PATH)
    )


def test_json_schema_accepts_the_example_and_rejects_a_typo():
    import jsonschema

    schema = json.loads(SCHEMA_PATH.read_text())
    jsonschema.validate(fleet_manifest(), schema)
    bad = _with(targts=[])
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, schema)
    bad = _with(config={"writeKey": {"from_env": "A", "extra": 1}})
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, schema)
