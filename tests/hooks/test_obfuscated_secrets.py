"""Updates stay minimal and idempotent against an API that answers stored secrets obfuscated."""

from __future__ import annotations

import logging

import pytest

from airflow_provider_ld.exceptions import LaunchDarklyConflictError, LaunchDarklyValidationError

WRITE_KEY = "segment-write-key-0123456789"
ROTATED = "segment-write-key-rotated-4242"
BY_ID = "/api/v2/destinations/proj/prod/*"


def _patches(emulator):
    return emulator.calls_to("PATCH")


def _stored(emulator):
    (destination,) = emulator.stored_destinations
    return destination


@pytest.fixture
def segment(emulator):
    return emulator.add_destination(
        "proj",
        "prod",
        kind="segment",
        name="seg",
        config={"writeKey": WRITE_KEY, "userIDContextKind": "user"},
    )


def test_the_api_really_obfuscates(hook, segment):
    assert (
        hook.get_destination("proj", "prod", segment["_id"]).config["writeKey"].get_secret_value()
        == "seg****789"
    )


def test_same_update_twice_sends_one_patch_then_none(hook, emulator, segment):
    config = {"writeKey": WRITE_KEY, "userIDContextKind": "user"}
    first, changed_first = hook.update_destination("proj", "prod", segment["_id"], on=True, config=config)
    second, changed_second = hook.update_destination("proj", "prod", segment["_id"], on=True, config=config)
    assert (changed_first, changed_second) == (True, False)
    assert len(_patches(emulator)) == 1
    assert (first.on, second.version) == (True, 2)
    assert _stored(emulator)["config"] == config


def test_a_changed_field_patches_only_that_field_and_never_resends_the_secret(hook, emulator, segment):
    config = {"writeKey": WRITE_KEY, "userIDContextKind": "account"}
    hook.update_destination("proj", "prod", segment["_id"], config=config)
    (patch,) = _patches(emulator)
    assert patch.json() == [
        {"op": "test", "path": "/version", "value": 1},
        {"op": "replace", "path": "/config/userIDContextKind", "value": "account"},
    ]
    assert WRITE_KEY.encode() not in patch.body
    assert _stored(emulator)["config"] == config


def test_rotate_secrets_pushes_the_new_value_deliberately(hook, emulator, segment):
    config = {"writeKey": ROTATED, "userIDContextKind": "user"}
    _, changed = hook.update_destination("proj", "prod", segment["_id"], config=config, rotate_secrets=True)
    assert changed is True
    (patch,) = _patches(emulator)
    assert patch.json()[1:] == [{"op": "replace", "path": "/config/writeKey", "value": ROTATED}]
    assert _stored(emulator)["config"]["writeKey"] == ROTATED


def _logged(caplog, capsys) -> str:
    return caplog.text + capsys.readouterr().out  # Airflow logs through structlog to stdout


def test_a_visibly_different_stored_secret_is_reported_not_sent(hook, emulator, segment, caplog, capsys):
    caplog.set_level(logging.INFO)
    _, changed = hook.update_destination(
        "proj", "prod", segment["_id"], config={"writeKey": ROTATED, "userIDContextKind": "user"}
    )
    assert changed is False
    assert _patches(emulator) == []
    logged = _logged(caplog, capsys)
    assert "the stored writeKey differ from the given values" in logged
    assert "rotate_secrets=True" in logged
    assert ROTATED not in logged and WRITE_KEY not in logged


def test_a_secret_whose_stand_in_agrees_is_not_reported(hook, segment, caplog, capsys):
    caplog.set_level(logging.INFO)
    hook.update_destination(
        "proj", "prod", segment["_id"], config={"writeKey": WRITE_KEY, "userIDContextKind": "user"}
    )
    logged = _logged(caplog, capsys)
    assert "secret fields writeKey are stored obfuscated and were not compared" in logged
    assert "differ from the given values" not in logged


def test_mparticle_legacy_identity_causes_no_diff(hook, emulator):
    config = {
        "apiKey": "mparticle-api-key-0123",
        "secret": "mparticle-secret-4567",
        "environment": "production",
        "userIdentities": [{"ldContextKind": "user", "mparticleUserIdentity": "customer_id"}],
    }
    created = hook.create_destination("proj", "prod", kind="mparticle", name="mp", config=config)
    assert created.config["userIdentity"] == "customer_id"
    for _ in range(2):
        _, changed = hook.update_destination("proj", "prod", created.id, config=config)
        assert changed is False
    assert _patches(emulator) == []


def test_lost_answer_with_obfuscated_secrets_settles_as_success(hook, emulator, segment):
    emulator.inject_fault("PATCH", BY_ID, drop="after")
    config = {"writeKey": ROTATED, "userIDContextKind": "user"}
    updated, changed = hook.update_destination(
        "proj", "prod", segment["_id"], on=True, config=config, rotate_secrets=True
    )
    assert changed is True and updated.on is True and updated.version == 2
    assert [(c.method, c.status) for c in emulator.calls_to()][-3:] == [
        ("PATCH", None),
        ("PATCH", 409),
        ("GET", 200),
    ]
    assert _stored(emulator)["config"]["writeKey"] == ROTATED


def test_settling_refuses_when_the_stored_secret_visibly_differs(hook, emulator, segment):
    # Someone else set another key between our read and our PATCH: the 409 is a real conflict.
    current = hook.get_destination("proj", "prod", segment["_id"])
    hook.patch_destination(
        "proj",
        "prod",
        segment["_id"],
        [{"op": "replace", "path": "/config/writeKey", "value": "someone-elses-key-0000"}],
    )
    with pytest.raises(LaunchDarklyConflictError):
        hook.update_destination(
            "proj",
            "prod",
            segment["_id"],
            config={"writeKey": ROTATED, "userIDContextKind": "user"},
            rotate_secrets=True,
            current=current,
        )
    assert _stored(emulator)["config"]["writeKey"] == "someone-elses-key-0000"


def test_rotate_secrets_must_be_a_bool_and_is_checked_before_any_request(hook, emulator, segment):
    calls = len(emulator.calls_to())
    with pytest.raises(LaunchDarklyValidationError, match="rotate_secrets"):
        hook.update_destination(
            "proj", "prod", segment["_id"], config={"writeKey": ROTATED}, rotate_secrets="yes"
        )
    assert len(emulator.calls_to()) == calls
