"""Request-body validation rules of the emulated LaunchDarkly API."""

from __future__ import annotations

from typing import Any, TypeVar

from airflow_provider_ld.testing._errors import bad_request

_Kind = TypeVar("_Kind")
_Default = TypeVar("_Default")

#: ``kind`` enum of ``DestinationPost`` / ``Destination`` in the OpenAPI spec.
DESTINATION_KINDS: tuple[str, ...] = (
    "google-pubsub",
    "kinesis",
    "mparticle",
    "segment",
    "azure-event-hubs",
    "snowflake-v2",
    "databricks",
    "bigquery",
    "redshift",
)

#: Kinds accepted by the guided warehouse ``setup`` route (its ``kind`` parameter text).
WAREHOUSE_SETUP_KINDS: tuple[str, ...] = ("snowflake-v2", "redshift", "clickhouse")
#: Kinds accepted by ``complete-setup`` (its parameter text: v23 lists four, v24 adds ``databricks``).
WAREHOUSE_COMPLETE_KINDS: tuple[str, ...] = (
    "snowflake-v2",
    "bigquery",
    "clickhouse",
    "redshift",
    "databricks",
)

#: Destination config fields LaunchDarkly stores but only answers obfuscated (the ones its Terraform
#: provider preserves from the user's own configuration).
DESTINATION_SECRET_KEYS = frozenset({"writeKey", "policyKey", "apiKey", "secret"})

#: Required (non-empty string) ``config`` keys per destination kind.
REQUIRED_CONFIG_KEYS: dict[str, tuple[str, ...]] = {
    "azure-event-hubs": ("namespace", "name", "policyName", "policyKey"),
    "google-pubsub": ("project", "topic"),
    "kinesis": ("region", "roleArn", "streamName"),
    "mparticle": ("apiKey", "secret", "environment"),
    "segment": ("writeKey",),
    "snowflake-v2": ("publicKey", "snowflakeHostAddress"),
}

MPARTICLE_ENVIRONMENTS = ("production", "development")

#: ``warehouseSetupScriptPostBody`` properties and their JSON types.
SETUP_BODY_FIELDS: dict[str, type] = {
    "name": str,
    "snowflakeHostAddress": str,
    "databaseName": str,
    "warehouseName": str,
    "roleName": str,
    "schemaName": str,
    "userName": str,
    "includeNetworkPolicy": bool,
    "clusterIdentifier": str,
    "clusterRegion": str,
    "clusterAwsAccountId": str,
    "endpoint": str,
    "clickHouseDatabaseName": str,
    "clickHouseUserName": str,
    "clickHouseS3BucketName": str,
    "clickHouseIncludeHostRestriction": bool,
    "clickHouseServiceRoleArn": str,
    "clickHousePassword": str,
    "s3BucketName": str,
}

#: Setup-body fields that are secrets and are never stored in a destination or script.
SECRET_SETUP_FIELDS = frozenset({"clickHousePassword"})

#: Required ``config`` form variables per feature-store integration (manifest ``formVariables``).
DELIVERY_REQUIRED_KEYS: dict[str, tuple[str, ...]] = {
    "akamai-edgeworkers": (
        "hostname",
        "namespaceId",
        "groupId",
        "clientSecret",
        "clientToken",
        "accessToken",
    ),
    "cloudflare": ("accountId", "namespaceId", "apiToken"),
    "convex": ("deploymentPayloadUrl", "componentApiToken"),
    "fastly": ("storeId", "apiToken"),
    "generic-feature-store": ("validationReqUrl", "featureStoreReqUrl"),
    "netlify": ("siteId", "syncToken"),
    "vercel": ("edgeConfigId", "apiToken", "configurationId"),
}

#: Form variables that LaunchDarkly stores but only returns obfuscated.
DELIVERY_SECRET_KEYS = frozenset(
    {"apiToken", "syncToken", "clientSecret", "clientToken", "accessToken", "componentApiToken"}
)

AKAMAI_NETWORKS = ("production", "staging")

_TYPE_NAMES = {str: "a string", bool: "a boolean", dict: "an object", list: "an array"}


def require_object(value: Any, what: str = "Request body") -> dict[str, Any]:
    """
    Check that a parsed JSON value is an object.

    :param value: parsed JSON value.
    :param what: name used in the error message.
    :raises ApiError: 400 when it is not an object.
    """
    if not isinstance(value, dict):
        raise bad_request(f"{what} must be a JSON object")
    return value


def known_fields(body: dict[str, Any], allowed: set[str] | dict[str, Any]) -> dict[str, Any]:
    """
    Keep only the properties the request schema defines.

    The API ignores request-body fields that are not part of the endpoint's request schema and does not
    return an error for them (``launchdarkly-api`` 25.x overview, "Representations").

    :param body: request object.
    :param allowed: the schema's property names.
    """
    return {key: value for key, value in body.items() if key in allowed}


def optional_field(body: dict[str, Any], name: str, kind: type[_Kind], default: _Default) -> _Kind | _Default:
    """
    Read an optional, typed property.

    :param body: request object.
    :param name: property name.
    :param kind: expected Python type (``str``, ``bool``, ``list`` or ``dict``).
    :param default: value when the property is absent.
    :raises ApiError: 400 when the property has the wrong type.
    """
    if name not in body:
        return default
    value = body[name]
    if not isinstance(value, kind) or (kind is not bool and isinstance(value, bool)):
        raise bad_request(f"{name} must be {_TYPE_NAMES[kind]}")
    return value


def validate_destination_post(body: Any) -> tuple[str, str, dict[str, Any], bool]:
    """
    Validate a ``DestinationPost`` body.

    :param body: parsed JSON body.
    :return: ``(name, kind, config, on)``.
    :raises ApiError: 400 describing the first problem.
    """
    body = known_fields(require_object(body), {"name", "kind", "config", "on"})
    name = optional_field(body, "name", str, "")
    on = optional_field(body, "on", bool, False)
    if "kind" not in body:
        raise bad_request("kind is required")
    kind = body["kind"]
    validate_kind(kind)
    if "config" not in body:
        raise bad_request("config is required")
    config = require_object(body["config"], "config")
    validate_destination_config(kind, config)
    return name, kind, config, on


def validate_kind(kind: Any, extra_allowed: tuple[str, ...] = ()) -> None:
    """
    Check a destination ``kind`` against the spec enum.

    :param kind: the value sent.
    :param extra_allowed: additional kinds accepted (the kind a destination already has).
    :raises ApiError: 400 naming the kind.
    """
    if not isinstance(kind, str) or (kind not in DESTINATION_KINDS and kind not in extra_allowed):
        raise bad_request(
            f"Unknown destination kind {kind!r}; expected one of {', '.join(DESTINATION_KINDS)}"
        )


def validate_destination_config(kind: str, config: Any) -> None:
    """
    Check that ``config`` carries what a destination of ``kind`` needs.

    :param kind: destination kind.
    :param config: the ``config`` value.
    :raises ApiError: 400 naming the missing or mistyped field.
    """
    config = require_object(config, "config")
    for key in REQUIRED_CONFIG_KEYS.get(kind, ()):
        require_config_string(config, key, kind)
    if kind == "mparticle":
        _validate_mparticle(config)


def require_config_string(config: dict[str, Any], key: str, owner: str) -> str:
    """
    Read a required, non-empty string from a ``config`` object.

    :param config: the config object.
    :param key: property name.
    :param owner: destination kind or integration key, for the error message.
    :raises ApiError: 400 naming ``config.<key>``.
    """
    if key not in config:
        raise bad_request(f"config.{key} is required for {owner!r}")
    value = config[key]
    if not isinstance(value, str) or not value:
        raise bad_request(f"config.{key} must be a non-empty string")
    return value


def _validate_mparticle(config: dict[str, Any]) -> None:
    """
    Apply the mParticle-specific rules (environment enum, user identity).

    :param config: the config object.
    """
    if config["environment"] not in MPARTICLE_ENVIRONMENTS:
        raise bad_request("config.environment must be 'production' or 'development'")
    if "anonymousUserIdentity" in config and not isinstance(config["anonymousUserIdentity"], str):
        raise bad_request("config.anonymousUserIdentity must be a string")
    identity = config.get("userIdentity")
    identities = config.get("userIdentities")
    if isinstance(identity, str) and identity:
        return
    if isinstance(identities, list) and identities:
        for item in identities:
            if not (
                isinstance(item, dict)
                and isinstance(item.get("ldContextKind"), str)
                and isinstance(item.get("mparticleUserIdentity"), str)
            ):
                raise bad_request(
                    "config.userIdentities items must be objects with string "
                    "ldContextKind and mparticleUserIdentity"
                )
        return
    raise bad_request(
        "config.userIdentity (or a non-empty config.userIdentities) is required for 'mparticle'"
    )


def validate_setup_kind(kind: str, allowed: tuple[str, ...] = WAREHOUSE_SETUP_KINDS) -> None:
    """
    Check the ``{kind}`` of the guided ``setup`` route.

    :param kind: path parameter value.
    :param allowed: the kinds the route accepts.
    :raises ApiError: 400 naming the kind.
    """
    if kind not in allowed:
        raise bad_request(
            f"Unsupported warehouse destination kind {kind!r}; expected one of {', '.join(allowed)}"
        )


def validate_complete_setup_kind(kind: str) -> None:
    """
    Check the ``{kind}`` of the ``complete-setup`` route.

    :param kind: path parameter value.
    :raises ApiError: 400 naming the kind.
    """
    validate_setup_kind(kind, WAREHOUSE_COMPLETE_KINDS)


def validate_setup_body(body: Any) -> dict[str, Any]:
    """
    Validate an optional ``warehouseSetupScriptPostBody``.

    :param body: parsed JSON body, or ``None`` when no body was sent.
    :return: the body (``{}`` when absent).
    :raises ApiError: 400 on a non-object or a mistyped field (unknown fields are ignored).
    """
    if body is None:
        return {}
    fields = known_fields(require_object(body), SETUP_BODY_FIELDS)
    for name, kind in SETUP_BODY_FIELDS.items():
        optional_field(fields, name, kind, None)
    return fields


def validate_complete_setup_body(body: Any) -> str | None:
    """
    Validate a ``completeSetupPostBody``.

    :param body: parsed JSON body.
    :return: the ``publicKey`` sent, if any.
    :raises ApiError: 400 on a non-object or a mistyped ``publicKey`` (unknown fields are ignored).
    """
    fields = known_fields(require_object(body), {"publicKey"})
    return optional_field(fields, "publicKey", str, None)


def validate_delivery_post(integration_key: str, body: Any) -> tuple[dict[str, Any], bool, list[str], str]:
    """
    Validate an ``IntegrationDeliveryConfigurationPost`` body.

    :param integration_key: the feature-store integration.
    :param body: parsed JSON body.
    :return: ``(config, on, tags, name)``; ``config`` has defaults filled in.
    :raises ApiError: 400 describing the first problem.
    """
    body = known_fields(require_object(body), {"config", "on", "tags", "name"})
    if "config" not in body:
        raise bad_request("config is required")
    config = validate_delivery_config(integration_key, body["config"])
    on = optional_field(body, "on", bool, False)
    tags = optional_field(body, "tags", list, [])
    if not all(isinstance(tag, str) for tag in tags):
        raise bad_request("tags must be an array of strings")
    name = optional_field(body, "name", str, "")
    return config, on, list(tags), name


def validate_delivery_config(integration_key: str, config: Any) -> dict[str, Any]:
    """
    Check the integration's required form variables.

    :param integration_key: the feature-store integration.
    :param config: the ``config`` value.
    :return: a copy of ``config`` with defaults filled in.
    :raises ApiError: 400 naming the missing or invalid form variable.
    """
    checked = dict(require_object(config, "config"))
    if integration_key == "akamai-edgeworkers":
        checked.setdefault("network", "production")
        if checked["network"] not in AKAMAI_NETWORKS:
            raise bad_request("config.network must be 'production' or 'staging'")
    for key in DELIVERY_REQUIRED_KEYS[integration_key]:
        require_config_string(checked, key, integration_key)
    return checked
