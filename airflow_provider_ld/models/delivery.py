"""Integration delivery configurations (beta): pushing flag data to edge feature stores."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from airflow_provider_ld.exceptions import LaunchDarklyValidationError
from airflow_provider_ld.models._base import ApiModel, ConfigHoldingModel, Link

#: Required ``config`` fields per integration with the ``featureStore`` capability.
INTEGRATION_REQUIRED_FIELDS: dict[str, tuple[str, ...]] = {
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
INTEGRATION_KEYS: tuple[str, ...] = tuple(sorted(INTEGRATION_REQUIRED_FIELDS))


class IntegrationDeliveryConfiguration(ConfigHoldingModel):
    """
    One delivery configuration. ``config`` is only present when fetched by id, and the API returns
    secret fields obfuscated; both are hidden in reprs and :meth:`to_dict`.
    """

    id: str = Field(alias="_id")
    links: dict[str, Link] = Field(default_factory=dict, alias="_links")
    integration_key: str | None = Field(default=None, alias="integrationKey")
    project_key: str | None = Field(default=None, alias="projectKey")
    environment_key: str | None = Field(default=None, alias="environmentKey")
    config: dict[str, Any] | None = None
    on: bool = False
    tags: list[str] = Field(default_factory=list)
    name: str | None = None
    version: int | None = None
    access: dict[str, Any] | None = Field(default=None, alias="_access")


class IntegrationDeliveryConfigurationList(ApiModel):
    """A collection of delivery configurations (not paginated)."""

    links: dict[str, Link] = Field(default_factory=dict, alias="_links")
    items: list[IntegrationDeliveryConfiguration] = Field(default_factory=list)


class DeliveryValidationResult(ApiModel):
    """Outcome of validating a delivery configuration against its integration."""

    status_code: int | None = Field(default=None, alias="statusCode")
    error: str | None = None
    timestamp: int | None = None
    response_body: str | None = Field(default=None, alias="responseBody")


def validate_delivery_config(
    integration_key: str, config: Any, *, allow_unknown: bool = False
) -> dict[str, Any]:
    """
    Check a delivery configuration's ``config`` before it is sent.

    :param integration_key: one of :data:`INTEGRATION_KEYS`.
    :param config: the integration's form variables, in wire spelling.
    :param allow_unknown: accept an integration this release does not know (config sent unchecked).
    :raises LaunchDarklyValidationError: naming the field and the allowed values.
    """
    required = INTEGRATION_REQUIRED_FIELDS.get(integration_key)
    if required is None and not allow_unknown:
        raise LaunchDarklyValidationError(
            f"integration_key: {integration_key!r} is not a feature-store integration; allowed values: "
            f"{', '.join(INTEGRATION_KEYS)}",
            field="integration_key",
            allowed=INTEGRATION_KEYS,
        )
    if not isinstance(config, dict):
        raise LaunchDarklyValidationError(
            f"config: must be an object (dict), got {type(config).__name__}", field="config"
        )
    required_fields = required or ()
    for name in required_fields:
        value = config.get(name)
        if not isinstance(value, str) or not value:
            problem = "required" if value is None else "must be a non-empty string"
            raise LaunchDarklyValidationError(
                f"config.{name}: {problem} for integration {integration_key!r} "
                f"(required fields: {', '.join(required_fields)})",
                field=f"config.{name}",
                allowed=required_fields,
            )
    return dict(config)
