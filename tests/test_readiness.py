"""When a destination counts as configured: table-driven checks of the pure rules."""

from __future__ import annotations

import json

import pytest

from airflow_provider_ld.models import Destination
from airflow_provider_ld.readiness import Readiness, destination_summary, evaluate_readiness

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
