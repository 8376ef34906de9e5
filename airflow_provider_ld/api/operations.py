"""
One builder per API operation (the 18 in the OpenAPI subset): check the input, return an :class:`ApiRequest`.

Every check runs here, before any request exists, so bad input never reaches the wire.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from airflow_provider_ld.api.calls import ApiRequest
from airflow_provider_ld.api.patches import is_version_guarded, patch_body, validate_json_patch
from airflow_provider_ld.exceptions import LaunchDarklyValidationError
from airflow_provider_ld.models import (
    WAREHOUSE_COMPLETE_KINDS,
    WAREHOUSE_SETUP_KINDS,
    CallerIdentity,
    DeliveryValidationResult,
    Destination,
    DestinationList,
    IntegrationDeliveryConfiguration,
    IntegrationDeliveryConfigurationList,
    TrustPolicy,
    WarehouseKeyPair,
    WarehouseSetupRequest,
    WarehouseSetupScript,
    validate_delivery_config,
    validate_destination_config,
    validate_key,
    validate_kind,
)
from airflow_provider_ld.models._base import validate_bool, validate_name
from airflow_provider_ld.models.configs import DestinationConfig

DESTINATIONS = "/api/v2/destinations"
FEATURE_STORE = "/api/v2/integration-capabilities/featureStore"


def _keys(**keys: Any) -> list[str]:
    """Check each key and return them URL-quoted, in order."""
    return [quote(validate_key(name, value), safe="") for name, value in keys.items()]


def _json_safe(field: str, value: Any) -> Any:
    """
    Check that ``value`` can be sent as strict JSON (RFC 8259): no NaN or Infinity, only JSON types.

    :param field: the argument's name, used in the error (e.g. ``config``).
    :param value: the body part to check.
    :return: the value, unchanged.
    :raises LaunchDarklyValidationError: naming ``field`` when JSON cannot carry the value.
    """
    try:
        json.dumps(value, allow_nan=False)
    except ValueError:
        raise LaunchDarklyValidationError(
            f"{field}: NaN and Infinity are not JSON; use a finite number or a string", field=field
        ) from None
    except TypeError as err:
        raise LaunchDarklyValidationError(
            f"{field}: holds a value JSON cannot carry ({err}); allowed: strings, numbers, booleans, "
            "null, lists and objects",
            field=field,
        ) from None
    return value


def _scoped(project_key: str, environment_key: str) -> str:
    """``/api/v2/destinations/projects/{projKey}/environments/{envKey}`` (warehouse helper routes)."""
    project, environment = _keys(project_key=project_key, environment_key=environment_key)
    return f"{DESTINATIONS}/projects/{project}/environments/{environment}"


# Data Export destinations


def list_destinations() -> ApiRequest:
    """``GET /api/v2/destinations`` (getDestinations)."""
    return ApiRequest("getDestinations", "GET", DESTINATIONS, response_model=DestinationList)


def create_destination(
    project_key: str,
    environment_key: str,
    *,
    kind: str,
    config: Mapping[str, Any] | DestinationConfig,
    name: str | None = None,
    on: bool = False,
    allow_unknown_kind: bool = False,
) -> ApiRequest:
    """``POST /api/v2/destinations/{projectKey}/{environmentKey}`` (postDestination)."""
    project, environment = _keys(project_key=project_key, environment_key=environment_key)
    validate_kind(kind, allow_unknown=allow_unknown_kind)
    checked = validate_destination_config(kind, config, allow_unknown=allow_unknown_kind)
    body: dict[str, Any] = {
        "kind": kind,
        "config": _json_safe(
            "config", checked.to_request() if isinstance(checked, DestinationConfig) else checked
        ),
        "on": validate_bool("on", on),
    }
    if validate_name("name", name) is not None:
        body["name"] = name
    return ApiRequest(
        "postDestination",
        "POST",
        f"{DESTINATIONS}/{project}/{environment}",
        body=body,
        response_model=Destination,
    )


def _destination_path(project_key: str, environment_key: str, destination_id: str) -> str:
    parts = _keys(project_key=project_key, environment_key=environment_key, destination_id=destination_id)
    return f"{DESTINATIONS}/{'/'.join(parts)}"


def get_destination(project_key: str, environment_key: str, destination_id: str) -> ApiRequest:
    """``GET /api/v2/destinations/{projectKey}/{environmentKey}/{id}`` (getDestination)."""
    path = _destination_path(project_key, environment_key, destination_id)
    return ApiRequest("getDestination", "GET", path, response_model=Destination)


def patch_destination(
    project_key: str,
    environment_key: str,
    destination_id: str,
    patch: Any = None,
    *,
    merge_patch: Mapping[str, Any] | None = None,
    comment: str | None = None,
) -> ApiRequest:
    """``PATCH /api/v2/destinations/{projectKey}/{environmentKey}/{id}`` (patchDestination)."""
    path = _destination_path(project_key, environment_key, destination_id)
    operations = _json_safe("patch", validate_json_patch(patch)) if patch is not None else None
    body = patch_body(operations, _json_safe("merge_patch", merge_patch), comment)
    guarded = operations is not None and is_version_guarded(operations)
    return ApiRequest(
        "patchDestination", "PATCH", path, body=body, idempotent=guarded, response_model=Destination
    )


def delete_destination(project_key: str, environment_key: str, destination_id: str) -> ApiRequest:
    """``DELETE /api/v2/destinations/{projectKey}/{environmentKey}/{id}`` (deleteDestination)."""
    return ApiRequest(
        "deleteDestination", "DELETE", _destination_path(project_key, environment_key, destination_id)
    )


# Warehouse setup


def generate_warehouse_key_pair(
    project_key: str | None = None, environment_key: str | None = None
) -> ApiRequest:
    """
    Generate a Snowflake key pair: the account-wide route, or with both keys the project/environment one.

    ``POST /api/v2/destinations/generate-warehouse-destination-key-pair`` (postGenerateWarehouseDestinationKeyPair)
    or ``POST .../projects/{projKey}/environments/{envKey}/generate-warehouse-destination-key-pair``
    (postGenerateProjectEnvWarehouseDestinationKeyPair).
    """
    if project_key is None and environment_key is None:
        return ApiRequest(
            "postGenerateWarehouseDestinationKeyPair",
            "POST",
            f"{DESTINATIONS}/generate-warehouse-destination-key-pair",
            response_model=WarehouseKeyPair,
        )
    if project_key is None or environment_key is None:
        missing = "project_key" if project_key is None else "environment_key"
        raise LaunchDarklyValidationError(
            f"{missing}: give both project_key and environment_key, or neither", field=missing
        )
    return ApiRequest(
        "postGenerateProjectEnvWarehouseDestinationKeyPair",
        "POST",
        f"{_scoped(project_key, environment_key)}/generate-warehouse-destination-key-pair",
        response_model=WarehouseKeyPair,
    )


def generate_trust_policy(project_key: str, environment_key: str) -> ApiRequest:
    """``POST .../projects/{projKey}/environments/{envKey}/generate-trust-policy`` (postGenerateTrustPolicy)."""
    return ApiRequest(
        "postGenerateTrustPolicy",
        "POST",
        f"{_scoped(project_key, environment_key)}/generate-trust-policy",
        response_model=TrustPolicy,
    )


def generate_warehouse_setup_script(
    project_key: str,
    environment_key: str,
    kind: str,
    setup: Mapping[str, Any] | WarehouseSetupRequest | None = None,
    *,
    allow_unknown_kind: bool = False,
) -> ApiRequest:
    """``POST .../kinds/{kind}/setup`` (postGenerateWarehouseDestinationSetupScript)."""
    base = _scoped(project_key, environment_key)
    validate_kind(kind, allowed=WAREHOUSE_SETUP_KINDS, allow_unknown=allow_unknown_kind)
    body = WarehouseSetupRequest.parse(setup).to_request()
    return ApiRequest(
        "postGenerateWarehouseDestinationSetupScript",
        "POST",
        f"{base}/kinds/{quote(kind, safe='')}/setup",
        body=body,
        response_model=WarehouseSetupScript,
    )


def complete_warehouse_setup(
    project_key: str,
    environment_key: str,
    kind: str,
    public_key: str | None = None,
    *,
    allow_unknown_kind: bool = False,
) -> ApiRequest:
    """``POST .../kinds/{kind}/complete-setup`` (postCompleteWarehouseDestinationSetup)."""
    base = _scoped(project_key, environment_key)
    validate_kind(kind, allowed=WAREHOUSE_COMPLETE_KINDS, allow_unknown=allow_unknown_kind)
    if kind == "snowflake-v2" and not public_key:
        raise LaunchDarklyValidationError(
            "public_key: required for kind 'snowflake-v2' (the publicKey the setup call returned)",
            field="public_key",
        )
    if public_key is not None and (not isinstance(public_key, str) or not public_key):
        raise LaunchDarklyValidationError("public_key: must be a non-empty string", field="public_key")
    body = {"publicKey": public_key} if public_key else {}
    return ApiRequest(
        "postCompleteWarehouseDestinationSetup",
        "POST",
        f"{base}/kinds/{quote(kind, safe='')}/complete-setup",
        body=body,
        response_model=Destination,
    )


# Integration delivery configurations (beta)


def list_delivery_configurations(
    project_key: str | None = None, environment_key: str | None = None
) -> ApiRequest:
    """
    List delivery configurations: all of them, or with both keys those of one environment.

    ``GET .../featureStore`` (getIntegrationDeliveryConfigurations) or
    ``GET .../featureStore/{projectKey}/{environmentKey}`` (getIntegrationDeliveryConfigurationByEnvironment).
    """
    if project_key is None and environment_key is None:
        return ApiRequest(
            "getIntegrationDeliveryConfigurations",
            "GET",
            FEATURE_STORE,
            beta=True,
            response_model=IntegrationDeliveryConfigurationList,
        )
    project, environment = _keys(project_key=project_key, environment_key=environment_key)
    return ApiRequest(
        "getIntegrationDeliveryConfigurationByEnvironment",
        "GET",
        f"{FEATURE_STORE}/{project}/{environment}",
        beta=True,
        response_model=IntegrationDeliveryConfigurationList,
    )


def create_delivery_configuration(
    project_key: str,
    environment_key: str,
    integration_key: str,
    *,
    config: Mapping[str, Any],
    on: bool = False,
    name: str | None = None,
    tags: list[str] | None = None,
    allow_unknown_integration: bool = False,
) -> ApiRequest:
    """``POST .../featureStore/{projectKey}/{environmentKey}/{integrationKey}`` (createIntegrationDeliveryConfiguration)."""
    parts = _keys(project_key=project_key, environment_key=environment_key, integration_key=integration_key)
    body: dict[str, Any] = {
        "config": _json_safe(
            "config",
            validate_delivery_config(integration_key, config, allow_unknown=allow_unknown_integration),
        ),
        "on": validate_bool("on", on),
    }
    if validate_name("name", name) is not None:
        body["name"] = name
    if tags is not None:
        if not isinstance(tags, (list, tuple)) or not all(isinstance(tag, str) and tag for tag in tags):
            raise LaunchDarklyValidationError("tags: must be a list of non-empty strings", field="tags")
        body["tags"] = list(tags)
    return ApiRequest(
        "createIntegrationDeliveryConfiguration",
        "POST",
        f"{FEATURE_STORE}/{'/'.join(parts)}",
        body=body,
        beta=True,
        response_model=IntegrationDeliveryConfiguration,
    )


def _delivery_path(
    project_key: str, environment_key: str, integration_key: str, configuration_id: str
) -> str:
    parts = _keys(
        project_key=project_key,
        environment_key=environment_key,
        integration_key=integration_key,
        configuration_id=configuration_id,
    )
    return f"{FEATURE_STORE}/{'/'.join(parts)}"


def get_delivery_configuration(
    project_key: str, environment_key: str, integration_key: str, configuration_id: str
) -> ApiRequest:
    """``GET .../featureStore/{projectKey}/{environmentKey}/{integrationKey}/{id}`` (getIntegrationDeliveryConfigurationById)."""
    path = _delivery_path(project_key, environment_key, integration_key, configuration_id)
    return ApiRequest(
        "getIntegrationDeliveryConfigurationById",
        "GET",
        path,
        beta=True,
        response_model=IntegrationDeliveryConfiguration,
    )


def patch_delivery_configuration(
    project_key: str, environment_key: str, integration_key: str, configuration_id: str, patch: Any
) -> ApiRequest:
    """``PATCH .../featureStore/{projectKey}/{environmentKey}/{integrationKey}/{id}`` (patchIntegrationDeliveryConfiguration)."""
    path = _delivery_path(project_key, environment_key, integration_key, configuration_id)
    operations = _json_safe("patch", validate_json_patch(patch))
    return ApiRequest(
        "patchIntegrationDeliveryConfiguration",
        "PATCH",
        path,
        body=operations,
        beta=True,
        idempotent=is_version_guarded(operations),
        response_model=IntegrationDeliveryConfiguration,
    )


def delete_delivery_configuration(
    project_key: str, environment_key: str, integration_key: str, configuration_id: str
) -> ApiRequest:
    """``DELETE .../featureStore/{projectKey}/{environmentKey}/{integrationKey}/{id}`` (deleteIntegrationDeliveryConfiguration)."""
    path = _delivery_path(project_key, environment_key, integration_key, configuration_id)
    return ApiRequest("deleteIntegrationDeliveryConfiguration", "DELETE", path, beta=True)


def validate_delivery_configuration(
    project_key: str, environment_key: str, integration_key: str, configuration_id: str
) -> ApiRequest:
    """``POST .../featureStore/{projectKey}/{environmentKey}/{integrationKey}/{id}/validate`` (validateIntegrationDeliveryConfiguration)."""
    path = _delivery_path(project_key, environment_key, integration_key, configuration_id)
    return ApiRequest(
        "validateIntegrationDeliveryConfiguration",
        "POST",
        f"{path}/validate",
        beta=True,
        idempotent=True,
        response_model=DeliveryValidationResult,
    )


# Other


def get_caller_identity() -> ApiRequest:
    """``GET /api/v2/caller-identity`` (getCallerIdentity)."""
    return ApiRequest("getCallerIdentity", "GET", "/api/v2/caller-identity", response_model=CallerIdentity)
