"""Every hook method over real HTTP against the emulator."""

from __future__ import annotations

import json
import logging

import pytest

from airflow_provider_ld.exceptions import (
    LaunchDarklyAuthError,
    LaunchDarklyConflictError,
    LaunchDarklyNotFoundError,
    LaunchDarklyValidationError,
)
from airflow_provider_ld.hooks.launchdarkly import LaunchDarklyHook
from airflow_provider_ld.models import (
    CallerIdentity,
    Destination,
    SegmentConfig,
    WarehouseKeyPair,
    WarehouseSetupScript,
)
from tests.hooks.conftest import connection_json

SEGMENT = {"writeKey": "seg-SECRET-write-key"}
PUBSUB = {"project": "gcp-proj", "topic": "ld-events"}


def test_hook_class_attributes_follow_airflow_conventions():
    assert LaunchDarklyHook.conn_name_attr == "launchdarkly_conn_id"
    assert LaunchDarklyHook.default_conn_name == "launchdarkly_default"
    assert LaunchDarklyHook.conn_type == "launchdarkly"
    behaviour = LaunchDarklyHook.get_ui_field_behaviour()
    assert set(behaviour["hidden_fields"]) >= {"schema", "port", "login"}
    assert behaviour["relabeling"] == {"host": "Base URL", "password": "API access token"}


def test_caller_identity_and_connection_test(hook, emulator):
    identity = hook.get_caller_identity()
    assert isinstance(identity, CallerIdentity)
    ok, message = hook.test_connection()
    assert ok
    assert message.startswith(f"Connected to {emulator.base_url}: account ")
    request = emulator.calls_to("GET", "/api/v2/caller-identity")[0]
    assert request.headers["ld-api-version"] == "20240415"
    assert request.headers["user-agent"].startswith("airflow-provider-launchdarkly/")


def test_wrong_token_is_an_auth_error(emulator, monkeypatch):
    monkeypatch.setenv(
        "AIRFLOW_CONN_LAUNCHDARKLY_DEFAULT", connection_json(emulator.base_url, token="wrong-token-x")
    )
    hook = LaunchDarklyHook()
    with pytest.raises(LaunchDarklyAuthError) as info:
        hook.list_destinations()
    assert info.value.status_code == 401
    assert "GET /api/v2/destinations -> 401 unauthorized" in str(info.value)
    assert "wrong-token-x" not in str(info.value)
    ok, message = hook.test_connection()
    assert not ok and "401" in message
    assert len(emulator.calls_to()) == 2, "auth errors are not retried"


def test_destination_lifecycle(hook, emulator):
    created = hook.create_destination(
        "proj", "prod", kind="segment", name="Segment", config=SEGMENT, on=False
    )
    assert isinstance(created, Destination)
    assert (created.kind, created.name, created.on, created.version) == ("segment", "Segment", False, 1)
    assert (created.project_key, created.environment_key) == ("proj", "prod")
    assert "seg-SECRET-write-key" not in repr(created)
    sent = emulator.calls_to("POST")[0].json()
    assert sent == {"kind": "segment", "config": SEGMENT, "on": False, "name": "Segment"}

    fetched = hook.get_destination("proj", "prod", created.id)
    assert fetched.id == created.id

    patched = hook.patch_destination(
        "proj",
        "prod",
        created.id,
        [{"op": "test", "path": "/version", "value": 1}, {"op": "replace", "path": "/on", "value": True}],
    )
    assert (patched.on, patched.version) == (True, 2)

    hook.delete_destination("proj", "prod", created.id)
    with pytest.raises(LaunchDarklyNotFoundError) as info:
        hook.get_destination("proj", "prod", created.id)
    assert info.value.code == "not_found"
    assert emulator.destinations == []


def test_create_accepts_config_models(hook):
    created = hook.create_destination(
        "proj", "prod", kind="segment", config=SegmentConfig(writeKey="wk-model-1")
    )
    assert created.kind == "segment"


def test_list_and_find_destinations_filter_by_environment(hook, emulator):
    emulator.add_destination("proj", "prod", kind="google-pubsub", name="a", config=PUBSUB)
    emulator.add_destination("proj", "dev", kind="google-pubsub", name="a", config=PUBSUB)
    emulator.add_destination("other", "prod", kind="segment", name="a", config=SEGMENT)
    assert len(hook.list_destinations()) == 3
    assert len(hook.list_destinations("proj")) == 2
    assert [d.environment_key for d in hook.list_destinations("proj", "dev")] == ["dev"]
    assert len(hook.find_destinations("proj", "prod", name="a", kind="google-pubsub")) == 1
    assert hook.find_destinations("proj", "prod", name="a", kind="segment") == []


def test_merge_patch_and_comment_envelope(hook, emulator):
    created = hook.create_destination("proj", "prod", kind="google-pubsub", config=PUBSUB)
    hook.patch_destination(
        "proj",
        "prod",
        created.id,
        [{"op": "replace", "path": "/name", "value": "renamed"}],
        comment="rename it",
    )
    body = emulator.calls_to("PATCH")[-1].json()
    assert body == {"comment": "rename it", "patch": [{"op": "replace", "path": "/name", "value": "renamed"}]}
    assert hook.get_destination("proj", "prod", created.id).name == "renamed"


def test_update_destination_sends_minimal_guarded_patch_and_nothing_when_unchanged(hook, emulator):
    created = hook.create_destination("proj", "prod", kind="google-pubsub", name="n", config=PUBSUB)
    updated, changed = hook.update_destination(
        "proj", "prod", created.id, on=True, config={**PUBSUB, "topic": "t2"}
    )
    assert changed and updated.on and updated.config["topic"] == "t2"
    assert emulator.calls_to("PATCH")[-1].json() == [
        {"op": "test", "path": "/version", "value": 1},
        {"op": "replace", "path": "/config/topic", "value": "t2"},
        {"op": "replace", "path": "/on", "value": True},
    ] or emulator.calls_to("PATCH")[-1].json() == [
        {"op": "test", "path": "/version", "value": 1},
        {"op": "replace", "path": "/on", "value": True},
        {"op": "replace", "path": "/config/topic", "value": "t2"},
    ]
    patches_before = len(emulator.calls_to("PATCH"))
    again, changed = hook.update_destination(
        "proj", "prod", created.id, on=True, config={**PUBSUB, "topic": "t2"}
    )
    assert not changed and again.version == updated.version
    assert len(emulator.calls_to("PATCH")) == patches_before


def test_concurrent_edit_is_detected_not_overwritten(hook, emulator):
    created = hook.create_destination("proj", "prod", kind="google-pubsub", config=PUBSUB)
    hook.patch_destination(
        "proj", "prod", created.id, [{"op": "replace", "path": "/name", "value": "theirs"}]
    )
    with pytest.raises(LaunchDarklyConflictError) as info:
        hook.patch_destination(
            "proj",
            "prod",
            created.id,
            [
                {"op": "test", "path": "/version", "value": 1},
                {"op": "replace", "path": "/name", "value": "mine"},
            ],
        )
    assert info.value.status_code == 409
    assert hook.get_destination("proj", "prod", created.id).name == "theirs"


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda h: h.create_destination("proj", "prod", kind="nope", config={}), "kind"),
        (lambda h: h.create_destination("proj", "prod", kind="segment", config={}), "config.writeKey"),
        (lambda h: h.create_destination("", "prod", kind="segment", config=SEGMENT), "project_key"),
        (lambda h: h.create_destination("proj", "a/b", kind="segment", config=SEGMENT), "environment_key"),
        (lambda h: h.create_destination("proj", "prod", kind="segment", config=SEGMENT, on="yes"), "on"),
        (lambda h: h.get_destination("proj", "prod", "has space"), "destination_id"),
        (lambda h: h.patch_destination("proj", "prod", "d", [{"op": "nope", "path": "/on"}]), "patch[0].op"),
        (lambda h: h.generate_warehouse_setup_script("proj", "prod", "kinesis"), "kind"),
        (
            lambda h: h.generate_warehouse_setup_script("proj", "prod", "snowflake-v2", {"bogus": 1}),
            "setup.bogus",
        ),
        (lambda h: h.complete_warehouse_setup("proj", "prod", "snowflake-v2"), "public_key"),
        (lambda h: h.generate_warehouse_key_pair("proj"), "environment_key"),
        (lambda h: h.create_delivery_configuration("proj", "prod", "nope", config={}), "integration_key"),
        (
            lambda h: h.create_delivery_configuration("proj", "prod", "fastly", config={"storeId": "s"}),
            "config.apiToken",
        ),
    ],
)
def test_bad_input_fails_before_any_request(hook, emulator, call, field):
    with pytest.raises(LaunchDarklyValidationError) as info:
        call(hook)
    assert info.value.field == field
    assert emulator.calls_to() == []


def test_api_400_is_a_validation_error_with_api_details(hook, emulator):
    with pytest.raises(LaunchDarklyValidationError) as info:
        hook.create_destination("proj", "prod", kind="clickhouse", config={"x": "y"}, allow_unknown_kind=True)
    assert info.value.status_code == 400
    assert info.value.code == "invalid_request"
    assert info.value.request_id


def test_snowflake_guided_setup_flow(hook, emulator):
    script = hook.generate_warehouse_setup_script(
        "proj",
        "prod",
        "snowflake-v2",
        {"snowflakeHostAddress": "acme.snowflakecomputing.com", "databaseName": "LD"},
    )
    assert isinstance(script, WarehouseSetupScript)
    assert script.script and script.public_key and script.public_key_pkcs8
    assert emulator.destinations == [], "a pending setup is not a destination yet"
    destination = hook.complete_warehouse_setup("proj", "prod", "snowflake-v2", public_key=script.public_key)
    assert destination.kind == "snowflake-v2"
    assert destination.config["publicKey"] == script.public_key
    assert hook.get_destination("proj", "prod", destination.id).id == destination.id
    with pytest.raises(LaunchDarklyNotFoundError):
        hook.complete_warehouse_setup("proj", "prod", "snowflake-v2", public_key=script.public_key)


def test_redshift_setup_returns_iam_policies(hook):
    script = hook.generate_warehouse_setup_script(
        "proj",
        "prod",
        "redshift",
        {"clusterIdentifier": "c1", "clusterRegion": "us-east-1", "clusterAwsAccountId": "123456789012"},
    )
    assert (
        script.redshift_iam_permissions_policy and script.redshift_iam_trust_policy and script.s3_bucket_name
    )
    destination = hook.complete_warehouse_setup("proj", "prod", "redshift")
    assert destination.completed_artifacts.s3_bucket_name == script.s3_bucket_name


def test_key_pairs_and_trust_policy(hook, emulator):
    account_wide = hook.generate_warehouse_key_pair()
    scoped = hook.generate_warehouse_key_pair("proj", "prod")
    assert isinstance(account_wide, WarehouseKeyPair) and account_wide.public_key and scoped.public_key_pkcs8
    paths = [call.path for call in emulator.calls_to("POST")]
    assert paths == [
        "/api/v2/destinations/generate-warehouse-destination-key-pair",
        "/api/v2/destinations/projects/proj/environments/prod/generate-warehouse-destination-key-pair",
    ]
    policy = hook.generate_trust_policy("proj", "prod")
    assert policy.aws_trust_policy.statement[0].action == ["sts:AssumeRole"]


def test_delivery_configuration_lifecycle_sends_beta_header(hook, emulator):
    config = {"storeId": "store-1", "apiToken": "fastly-SECRET-token"}
    created = hook.create_delivery_configuration(
        "proj", "prod", "fastly", config=config, name="edge", tags=["a"]
    )
    assert (created.integration_key, created.name, created.tags, created.version) == (
        "fastly",
        "edge",
        ["a"],
        1,
    )
    assert "fastly-SECRET-token" not in repr(created)
    assert [c.id for c in hook.list_delivery_configurations()] == [created.id]
    assert [c.id for c in hook.list_delivery_configurations("proj", "prod")] == [created.id]
    assert hook.list_delivery_configurations("proj", "dev") == []
    fetched = hook.get_delivery_configuration("proj", "prod", "fastly", created.id)
    assert fetched.config["storeId"] == "store-1"
    patched = hook.patch_delivery_configuration(
        "proj", "prod", "fastly", created.id, [{"op": "replace", "path": "/on", "value": True}]
    )
    assert patched.on and patched.version == 2
    result = hook.validate_delivery_configuration("proj", "prod", "fastly", created.id)
    assert result.status_code == 200
    hook.delete_delivery_configuration("proj", "prod", "fastly", created.id)
    with pytest.raises(LaunchDarklyNotFoundError):
        hook.get_delivery_configuration("proj", "prod", "fastly", created.id)
    beta_calls = emulator.calls_to(path_prefix="/api/v2/integration-capabilities")
    assert len(beta_calls) == 9
    assert {call.headers["ld-api-version"] for call in beta_calls} == {"beta"}


def test_delivery_patch_failure_is_a_conflict(hook):
    created = hook.create_delivery_configuration(
        "proj", "prod", "netlify", config={"siteId": "s", "syncToken": "t"}
    )
    with pytest.raises(LaunchDarklyConflictError) as info:
        hook.patch_delivery_configuration(
            "proj", "prod", "netlify", created.id, [{"op": "test", "path": "/version", "value": 99}]
        )
    assert info.value.status_code == 422


def test_session_is_reused_across_calls(hook, emulator):
    session = hook.session
    hook.get_caller_identity()
    hook.list_destinations()
    assert hook.session is session
    assert hook.get_conn() is session


def test_secrets_never_logged(hook, emulator, caplog, capsys):
    caplog.set_level(logging.DEBUG)
    emulator.inject_fault("POST", "/api/v2/destinations/proj/prod", status=429, retry_after=0)
    hook.create_destination("proj", "prod", kind="segment", config=SEGMENT)
    captured = capsys.readouterr()
    text = caplog.text + json.dumps([r.getMessage() for r in caplog.records]) + captured.out + captured.err
    assert "seg-SECRET-write-key" not in text
    assert "test-token" not in text
    assert "retry 1 of 3" in text
