"""When a destination counts as configured: table-driven checks of the pure rules."""

from __future__ import annotations

import json

import pytest

from airflow_provider_ld.exceptions import LaunchDarklyValidationError
from airflow_provider_ld.models import Destination
from airflow_provider_ld.readiness import (
    Readiness,
    describe_target,
    destination_summary,
    evaluate_readiness,
    select_destination,
    validate_target,
)

SELF = "/api/v2/destinations/proj/prod/{id}"
ARTIFACTS = {"sqlSetupScript": "CREATE USER ...", "s3BucketName": "ld-export-bucket"}


def destination(id="d1", kind="segment", name="events", on=True, config=None, **extra) -> Destination:
    body = {
        "_id": id,
        "_links": {"self": {"href": SELF.format(id=id), "type": "application/json"}},
        "kind": kind,
        "name": name,
        "on": on,
        "version": 3,
        "config": {"writeKey": "seg-SECRET-key"} if config is None else config,
        **extra,
    }
    return Destination.model_validate(body)


@pytest.mark.parametrize(
    ("dest", "require_on", "ready", "reason"),
    [
        (None, True, False, "destination does not exist yet"),
        (None, False, False, "destination does not exist yet"),
        (destination(), True, True, "destination d1 (segment) is configured and on"),
        (destination(on=False), True, False, "destination is off"),
        (destination(on=False), False, True, "destination d1 (segment) is configured and off"),
        (destination(config={}), True, False, "config lacks writeKey, required for kind 'segment'"),
        (
            destination(config={"writeKey": ""}),
            False,
            False,
            "config lacks writeKey, required for kind 'segment'",
        ),
        (
            destination(kind="kinesis", config={"region": "us-east-1"}),
            True,
            False,
            "config lacks roleArn, streamName, required for kind 'kinesis'",
        ),
        (
            destination(
                kind="snowflake-v2", config={"publicKey": "MIIB", "snowflakeHostAddress": "a.snowflake"}
            ),
            True,
            True,
            "destination d1 (snowflake-v2) is configured and on",
        ),
        (
            destination(kind="mparticle", config={"apiKey": "k", "secret": "s"}),
            True,
            False,
            "config lacks environment, userIdentity, required for kind 'mparticle'",
        ),
        (
            destination(kind="redshift", config={}),
            True,
            False,
            "warehouse setup not complete (no completedArtifacts)",
        ),
        (
            destination(kind="redshift", config={}, completedArtifacts={}),
            True,
            False,
            "warehouse setup not complete (no completedArtifacts)",
        ),
        (destination(kind="redshift", config={}, completedArtifacts=ARTIFACTS), True, True, None),
        (destination(kind="redshift", config={}, completedArtifacts=ARTIFACTS, on=False), True, False, None),
        # Kinds whose config keys no document lists, and kinds this release does not know, require nothing.
        (destination(kind="bigquery", config={}), True, True, None),
        (destination(kind="clickhouse", config={}, on=False), False, True, None),
        (destination(kind="some-future-kind", config=None), True, True, None),
    ],
)
def test_evaluate_readiness(dest, require_on, ready, reason):
    result = evaluate_readiness(dest, require_on=require_on)
    assert isinstance(result, Readiness)
    assert result.ready is ready
    if reason is not None:
        assert result.reason == reason


def test_readiness_reasons_never_show_secrets():
    dest = destination(on=False)
    for require_on in (True, False):
        assert "seg-SECRET-key" not in evaluate_readiness(dest, require_on=require_on).reason


A = destination("a", name="events", kind="segment")
B = destination("b", name="events", kind="segment")
C = destination("c", name="events", kind="kinesis")
D = destination("d", name="other", kind="segment")


@pytest.mark.parametrize(
    ("candidates", "expected"),
    [
        ([], None),
        ([C, D], None),
        ([A], A),
        ([A, C, D], A),
    ],
)
def test_select_destination(candidates, expected):
    assert select_destination(candidates, name="events", kind="segment") == expected


def test_select_destination_refuses_to_guess():
    with pytest.raises(LaunchDarklyValidationError) as info:
        select_destination([A, C, B], name="events", kind="segment")
    assert str(info.value) == (
        "ambiguous: 2 destinations named 'events' of kind 'segment' (a, b); pass destination_id"
    )


@pytest.mark.parametrize(
    ("destination_id", "name", "kind", "ok"),
    [
        ("d1", None, None, True),
        ("d1", "events", None, True),
        (None, "events", "segment", True),
        ("{{ ti.xcom_pull('create') }}", None, None, True),
        (None, None, None, False),
        ("", "", "", False),
        (None, "events", None, False),
        (None, None, "segment", False),
        (None, 3, "segment", False),
    ],
)
def test_validate_target(destination_id, name, kind, ok):
    if ok:
        validate_target(destination_id, name, kind)
        return
    with pytest.raises(LaunchDarklyValidationError) as info:
        validate_target(destination_id, name, kind)
    assert "name" in str(info.value)


def test_validate_target_names_the_arguments():
    with pytest.raises(LaunchDarklyValidationError, match="pass destination_id, or both name and kind"):
        validate_target(None, "events", None)


def test_describe_target():
    assert describe_target("proj", "prod", "d1", None, None) == "destination d1 in proj/prod"
    assert (
        describe_target("proj", "prod", None, "events", "segment")
        == "segment destination 'events' in proj/prod"
    )


def test_destination_summary_is_json_and_redacted():
    summary = destination_summary(destination())
    assert summary == {
        "destination_id": "d1",
        "project_key": "proj",
        "environment_key": "prod",
        "kind": "segment",
        "name": "events",
        "on": True,
        "version": 3,
        "destination": destination().to_dict(),
    }
    text = json.dumps(summary)
    assert "seg-SECRET-key" not in text
    assert summary["destination"]["config"]["writeKey"] == "**********"


def test_destination_summary_falls_back_to_the_requested_keys():
    bare = Destination.model_validate({"_id": "x", "kind": "segment"})
    summary = destination_summary(bare, project_key="p", environment_key="e")
    assert (summary["project_key"], summary["environment_key"]) == ("p", "e")


@pytest.mark.parametrize("stand_in", ["seg****789", "****"])
def test_readiness_accepts_secrets_the_api_only_shows_obfuscated(stand_in):
    # Production answers stored secrets as stand-ins: "configured" must never depend on reading one.
    assert evaluate_readiness(destination(config={"writeKey": stand_in})).ready is True
    mparticle = destination(
        kind="mparticle",
        config={
            "apiKey": stand_in,
            "secret": stand_in,
            "environment": "production",
            "userIdentities": [{"ldContextKind": "user", "mparticleUserIdentity": "id"}],
            "userIdentity": "id",
        },
    )
    assert evaluate_readiness(mparticle).ready is True


def test_readiness_requires_on_by_default():
    assert not evaluate_readiness(destination(on=False)).ready
    assert evaluate_readiness(destination(on=True)).ready


@pytest.mark.parametrize(
    "artifacts", [{"sqlSetupScript": "CREATE USER ..."}, {"s3BucketName": "ld-export-bucket"}]
)
def test_one_completed_artifact_is_enough(artifacts):
    assert evaluate_readiness(destination(kind="redshift", config={}, completedArtifacts=artifacts)).ready


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda: select_destination([A, B], name="events", kind="segment"), "name"),
        (lambda: validate_target(None, 3, "segment"), "name"),
        (lambda: validate_target(None, "events", None), "destination_id"),
    ],
)
def test_errors_name_the_field(call, field):
    with pytest.raises(LaunchDarklyValidationError) as info:
        call()
    assert info.value.field == field
    assert str(info.value).startswith(field) or str(info.value).startswith("ambiguous")
