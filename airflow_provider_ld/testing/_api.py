"""Implementations of the 18 emulated LaunchDarkly API operations."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from airflow_provider_ld.testing import _warehouse
from airflow_provider_ld.testing._delivery import (
    FEATURE_STORE_PATH,
    DeliveryConfigStore,
    check_integration_key,
)
from airflow_provider_ld.testing._destinations import DESTINATIONS_PATH, DestinationStore, link
from airflow_provider_ld.testing._errors import parse_json_body
from airflow_provider_ld.testing._patching import parse_destination_patch, parse_patch_ops
from airflow_provider_ld.testing._validation import (
    validate_complete_setup_body,
    validate_complete_setup_kind,
    validate_delivery_post,
    validate_destination_post,
    validate_setup_body,
    validate_setup_kind,
)

FAKE_ACCOUNT_ID = "5f0e6c1d2b3a4c5d6e7f8091"


@dataclass
class ApiState:
    """
    Everything the operations act on.

    :param destinations: destination store.
    :param delivery: delivery-configuration store.
    :param token_id: fake ID of the configured access token.
    """

    destinations: DestinationStore
    delivery: DeliveryConfigStore
    token_id: str


@dataclass(frozen=True)
class OpContext:
    """
    One request as seen by an operation.

    :param params: decoded path parameters.
    :param body: raw request body.
    :param path: request path.
    :param state: emulator state.
    """

    params: dict[str, str]
    body: bytes
    path: str
    state: ApiState

    def json(self, *, required: bool = True) -> Any:
        """
        Parse the body as JSON (400 when invalid).

        :param required: whether an empty body is an error.
        """
        return parse_json_body(self.body, required=required)

    def keys(self, *names: str) -> tuple[str, ...]:
        """
        Return path parameters in order.

        :param names: parameter names.
        """
        return tuple(self.params[name] for name in names)

    def destination_keys(self) -> tuple[str, str, str]:
        """Return the ``projectKey``, ``environmentKey`` and ``id`` path parameters of a destination."""
        return self.params["projectKey"], self.params["environmentKey"], self.params["id"]

    def warehouse_keys(self) -> tuple[str, str]:
        """Return the ``projKey`` and ``envKey`` path parameters of the warehouse routes."""
        return self.params["projKey"], self.params["envKey"]

    def delivery_keys(self) -> tuple[str, str, str, str]:
        """Return the project, environment, integration and id path parameters of a delivery configuration."""
        params = self.params
        return params["projectKey"], params["environmentKey"], params["integrationKey"], params["id"]


@dataclass(frozen=True)
class ApiResult:
    """
    Successful outcome of an operation.

    :param status: HTTP status.
    :param payload: JSON payload, or ``None`` for an empty body.
    """

    status: int
    payload: Any = None


def get_caller_identity(ctx: OpContext) -> ApiResult:
    """``GET /caller-identity``."""
    return ApiResult(
        200,
        {
            "accountId": FAKE_ACCOUNT_ID,
            "authKind": "token",
            "tokenKind": "service",
            "tokenName": "emulator",
            "tokenId": ctx.state.token_id,
            "serviceToken": True,
            "scopes": ["writer"],
        },
    )


def get_destinations(ctx: OpContext) -> ApiResult:
    """``GET /destinations``."""
    return ApiResult(
        200, {"_links": {"self": link(DESTINATIONS_PATH)}, "items": ctx.state.destinations.list()}
    )


def post_destination(ctx: OpContext) -> ApiResult:
    """``POST /destinations/{projectKey}/{environmentKey}``."""
    name, kind, config, on = validate_destination_post(ctx.json())
    project, env = ctx.keys("projectKey", "environmentKey")
    return ApiResult(201, ctx.state.destinations.create(project, env, name, kind, config, on))


def get_destination(ctx: OpContext) -> ApiResult:
    """``GET /destinations/{projectKey}/{environmentKey}/{id}``."""
    return ApiResult(200, ctx.state.destinations.get(*ctx.destination_keys()))


def patch_destination(ctx: OpContext) -> ApiResult:
    """``PATCH /destinations/{projectKey}/{environmentKey}/{id}`` (JSON Patch or Merge Patch, with a comment)."""
    keys = ctx.destination_keys()
    ctx.state.destinations.get(*keys)
    return ApiResult(200, ctx.state.destinations.patch(*keys, parse_destination_patch(ctx.json())))


def delete_destination(ctx: OpContext) -> ApiResult:
    """``DELETE /destinations/{projectKey}/{environmentKey}/{id}``."""
    ctx.state.destinations.delete(*ctx.destination_keys())
    return ApiResult(204)


def post_key_pair(ctx: OpContext) -> ApiResult:
    """Both ``generate-warehouse-destination-key-pair`` routes."""
    public_key, pkcs8 = _warehouse.generate_key_pair()
    return ApiResult(201, {"public_key": public_key, "public_key_pkcs8": pkcs8})


def post_trust_policy(ctx: OpContext) -> ApiResult:
    """``POST .../generate-trust-policy``."""
    return ApiResult(201, {"awsTrustPolicy": _warehouse.trust_policy(*ctx.warehouse_keys())})


def post_setup(ctx: OpContext) -> ApiResult:
    """``POST .../kinds/{kind}/setup``."""
    kind = ctx.params["kind"]
    validate_setup_kind(kind)
    body = validate_setup_body(ctx.json(required=False))
    return ApiResult(201, ctx.state.destinations.start_setup(*ctx.warehouse_keys(), kind, body))


def post_complete_setup(ctx: OpContext) -> ApiResult:
    """``POST .../kinds/{kind}/complete-setup``."""
    kind = ctx.params["kind"]
    validate_complete_setup_kind(kind)
    public_key = validate_complete_setup_body(ctx.json())
    return ApiResult(201, ctx.state.destinations.complete_setup(*ctx.warehouse_keys(), kind, public_key))


def _collection(self_path: str, items: list[dict[str, Any]], parent: str | None) -> dict[str, Any]:
    """Build an ``IntegrationDeliveryConfigurationCollection``."""
    links = {"self": link(self_path)}
    if parent is not None:
        links["parent"] = link(parent)
    return {"_links": links, "items": items}


def get_delivery_configs(ctx: OpContext) -> ApiResult:
    """``GET /integration-capabilities/featureStore``."""
    return ApiResult(200, _collection(FEATURE_STORE_PATH, ctx.state.delivery.list(), None))


def get_delivery_configs_by_env(ctx: OpContext) -> ApiResult:
    """``GET /integration-capabilities/featureStore/{projectKey}/{environmentKey}``."""
    items = ctx.state.delivery.list(*ctx.keys("projectKey", "environmentKey"))
    return ApiResult(200, _collection(ctx.path, items, FEATURE_STORE_PATH))


def create_delivery_config(ctx: OpContext) -> ApiResult:
    """``POST /integration-capabilities/featureStore/{projectKey}/{environmentKey}/{integrationKey}``."""
    project, env, integration = ctx.keys("projectKey", "environmentKey", "integrationKey")
    check_integration_key(integration)
    fields = validate_delivery_post(integration, ctx.json())
    return ApiResult(201, ctx.state.delivery.create(project, env, integration, fields))


def get_delivery_config(ctx: OpContext) -> ApiResult:
    """``GET .../featureStore/{projectKey}/{environmentKey}/{integrationKey}/{id}``."""
    return ApiResult(200, ctx.state.delivery.get(*ctx.delivery_keys()))


def patch_delivery_config(ctx: OpContext) -> ApiResult:
    """``PATCH .../featureStore/{projectKey}/{environmentKey}/{integrationKey}/{id}``."""
    keys = ctx.delivery_keys()
    ctx.state.delivery.get(*keys)
    ops = parse_patch_ops(ctx.json())
    return ApiResult(200, ctx.state.delivery.patch(*keys, ops))


def delete_delivery_config(ctx: OpContext) -> ApiResult:
    """``DELETE .../featureStore/{projectKey}/{environmentKey}/{integrationKey}/{id}``."""
    ctx.state.delivery.delete(*ctx.delivery_keys())
    return ApiResult(204)


def validate_delivery_config(ctx: OpContext) -> ApiResult:
    """``POST .../featureStore/{projectKey}/{environmentKey}/{integrationKey}/{id}/validate``."""
    return ApiResult(200, ctx.state.delivery.validate(*ctx.delivery_keys()))


#: ``operationId`` → implementation.
OPERATIONS: dict[str, Callable[[OpContext], ApiResult]] = {
    "getCallerIdentity": get_caller_identity,
    "getDestinations": get_destinations,
    "postDestination": post_destination,
    "getDestination": get_destination,
    "patchDestination": patch_destination,
    "deleteDestination": delete_destination,
    "postGenerateWarehouseDestinationKeyPair": post_key_pair,
    "postGenerateProjectEnvWarehouseDestinationKeyPair": post_key_pair,
    "postGenerateTrustPolicy": post_trust_policy,
    "postGenerateWarehouseDestinationSetupScript": post_setup,
    "postCompleteWarehouseDestinationSetup": post_complete_setup,
    "getIntegrationDeliveryConfigurations": get_delivery_configs,
    "getIntegrationDeliveryConfigurationByEnvironment": get_delivery_configs_by_env,
    "createIntegrationDeliveryConfiguration": create_delivery_config,
    "getIntegrationDeliveryConfigurationById": get_delivery_config,
    "patchIntegrationDeliveryConfiguration": patch_delivery_config,
    "deleteIntegrationDeliveryConfiguration": delete_delivery_config,
    "validateIntegrationDeliveryConfiguration": validate_delivery_config,
}
