"""The emulator behaves like production where LaunchDarkly's own tools show production differs from a naive API."""

from __future__ import annotations

import json

import pytest

from airflow_provider_ld.testing import ApiFidelity
from tests.openapi_contract import validate_call
from tests.testing.conftest import assert_error

WRITE_KEY = "segment-write-key-0123456789"
SEGMENT = {"name": "seg", "kind": "segment", "config": {"writeKey": WRITE_KEY}}
MPARTICLE_CONFIG = {
    "apiKey": "mparticle-api-key-0123",
    "secret": "mparticle-secret-4567",
    "environment": "production",
    "userIdentities": [{"ldContextKind": "user", "mparticleUserIdentity": "customer_id"}],
}


def _path(destination: dict) -> str:
    return f"/destinations/proj/prod/{destination['_id']}"


def _assert_contract(emulator) -> None:
    for call in emulator.calls_to():
        validate_call(call)


# ----------------------------------------------------------------- obfuscated secrets


def test_every_destination_answer_obfuscates_secrets_and_keeps_them_stored(api, launchdarkly_emulator):
    created = api.post("/destinations/proj/prod", json=SEGMENT)
    destination = created.json()
    answers = [
        created,
        api.get(_path(destination)),
        api.get("/destinations"),
        api.patch(_path(destination), json=[{"op": "replace", "path": "/on", "value": True}]),
    ]
    for answer in answers:
        assert answer.status_code in (200, 201), answer.text
        assert WRITE_KEY not in answer.text
        assert "seg****789" in answer.text
    assert launchdarkly_emulator.stored_destinations[0]["config"] == {"writeKey": WRITE_KEY}
    assert WRITE_KEY not in json.dumps(launchdarkly_emulator.destinations)


@pytest.mark.parametrize(
    ("kind", "config", "secrets"),
    [
        (
            "azure-event-hubs",
            {"namespace": "n", "name": "h", "policyName": "p", "policyKey": "policy-key-value-1"},
            ["policyKey"],
        ),
        ("mparticle", MPARTICLE_CONFIG, ["apiKey", "secret"]),
    ],
)
def test_each_secret_field_is_obfuscated(api, kind, config, secrets):
    answer = api.post("/destinations/proj/prod", json={"kind": kind, "config": config}).json()
    for field in secrets:
        assert answer["config"][field] == config[field][:3] + "****" + config[field][-3:]
    assert {k: v for k, v in answer["config"].items() if k not in secrets and k != "userIdentity"} == {
        k: v for k, v in config.items() if k not in secrets
    }


def test_short_secrets_are_masked_whole(api):
    answer = api.post("/destinations/proj/prod", json={**SEGMENT, "config": {"writeKey": "short"}}).json()
    assert answer["config"]["writeKey"] == "****"


def test_obfuscation_can_be_switched_off_for_inspection(launchdarkly_emulator_factory, make_client):
    emulator = launchdarkly_emulator_factory(fidelity=ApiFidelity(obfuscate_secrets=False))
    answer = make_client(emulator).post("/destinations/proj/prod", json=SEGMENT).json()
    assert answer["config"]["writeKey"] == WRITE_KEY


def test_patching_another_field_keeps_the_stored_secret(api, launchdarkly_emulator):
    destination = api.post("/destinations/proj/prod", json=SEGMENT).json()
    api.patch(_path(destination), json={"name": "renamed"})
    assert launchdarkly_emulator.stored_destinations[0]["config"]["writeKey"] == WRITE_KEY


def test_sending_a_stand_in_back_stores_the_stand_in(api, launchdarkly_emulator):
    # What a careless client does to production: the stand-in replaces the real secret.
    destination = api.post("/destinations/proj/prod", json=SEGMENT).json()
    api.patch(_path(destination), json=[{"op": "replace", "path": "/config", "value": destination["config"]}])
    assert launchdarkly_emulator.stored_destinations[0]["config"]["writeKey"] == "seg****789"


def test_mparticle_answers_carry_the_legacy_user_identity(api, launchdarkly_emulator):
    answer = api.post(
        "/destinations/proj/prod", json={"kind": "mparticle", "config": MPARTICLE_CONFIG}
    ).json()
    assert answer["config"]["userIdentity"] == "customer_id"
    assert answer["config"]["userIdentities"] == MPARTICLE_CONFIG["userIdentities"]
    assert "userIdentity" not in launchdarkly_emulator.stored_destinations[0]["config"]


# ----------------------------------------------------------------- JSON Merge Patch


@pytest.mark.parametrize(
    "body",
    [
        {"on": True, "config": {"topic": "new-topic"}},
        {"comment": "turn on", "merge": {"on": True, "config": {"topic": "new-topic"}}},
    ],
    ids=["raw", "comment-envelope"],
)
def test_destination_accepts_merge_patches(api, launchdarkly_emulator, body):
    destination = api.create_destination()
    response = api.patch(_path(destination), json=body)
    assert response.status_code == 200, response.text
    patched = response.json()
    assert (patched["on"], patched["config"], patched["version"]) == (
        True,
        {"project": "gcp", "topic": "new-topic"},
        2,
    )
    _assert_contract(launchdarkly_emulator)


def test_merge_patch_null_removes_a_member(api):
    destination = api.post(
        "/destinations/proj/prod",
        json={"kind": "segment", "config": {"writeKey": WRITE_KEY, "userIDContextKind": "user"}},
    ).json()
    patched = api.patch(_path(destination), json={"config": {"userIDContextKind": None}}).json()
    assert "userIDContextKind" not in patched["config"]


def test_merge_patch_comment_envelope_with_json_patch(api, launchdarkly_emulator):
    destination = api.create_destination()
    body = {"comment": "audit", "patch": [{"op": "replace", "path": "/name", "value": "renamed"}]}
    assert api.patch(_path(destination), json=body).json()["name"] == "renamed"
    _assert_contract(launchdarkly_emulator)


def test_merge_patch_cannot_touch_read_only_fields(api):
    destination = api.create_destination()
    assert_error(api.patch(_path(destination), json={"_links": {}}), 400, "invalid_request", "_links")


# ----------------------------------------------------------------- unknown request fields


def test_unknown_post_fields_are_ignored(api, launchdarkly_emulator):
    body = {**SEGMENT, "enabled": True, "tags": ["x"]}
    response = api.post("/destinations/proj/prod", json=body)
    assert response.status_code == 201, response.text
    assert "enabled" not in response.json() and "tags" not in response.json()
    assert response.json()["on"] is False


def test_unknown_setup_fields_are_ignored(api):
    response = api.post(
        "/destinations/projects/proj/environments/prod/kinds/snowflake-v2/setup", json={"databaseNme": "typo"}
    )
    assert response.status_code == 201, response.text
    assert "typo" not in response.json()["script"]


# ----------------------------------------------------------------- guided warehouse setup


def _setup(api, kind="snowflake-v2", body=None, env="prod"):
    return api.post(f"/destinations/projects/proj/environments/{env}/kinds/{kind}/setup", json=body or {})


def _complete(api, kind, public_key=None):
    body = {} if public_key is None else {"publicKey": public_key}
    return api.post(f"/destinations/projects/proj/environments/prod/kinds/{kind}/complete-setup", json=body)


def test_setup_refuses_when_a_destination_of_the_kind_exists(api):
    setup = _setup(api).json()
    assert _complete(api, "snowflake-v2", setup["publicKey"]).status_code == 201
    assert_error(_setup(api), 400, "invalid_request", "already exists")
    assert _setup(api, env="staging").status_code == 201
    assert _setup(api, "redshift").status_code == 201


def test_complete_setup_fails_while_the_key_propagates(
    launchdarkly_emulator_factory, make_client, fake_clock
):
    emulator = launchdarkly_emulator_factory(clock=fake_clock, fidelity=ApiFidelity(key_propagation_delay=30))
    api = make_client(emulator)
    setup = _setup(api).json()
    fake_clock.advance(29)
    assert_error(_complete(api, "snowflake-v2", setup["publicKey"]), 400, "invalid_request", "propagating")
    fake_clock.advance(1)
    assert _complete(api, "snowflake-v2", setup["publicKey"]).status_code == 201


def test_redshift_staging_bucket_is_stable_across_setups(api):
    first = _setup(api, "redshift").json()["s3BucketName"]
    assert _setup(api, "redshift").json()["s3BucketName"] == first
    chosen = _setup(api, "redshift", {"s3BucketName": "my-bucket"}).json()["s3BucketName"]
    assert chosen == "my-bucket"
    assert _setup(api, "redshift").json()["s3BucketName"] == "my-bucket"
    assert _setup(api, "redshift", env="staging").json()["s3BucketName"] != "my-bucket"
