"""
LaunchDarkly's own generated Python client (``launchdarkly-api``) reads every emulator answer.

The generated models are strict about shapes and enums, so an emulator answer they cannot read is one
production would not give. The one known disagreement is written down where it occurs: production leaves
``config`` out of delivery-configuration answers other than the single GET by ID (the production spec's
note on the field), while the generated model requires it; against production the generated client fails
the same way, so the test checks that ``config`` is the only objection.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import launchdarkly_api
import pytest
from launchdarkly_api.exceptions import ApiException
from launchdarkly_api.models import (
    CompleteSetupPostBody,
    DestinationPost,
    IntegrationDeliveryConfiguration,
    IntegrationDeliveryConfigurationPost,
    PatchOperation,
    WarehouseSetupScriptPostBody,
)

BETA = {"LD-API-Version": "beta"}
FASTLY = {"storeId": "store-1", "apiToken": "fastly-api-token-0123456789"}


def _client(emulator, **headers: str) -> launchdarkly_api.ApiClient:
    configuration = launchdarkly_api.Configuration(host=emulator.base_url)
    configuration.api_key["ApiKey"] = emulator.token
    api_client = launchdarkly_api.ApiClient(configuration)
    for name, value in headers.items():
        api_client.set_default_header(name, value)
    return api_client


@pytest.fixture
def client(launchdarkly_emulator) -> Iterator[launchdarkly_api.ApiClient]:
    with _client(launchdarkly_emulator) as api_client:
        yield api_client


@pytest.fixture
def beta_client(launchdarkly_emulator) -> Iterator[launchdarkly_api.ApiClient]:
    """A client that sends ``LD-API-Version: beta``, as the beta delivery-configuration routes require."""
    with _client(launchdarkly_emulator, **BETA) as api_client:
        yield api_client


@pytest.fixture
def destinations(client):
    return launchdarkly_api.DataExportDestinationsApi(client)


@pytest.fixture
def delivery(beta_client):
    return launchdarkly_api.IntegrationDeliveryConfigurationsBetaApi(beta_client)


def _reads_all_but_config(call: Callable[[], Any], raw: Callable[[], dict[str, Any]]) -> None:
    """Assert the generated client objects to the answer only because ``config`` is absent."""
    with pytest.raises(Exception, match="config"):
        call()
    answer = raw()
    assert "config" not in answer
    IntegrationDeliveryConfiguration.from_dict({**answer, "config": {}})


def test_destination_operations(destinations, launchdarkly_emulator):
    post = DestinationPost(
        name="seg", kind="segment", config={"writeKey": "segment-write-key-0123"}, on=False
    )
    created = destinations.post_destination("proj", "prod", post)
    assert created.kind == "segment" and created.config["writeKey"] == "seg****123"
    assert destinations.get_destination("proj", "prod", created.id).id == created.id
    assert [item.id for item in destinations.get_destinations().items] == [created.id]
    patched = destinations.patch_destination(
        "proj", "prod", created.id, [PatchOperation(op="replace", path="/on", value=True)]
    )
    assert (patched.on, patched.version) == (True, 2)
    destinations.delete_destination("proj", "prod", created.id)
    assert launchdarkly_emulator.destinations == []


def test_warehouse_operations(destinations):
    pair = destinations.post_generate_warehouse_destination_key_pair()
    assert pair.public_key
    scoped = destinations.post_generate_project_env_warehouse_destination_key_pair("proj", "prod")
    assert scoped.public_key_pkcs8.startswith("-----BEGIN PUBLIC KEY-----")
    policy = destinations.post_generate_trust_policy("proj", "prod")
    assert policy.aws_trust_policy.statement
    setup = destinations.post_generate_warehouse_destination_setup_script(
        "proj", "prod", "snowflake-v2", WarehouseSetupScriptPostBody(databaseName="DB")
    )
    assert setup.script and setup.public_key
    completed = destinations.post_complete_warehouse_destination_setup(
        "proj", "prod", "snowflake-v2", CompleteSetupPostBody(publicKey=setup.public_key)
    )
    assert completed.kind == "snowflake-v2"
    redshift = destinations.post_generate_warehouse_destination_setup_script("proj", "prod", "redshift")
    assert redshift.s3_bucket_name
    done = destinations.post_complete_warehouse_destination_setup(
        "proj", "prod", "redshift", CompleteSetupPostBody()
    )
    assert done.completed_artifacts.s3_bucket_name == redshift.s3_bucket_name


def test_errors_are_read_as_api_exceptions(destinations):
    with pytest.raises(ApiException) as info:
        destinations.get_destination("proj", "prod", "missing")
    assert info.value.status == 404


def test_delivery_configuration_operations(delivery, beta_client):
    client = beta_client
    post = IntegrationDeliveryConfigurationPost(config=FASTLY, on=False, name="edge", tags=["a"])
    create_path = "/api/v2/integration-capabilities/featureStore/proj/prod/fastly"
    _reads_all_but_config(
        lambda: delivery.create_integration_delivery_configuration("proj", "prod", "fastly", post),
        lambda: _raw(client, "POST", create_path, {"config": FASTLY}),
    )
    created_id = _raw(client, "GET", "/api/v2/integration-capabilities/featureStore", None)["items"][0]["_id"]
    one = delivery.get_integration_delivery_configuration_by_id("proj", "prod", "fastly", created_id)
    assert one.config["storeId"] == "store-1" and "****" in one.config["apiToken"]
    _reads_all_but_config(
        lambda: delivery.get_integration_delivery_configurations(_headers=BETA),
        lambda: _raw(client, "GET", "/api/v2/integration-capabilities/featureStore", None)["items"][0],
    )
    _reads_all_but_config(
        lambda: delivery.get_integration_delivery_configuration_by_environment("proj", "prod"),
        lambda: _raw(client, "GET", "/api/v2/integration-capabilities/featureStore/proj/prod", None)["items"][
            0
        ],
    )
    patch = [PatchOperation(op="replace", path="/on", value=True)]
    _reads_all_but_config(
        lambda: delivery.patch_integration_delivery_configuration(
            "proj", "prod", "fastly", created_id, patch
        ),
        lambda: _raw(
            client, "PATCH", f"{create_path}/{created_id}", [{"op": "replace", "path": "/name", "value": "n"}]
        ),
    )
    result = delivery.validate_integration_delivery_configuration("proj", "prod", "fastly", created_id)
    assert result.status_code == 200
    delivery.delete_integration_delivery_configuration("proj", "prod", "fastly", created_id)


def test_caller_identity(client):
    identity = launchdarkly_api.OtherApi(client).get_caller_identity()
    assert identity.service_token is True


def _raw(client: launchdarkly_api.ApiClient, method: str, path: str, body: Any) -> Any:
    """Send one call through the generated client's transport and return the parsed JSON answer."""
    import json

    headers = {
        "Authorization": client.configuration.api_key["ApiKey"],
        "Content-Type": "application/json",
        **BETA,
    }
    response = client.rest_client.request(
        method, client.configuration.host + path, headers=headers, body=body
    )
    response.read()
    assert response.status < 300, response.data
    return json.loads(response.data)
