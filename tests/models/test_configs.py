from __future__ import annotations

import pytest

from airflow_provider_ld.exceptions import LaunchDarklyValidationError
from airflow_provider_ld.models import (
    DESTINATION_KINDS,
    MParticleConfig,
    SegmentConfig,
    SnowflakeV2Config,
    validate_destination_config,
    validate_kind,
)

VALID_CONFIGS = {
    "azure-event-hubs": {"namespace": "ns", "name": "hub", "policyName": "send", "policyKey": "pk-SECRET-az"},
    "google-pubsub": {"project": "proj", "topic": "ld-events"},
    "kinesis": {"region": "us-east-1", "roleArn": "arn:aws:iam::1:role/ld", "streamName": "ld-events"},
    "mparticle": {
        "apiKey": "mp-SECRET-key",
        "secret": "mp-SECRET-secret",
        "userIdentity": "customer_id",
        "anonymousUserIdentity": "other",
        "environment": "production",
    },
    "segment": {"writeKey": "seg-SECRET-wk", "userIDContextKind": "user"},
    "snowflake-v2": {"publicKey": "MIIB...", "snowflakeHostAddress": "acme.snowflakecomputing.com"},
    "bigquery": {"anything": "goes"},
    "databricks": {},
    "redshift": {"cluster": "c1"},
}
SECRET_VALUES = ["pk-SECRET-az", "mp-SECRET-key", "mp-SECRET-secret", "seg-SECRET-wk"]


def test_every_known_kind_has_a_valid_example():
    assert set(VALID_CONFIGS) == set(DESTINATION_KINDS)


@pytest.mark.parametrize("kind", sorted(VALID_CONFIGS))
def test_valid_config_round_trips_to_the_wire(kind):
    checked = validate_destination_config(kind, VALID_CONFIGS[kind])
    assert checked.to_request() == VALID_CONFIGS[kind]


@pytest.mark.parametrize("kind", sorted(VALID_CONFIGS))
def test_secrets_are_hidden_in_repr_and_dict(kind):
    checked = validate_destination_config(kind, VALID_CONFIGS[kind])
    shown = repr(checked) + str(checked) + repr(checked.to_dict())
    for secret in SECRET_VALUES:
        assert secret not in shown


@pytest.mark.parametrize(
    ("kind", "config", "field", "words"),
    [
        ("segment", {}, "config.writeKey", "required for kind 'segment'"),
        ("segment", {"writeKey": ""}, "config.writeKey", "must not be empty"),
        ("segment", {"writeKey": 123}, "config.writeKey", "valid string"),
        (
            "segment",
            {"writeKey": "x", "writekey": "y"},
            "config.writekey",
            "is not a field of kind 'segment'",
        ),
        ("kinesis", {"region": "r", "roleArn": "a"}, "config.streamName", "required"),
        ("google-pubsub", {"project": "p"}, "config.topic", "required"),
        (
            "azure-event-hubs",
            {"namespace": "n", "name": "h", "policyName": "p"},
            "config.policyKey",
            "required",
        ),
        ("snowflake-v2", {"publicKey": "k"}, "config.snowflakeHostAddress", "required"),
        ("mparticle", {"apiKey": "a", "secret": "s"}, "config.environment", "required"),
        (
            "mparticle",
            {"apiKey": "a", "secret": "s", "environment": "production"},
            "config.userIdentity",
            "required",
        ),
        (
            "mparticle",
            {"apiKey": "a", "secret": "s", "userIdentity": "u", "environment": "prod"},
            "config.environment",
            "'production' or 'development'",
        ),
        ("kinesis", ["region"], "config", "must be an object"),
        ("kinesis", None, "config", "must be an object"),
    ],
)
def test_bad_config_names_field_and_allowed_fields(kind, config, field, words):
    with pytest.raises(LaunchDarklyValidationError) as info:
        validate_destination_config(kind, config)
    assert info.value.field == field
    assert words in str(info.value)
    assert str(info.value).startswith(field)


def test_error_lists_required_and_optional_fields():
    with pytest.raises(LaunchDarklyValidationError) as info:
        validate_destination_config("segment", {})
    assert "required fields: writeKey; optional fields: userIDContextKind, anonymousIDContextKind" in str(
        info.value
    )
    assert info.value.allowed == ("writeKey", "userIDContextKind", "anonymousIDContextKind")


def test_mistyped_secret_is_not_echoed():
    with pytest.raises(LaunchDarklyValidationError) as info:
        validate_destination_config("segment", {"writeKey": "seg-SECRET-wk", "extra": "x"})
    assert "seg-SECRET-wk" not in str(info.value)
    with pytest.raises(LaunchDarklyValidationError) as info:
        validate_destination_config(
            "mparticle", {"apiKey": ["mp-SECRET-key"], "secret": "s", "userIdentity": "u"}
        )
    assert "mp-SECRET-key" not in str(info.value)


@pytest.mark.parametrize("kind", ["nope", "", None, 7, "Segment", "clickhouse"])
def test_unknown_kind_lists_allowed_values(kind):
    with pytest.raises(LaunchDarklyValidationError) as info:
        validate_kind(kind)
    assert info.value.field == "kind"
    assert info.value.allowed == DESTINATION_KINDS
    assert "allowed values: azure-event-hubs, bigquery" in str(info.value)


def test_opt_in_sends_unknown_kind_unchecked():
    assert validate_destination_config("clickhouse", {"host": "h"}, allow_unknown=True) == {"host": "h"}


def test_opt_in_keeps_unknown_fields_of_known_kind_and_hides_their_secrets():
    checked = validate_destination_config(
        "segment", {"writeKey": "seg-SECRET-wk", "newToken": "tok-SECRET"}, allow_unknown=True
    )
    assert checked.to_request() == {"writeKey": "seg-SECRET-wk", "newToken": "tok-SECRET"}
    assert "tok-SECRET" not in repr(checked)
    assert checked.to_dict() == {"writeKey": "**********", "newToken": "**********"}


def test_model_instances_are_accepted_and_checked_against_kind():
    assert validate_destination_config("segment", SegmentConfig(writeKey="w")).to_request() == {
        "writeKey": "w"
    }
    with pytest.raises(LaunchDarklyValidationError, match="use SnowflakeV2Config"):
        validate_destination_config("snowflake-v2", SegmentConfig(writeKey="w"))
    with pytest.raises(LaunchDarklyValidationError, match="config.userIdentity"):
        validate_destination_config(
            "mparticle", MParticleConfig(apiKey="a", secret="s", environment="development")
        )


def test_snowflake_config_model():
    config = SnowflakeV2Config(publicKey="pk", snowflakeHostAddress="acme.snowflakecomputing.com")
    assert config.to_request() == {"publicKey": "pk", "snowflakeHostAddress": "acme.snowflakecomputing.com"}
