"""
Typed ``config`` for each Data Export destination kind, and the check run before any request.

Field names are the API's wire names, so a config written from the LaunchDarkly docs validates as is.
"""

from __future__ import annotations

from functools import cache
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, model_validator

# The kind lists and the kind check are plain (no pydantic); tests pin DESTINATION_KINDS to CONFIG_MODELS.
from airflow_provider_ld.checks import (
    DESTINATION_KINDS,
    KNOWN_KINDS,
    WAREHOUSE_COMPLETE_KINDS,
    WAREHOUSE_KINDS,
    WAREHOUSE_SETUP_KINDS,
    validate_kind,
)
from airflow_provider_ld.exceptions import LaunchDarklyValidationError
from airflow_provider_ld.models.secrets import hide_secrets, redact_fields, reveal_fields

NonEmpty = Field(min_length=1)


class DestinationConfig(BaseModel):
    """
    Base of the per-kind config models.

    ``confirmed`` is ``False`` for kinds whose config keys no API document lists; those accept any
    fields and check nothing beyond the object shape.
    """

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    kind: ClassVar[str]
    confirmed: ClassVar[bool] = True

    def check(self) -> None:
        """Run checks that involve several fields; raise :class:`LaunchDarklyValidationError`."""

    def to_request(self) -> dict[str, Any]:
        """Return the config as sent on the wire: secrets revealed, unset optional fields left out."""
        return reveal_fields(self.model_dump(by_alias=True, exclude_none=True))

    def to_dict(self) -> dict[str, Any]:
        """Return the config with secrets redacted, safe for logs and XCom."""
        return redact_fields(self.model_dump(by_alias=True, exclude_none=True))


class AzureEventHubsConfig(DestinationConfig):
    """``azure-event-hubs``: the Event Hub namespace, hub name and a shared access policy."""

    kind = "azure-event-hubs"
    namespace: str = NonEmpty
    name: str = NonEmpty
    policyName: str = NonEmpty
    policyKey: SecretStr = NonEmpty


class GooglePubSubConfig(DestinationConfig):
    """``google-pubsub``: the Google Cloud project and Pub/Sub topic."""

    kind = "google-pubsub"
    project: str = NonEmpty
    topic: str = NonEmpty


class KinesisConfig(DestinationConfig):
    """``kinesis``: region, the IAM role LaunchDarkly assumes, and the stream *name* (not its ARN)."""

    kind = "kinesis"
    region: str = NonEmpty
    roleArn: str = NonEmpty
    streamName: str = NonEmpty


class MParticleUserIdentity(BaseModel):
    """One ``userIdentities`` entry: which context kind maps to which mParticle identity."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)
    ldContextKind: str = NonEmpty
    mparticleUserIdentity: str = NonEmpty


class MParticleConfig(DestinationConfig):
    """
    ``mparticle``: API key and secret, the mParticle environment, and the identity mapping.

    ``environment`` is required (the API and LaunchDarkly's Terraform provider refuse a config without it);
    either ``userIdentity`` or ``userIdentities`` is required.
    """

    kind = "mparticle"
    apiKey: SecretStr = NonEmpty
    secret: SecretStr = NonEmpty
    environment: Literal["production", "development"]
    userIdentity: str | None = Field(default=None, min_length=1)
    userIdentities: list[MParticleUserIdentity] | None = Field(default=None, min_length=1)
    anonymousUserIdentity: str | None = Field(default=None, min_length=1)

    def check(self) -> None:
        if self.userIdentity is None and self.userIdentities is None:
            raise LaunchDarklyValidationError(
                "config.userIdentity: required for kind 'mparticle' (or give config.userIdentities)",
                field="config.userIdentity",
            )


class SegmentConfig(DestinationConfig):
    """``segment``: the Segment source's write key and optional context-kind mapping."""

    kind = "segment"
    writeKey: SecretStr = NonEmpty
    userIDContextKind: str | None = None
    anonymousIDContextKind: str | None = None


class SnowflakeV2Config(DestinationConfig):
    """``snowflake-v2``: the key-pair public key and the Snowflake account URL."""

    kind = "snowflake-v2"
    publicKey: str = NonEmpty
    snowflakeHostAddress: str = NonEmpty


class _UnconfirmedWarehouseConfig(DestinationConfig):
    """A warehouse kind the API accepts but whose config keys no document lists; any fields pass."""

    model_config = ConfigDict(extra="allow", strict=True, frozen=True)
    confirmed = False


class BigQueryConfig(_UnconfirmedWarehouseConfig):
    """``bigquery`` (config keys unconfirmed by the API documents)."""

    kind = "bigquery"


class DatabricksConfig(_UnconfirmedWarehouseConfig):
    """``databricks`` (config keys unconfirmed by the API documents)."""

    kind = "databricks"


class RedshiftConfig(_UnconfirmedWarehouseConfig):
    """``redshift`` (config keys unconfirmed; use the guided warehouse setup instead)."""

    kind = "redshift"


CONFIG_MODELS: dict[str, type[DestinationConfig]] = {
    model.kind: model
    for model in (
        AzureEventHubsConfig,
        BigQueryConfig,
        DatabricksConfig,
        GooglePubSubConfig,
        KinesisConfig,
        MParticleConfig,
        RedshiftConfig,
        SegmentConfig,
        SnowflakeV2Config,
    )
}


def validate_destination_config(
    kind: str, config: Any, *, allow_unknown: bool = False
) -> DestinationConfig | dict[str, Any]:
    """
    Check ``config`` against the model for ``kind`` before it is sent.

    :param kind: a destination kind (see :data:`DESTINATION_KINDS`).
    :param config: a dict in wire spelling, or an instance of the kind's config model.
    :param allow_unknown: accept an unknown kind (its config is sent unchecked) and, for known kinds,
        fields this release does not know.
    :return: the validated model, or for an unknown kind the config dict itself.
    :raises LaunchDarklyValidationError: naming the field (``config.<name>``) and the fields the kind takes.
    """
    validate_kind(kind, allow_unknown=allow_unknown)
    model = CONFIG_MODELS.get(kind)
    if isinstance(config, DestinationConfig):
        if model is not None and not isinstance(config, model):
            raise LaunchDarklyValidationError(
                f"config: a {type(config).__name__} cannot be used for kind {kind!r}; use {model.__name__}",
                field="config",
            )
        config.check()
        return config
    if not isinstance(config, dict):
        raise LaunchDarklyValidationError(
            f"config: must be an object (dict) of the kind's fields, got {type(config).__name__}",
            field="config",
        )
    if model is None:
        return dict(config)
    if allow_unknown:
        model = _lenient(model)
    try:
        validated = model.model_validate(config)
    except ValidationError as err:
        raise _config_error(model, err) from None
    validated.check()
    return validated


@cache
def _lenient(model: type[DestinationConfig]) -> type[DestinationConfig]:
    """Return a variant of ``model`` that keeps (and sends) fields it does not know."""

    def hide_unknown_secrets(cls: type[DestinationConfig], data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        unknown = {key: value for key, value in data.items() if key not in cls.model_fields}
        return {**data, **hide_secrets(unknown)}

    namespace = {
        "model_config": ConfigDict(**{**model.model_config, "extra": "allow"}),
        "__doc__": model.__doc__,
        # the validator's first parameter is ``cls``, so pydantic binds it as a classmethod
        "_hide_unknown_secrets": model_validator(mode="before")(hide_unknown_secrets),
    }
    return type(model.__name__, (model,), namespace)


def _config_error(model: type[DestinationConfig], err: ValidationError) -> LaunchDarklyValidationError:
    """Turn pydantic's error into ours, naming the field but never echoing the (possibly secret) input."""
    first = err.errors(include_input=False, include_url=False)[0]
    location = ".".join(str(part) for part in first["loc"])
    field = f"config.{location}" if location else "config"
    required = [name for name, info in model.model_fields.items() if info.is_required()]
    optional = [name for name in model.model_fields if name not in required]
    reason = {
        "missing": f"required for kind {model.kind!r}",
        "extra_forbidden": f"is not a field of kind {model.kind!r}",
        "too_short": "must not be empty",
        "string_too_short": "must not be empty",
    }.get(first["type"], first["msg"].lower())
    fields = f"required fields: {', '.join(required) or 'none'}"
    if optional:
        fields += f"; optional fields: {', '.join(optional)}"
    return LaunchDarklyValidationError(
        f"{field}: {reason} ({fields})", field=field, allowed=tuple(model.model_fields)
    )


def missing_config_fields(kind: str | None, config: Any) -> list[str]:
    """
    Return the fields ``kind`` requires that ``config`` (as the API returned it) lacks or leaves empty.

    Kinds whose keys are unconfirmed, and unknown kinds, require nothing. ``mparticle`` needs
    ``userIdentity`` or ``userIdentities``.

    :param kind: the destination's kind.
    :param config: the destination's ``config`` (secret values may be ``SecretStr``).
    """
    model = CONFIG_MODELS.get(kind or "")
    if model is None or not model.confirmed:
        return []
    values = config if isinstance(config, dict) else {}

    def present(name: str) -> bool:
        value = values.get(name)
        if isinstance(value, SecretStr):
            value = value.get_secret_value()
        return value not in (None, "", [], {})

    missing = [name for name, info in model.model_fields.items() if info.is_required() and not present(name)]
    if model is MParticleConfig and not (present("userIdentity") or present("userIdentities")):
        missing.append("userIdentity")
    return missing


__all__ = [
    "CONFIG_MODELS",
    "DESTINATION_KINDS",
    "KNOWN_KINDS",
    "WAREHOUSE_COMPLETE_KINDS",
    "WAREHOUSE_KINDS",
    "WAREHOUSE_SETUP_KINDS",
    "AzureEventHubsConfig",
    "BigQueryConfig",
    "DatabricksConfig",
    "DestinationConfig",
    "GooglePubSubConfig",
    "KinesisConfig",
    "MParticleConfig",
    "MParticleUserIdentity",
    "RedshiftConfig",
    "SegmentConfig",
    "SnowflakeV2Config",
    "missing_config_fields",
    "validate_destination_config",
    "validate_kind",
]
