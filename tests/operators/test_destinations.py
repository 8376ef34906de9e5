"""The destination operators against the emulator over real HTTP."""

from __future__ import annotations

import json

import pytest

from airflow_provider_ld.exceptions import (
    LaunchDarklyConnectionError,
    LaunchDarklyNotFoundError,
    LaunchDarklyValidationError,
)
from airflow_provider_ld.links import DESTINATION_URL_XCOM_KEY
from airflow_provider_ld.operators.destinations import (
    LaunchDarklyCompleteWarehouseSetupOperator,
    LaunchDarklyCreateDestinationOperator,
    LaunchDarklyDeleteDestinationOperator,
    LaunchDarklyToggleDestinationOperator,
    LaunchDarklyUpdateDestinationOperator,
    LaunchDarklyWarehouseSetupOperator,
)
from tests.airflow_compat import redact

SEGMENT = {"writeKey": "seg-SECRET-op-key"}
PUBSUB = {"project": "gcp", "topic": "events"}
KEYS = {"project_key": "proj", "environment_key": "prod"}


def create_op(**kwargs):
    values = {"task_id": "create", "kind": "segment", "name": "events", "config": SEGMENT, **KEYS} | kwargs
    return LaunchDarklyCreateDestinationOperator(**values)


def test_create_returns_redacted_summary_and_pushes_link(ld_connection, emulator, context):
    result = create_op(on=True).execute(context)
    assert result["action"] == "created"
    assert (result["kind"], result["name"], result["on"], result["version"]) == ("segment", "events", True, 1)
    assert result["destination"]["config"] == {"writeKey": "**********"}
    assert "seg-SECRET-op-key" not in json.dumps(result)
    assert context["ti"].xcom[DESTINATION_URL_XCOM_KEY] == (
        f"{emulator.base_url}/settings/integrations?project=proj&environment=prod"
    )
    assert len(emulator.destinations) == 1


def test_create_is_idempotent_and_adopts(ld_connection, emulator, context):
    first = create_op().execute(context)
    second = create_op().execute(context)
    assert second["action"] == "adopted"
    assert second["destination_id"] == first["destination_id"]
    assert len(emulator.destinations) == 1
    assert len(emulator.calls_to("POST")) == 1


def test_create_after_lost_answer_converges_in_the_same_attempt(ld_connection, emulator, context):
    emulator.inject_fault("POST", "/api/v2/destinations/proj/prod", drop="after")
    created = create_op().execute(context)
    assert created["action"] == "created"
    assert create_op().execute(context)["action"] == "adopted"
    assert len(emulator.destinations) == 1
    assert len(emulator.calls_to("POST")) == 1, "the POST is never repeated"


def test_create_after_a_dropped_request_fails_clearly_and_the_retry_creates(ld_connection, emulator, context):
    emulator.inject_fault("POST", "/api/v2/destinations/proj/prod", drop="before")
    with pytest.raises(LaunchDarklyConnectionError, match="may have been applied"):
        create_op().execute(context)
    assert emulator.destinations == []
    assert create_op().execute(context)["action"] == "created"
    assert len(emulator.destinations) == 1


def test_create_if_exists_update_and_fail(ld_connection, emulator, context):
    create_op(on=False).execute(context)
    stored_key = emulator.stored_destinations[0]["config"]["writeKey"]
    # The API answers the write key obfuscated: without rotate_secrets it is neither compared nor sent.
    updated = create_op(on=True, if_exists="update", config={"writeKey": "rotated-key-1"}).execute(context)
    assert (updated["action"], updated["on"], updated["version"]) == ("updated", True, 2)
    assert emulator.stored_destinations[0]["config"]["writeKey"] == stored_key
    assert [op["path"] for op in emulator.calls_to("PATCH")[-1].json()] == ["/version", "/on"]
    rotated = create_op(
        on=True, if_exists="update", config={"writeKey": "rotated-key-1"}, rotate_secrets=True
    ).execute(context)
    assert (rotated["action"], rotated["version"]) == ("updated", 3)
    assert emulator.stored_destinations[0]["config"]["writeKey"] == "rotated-key-1"
    again = create_op(on=True, if_exists="update", config={"writeKey": "rotated-key-1"}).execute(context)
    assert again["action"] == "adopted"
    assert len(emulator.calls_to("PATCH")) == 2
    with pytest.raises(LaunchDarklyValidationError, match="already exists"):
        create_op(if_exists="fail").execute(context)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"kind": "segmnt"}, "kind"),
        ({"config": {}}, "config.writeKey"),
        ({"config": "not json"}, "config"),
        ({"name": ""}, "name"),
        ({"project_key": "has space"}, "project_key"),
        ({"on": "maybe"}, "on"),
    ],
)
def test_create_bad_input_fails_before_any_request(ld_connection, emulator, context, kwargs, field):
    with pytest.raises(LaunchDarklyValidationError) as info:
        create_op(**kwargs).execute(context)
    assert info.value.field == field
    assert emulator.calls_to() == []


def test_if_exists_choice_is_checked_at_parse_time():
    with pytest.raises(LaunchDarklyValidationError, match="allowed values: adopt, update, fail"):
        create_op(if_exists="replace")


def test_rendered_json_config_and_string_bool_are_accepted(ld_connection, emulator, context):
    result = create_op(config=json.dumps(SEGMENT), on="True").execute(context)
    assert result["on"] is True


def test_update_by_name_sends_minimal_patch_or_nothing(ld_connection, emulator, context):
    created = emulator.add_destination("proj", "prod", kind="google-pubsub", name="pubsub", config=PUBSUB)
    op = LaunchDarklyUpdateDestinationOperator(
        task_id="update",
        name="pubsub",
        kind="google-pubsub",
        config={**PUBSUB, "topic": "t2"},
        comment="new topic",
        **KEYS,
    )
    result = op.execute(context)
    assert (result["action"], result["destination_id"], result["version"]) == ("updated", created["_id"], 2)
    body = emulator.calls_to("PATCH")[0].json()
    assert body["comment"] == "new topic"
    assert body["patch"] == [
        {"op": "test", "path": "/version", "value": 1},
        {"op": "replace", "path": "/config/topic", "value": "t2"},
    ]
    assert op.execute(context)["action"] == "unchanged"
    assert len(emulator.calls_to("PATCH")) == 1


def test_update_unknown_destination_is_a_clear_error(ld_connection, emulator, context):
    op = LaunchDarklyUpdateDestinationOperator(task_id="update", destination_id="missing1", on=True, **KEYS)
    with pytest.raises(LaunchDarklyNotFoundError, match="no destination with id 'missing1' in proj/prod"):
        op.execute(context)


def test_targeted_operators_need_an_id_or_a_name():
    with pytest.raises(LaunchDarklyValidationError) as info:
        LaunchDarklyToggleDestinationOperator(task_id="t", on=True, **KEYS)
    assert info.value.field == "destination_id"


def test_toggle_patches_only_when_state_differs(ld_connection, emulator, context):
    created = emulator.add_destination("proj", "prod", kind="google-pubsub", name="pubsub", config=PUBSUB)
    on = LaunchDarklyToggleDestinationOperator(task_id="on", destination_id=created["_id"], on=True, **KEYS)
    assert on.execute(context)["action"] == "turned on"
    assert on.execute(context)["action"] == "unchanged"
    off = LaunchDarklyToggleDestinationOperator(task_id="off", name="pubsub", on=False, **KEYS)
    assert off.execute(context)["action"] == "turned off"
    patches = [call.json() for call in emulator.calls_to("PATCH")]
    assert patches == [
        [{"op": "test", "path": "/version", "value": 1}, {"op": "replace", "path": "/on", "value": True}],
        [{"op": "test", "path": "/version", "value": 2}, {"op": "replace", "path": "/on", "value": False}],
    ]


def test_toggle_unknown_destination_fails_clearly(ld_connection, emulator, context):
    op = LaunchDarklyToggleDestinationOperator(task_id="on", name="ghost", kind="segment", on=True, **KEYS)
    with pytest.raises(
        LaunchDarklyNotFoundError, match="no destination with name 'ghost' and kind 'segment'"
    ):
        op.execute(context)


def test_delete_is_idempotent_unless_asked(ld_connection, emulator, context):
    created = emulator.add_destination("proj", "prod", kind="google-pubsub", name="pubsub", config=PUBSUB)
    op = LaunchDarklyDeleteDestinationOperator(task_id="delete", destination_id=created["_id"], **KEYS)
    assert op.execute(context)["action"] == "deleted"
    assert emulator.destinations == []
    assert op.execute(context)["action"] == "absent"
    strict = LaunchDarklyDeleteDestinationOperator(
        task_id="delete", destination_id=created["_id"], missing_ok=False, **KEYS
    )
    with pytest.raises(LaunchDarklyNotFoundError):
        strict.execute(context)


def test_ambiguous_name_is_refused(ld_connection, emulator, context):
    emulator.add_destination("proj", "prod", kind="google-pubsub", name="dup", config=PUBSUB)
    emulator.add_destination("proj", "prod", kind="segment", name="dup", config=SEGMENT)
    op = LaunchDarklyDeleteDestinationOperator(task_id="delete", name="dup", **KEYS)
    with pytest.raises(LaunchDarklyValidationError, match="2 destinations named 'dup'"):
        op.execute(context)
    assert len(emulator.destinations) == 2


def test_snowflake_setup_then_complete_and_rerun_never_duplicates(ld_connection, emulator, context, capsys):
    setup = LaunchDarklyWarehouseSetupOperator(
        task_id="setup",
        kind="snowflake-v2",
        setup={"name": "warehouse", "snowflakeHostAddress": "acme.snowflakecomputing.com"},
        **KEYS,
    )
    started = setup.execute(context)
    assert started["action"] == "setup started"
    assert started["setup"]["script"].startswith("CREATE")
    public_key = started["setup"]["publicKey"]
    assert "Run this script in the warehouse" in capsys.readouterr().out
    complete = LaunchDarklyCompleteWarehouseSetupOperator(
        task_id="complete", kind="snowflake-v2", public_key=public_key, name="warehouse", **KEYS
    )
    done = complete.execute(context)
    assert (done["action"], done["kind"], done["on"]) == ("completed", "snowflake-v2", False)
    assert complete.execute(context)["action"] == "adopted", "a retried completion adopts"
    assert setup.execute(context)["action"] == "exists", "a re-run does not start a second setup"
    assert len(emulator.destinations) == 1


def test_redshift_setup_hands_over_policies(ld_connection, emulator, context):
    setup = LaunchDarklyWarehouseSetupOperator(
        task_id="setup",
        kind="redshift",
        setup={
            "clusterIdentifier": "c1",
            "clusterRegion": "us-east-1",
            "clusterAwsAccountId": "123456789012",
        },
        include_trust_policy=True,
        **KEYS,
    )
    result = setup.execute(context)
    assert result["setup"]["redshiftIAMTrustPolicy"]
    assert result["trust_policy"]["awsTrustPolicy"]["Statement"]


def test_complete_without_pending_setup_explains(ld_connection, emulator, context):
    op = LaunchDarklyCompleteWarehouseSetupOperator(task_id="c", kind="redshift", **KEYS)
    with pytest.raises(LaunchDarklyNotFoundError, match="run the setup operator first"):
        op.execute(context)


def test_operators_do_not_build_hooks_or_call_the_api_at_construction(emulator):
    op = create_op()
    assert "hook" not in op.__dict__
    assert emulator.calls_to() == []


def test_rendering_masks_config_secrets(ld_connection, emulator):
    op = create_op(config={"writeKey": "{{ params.key }}"}, params={"key": "rendered-SECRET-key"})
    op.render_template_fields({"params": {"key": "rendered-SECRET-key"}})
    assert op.config == {"writeKey": "rendered-SECRET-key"}
    assert "rendered-SECRET-key" not in json.dumps(redact(op.config, "config"))


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("id", [("GET", "one"), ("PATCH", "one")]),
        ("name", [("GET", "list"), ("PATCH", "one")]),
    ],
)
def test_toggle_sends_the_minimum_requests(ld_connection, emulator, context, target, expected):
    created = emulator.add_destination("proj", "prod", kind="google-pubsub", name="pubsub", config=PUBSUB)
    lookup = {"destination_id": created["_id"]} if target == "id" else {"name": "pubsub"}
    LaunchDarklyToggleDestinationOperator(task_id="on", on=True, **lookup, **KEYS).execute(context)
    sent = [(c.method, "list" if c.path == "/api/v2/destinations" else "one") for c in emulator.calls_to()]
    assert sent == expected
