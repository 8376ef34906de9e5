"""
Every request builder against the OpenAPI subset: operation id, method, path, version header, retry safety.

The operation id names the call in logs and errors; the method and path are what the API routes on; a
beta call without ``LD-API-Version: beta`` is refused with 403; ``idempotent`` decides whether a call
may be retried after a lost answer (a POST that creates must never be).
"""

from __future__ import annotations

import pytest

from airflow_provider_ld.api import operations
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
    WarehouseSetupScript,
)
from airflow_provider_ld.testing import RecordedCall
from tests.openapi_contract import find_operation

P, E, ID = "proj", "prod", "0123456789abcdef01234567"
FASTLY = {"storeId": "store-1", "apiToken": "fastly-token"}
GUARDED = [{"op": "test", "path": "/version", "value": 3}, {"op": "replace", "path": "/on", "value": True}]
UNGUARDED = [{"op": "replace", "path": "/on", "value": True}]
DELIVERY = (P, E, "fastly", ID)

#: (build the request, path, beta, idempotent, response model); built in the test, not at import
CASES = [
    (lambda: operations.list_destinations(), "/api/v2/destinations", False, True, DestinationList),
    (
        lambda: operations.create_destination(P, E, kind="segment", config={"writeKey": "wk"}),
        f"/api/v2/destinations/{P}/{E}",
        False,
        False,
        Destination,
    ),
    (
        lambda: operations.get_destination(P, E, ID),
        f"/api/v2/destinations/{P}/{E}/{ID}",
        False,
        True,
        Destination,
    ),
    (
        lambda: operations.patch_destination(P, E, ID, GUARDED),
        f"/api/v2/destinations/{P}/{E}/{ID}",
        False,
        True,
        Destination,
    ),
    (
        lambda: operations.patch_destination(P, E, ID, UNGUARDED),
        f"/api/v2/destinations/{P}/{E}/{ID}",
        False,
        False,
        Destination,
    ),
    (
        lambda: operations.delete_destination(P, E, ID),
        f"/api/v2/destinations/{P}/{E}/{ID}",
        False,
        True,
        None,
    ),
    (
        lambda: operations.generate_warehouse_key_pair(),
        "/api/v2/destinations/generate-warehouse-destination-key-pair",
        False,
        False,
        WarehouseKeyPair,
    ),
    (
        lambda: operations.generate_warehouse_key_pair(P, E),
        f"/api/v2/destinations/projects/{P}/environments/{E}/generate-warehouse-destination-key-pair",
        False,
        False,
        WarehouseKeyPair,
    ),
    (
        lambda: operations.generate_trust_policy(P, E),
        f"/api/v2/destinations/projects/{P}/environments/{E}/generate-trust-policy",
        False,
        False,
        TrustPolicy,
    ),
    (
        lambda: operations.generate_warehouse_setup_script(P, E, "snowflake-v2"),
        f"/api/v2/destinations/projects/{P}/environments/{E}/kinds/snowflake-v2/setup",
        False,
        False,
        WarehouseSetupScript,
    ),
    (
        lambda: operations.complete_warehouse_setup(P, E, "snowflake-v2", "MIIBpublic"),
        f"/api/v2/destinations/projects/{P}/environments/{E}/kinds/snowflake-v2/complete-setup",
        False,
        False,
        Destination,
    ),
    (
        lambda: operations.list_delivery_configurations(),
        "/api/v2/integration-capabilities/featureStore",
        True,
        True,
        IntegrationDeliveryConfigurationList,
    ),
    (
        lambda: operations.list_delivery_configurations(P, E),
        f"/api/v2/integration-capabilities/featureStore/{P}/{E}",
        True,
        True,
        IntegrationDeliveryConfigurationList,
    ),
    (
        lambda: operations.create_delivery_configuration(P, E, "fastly", config=FASTLY),
        f"/api/v2/integration-capabilities/featureStore/{P}/{E}/fastly",
        True,
        False,
        IntegrationDeliveryConfiguration,
    ),
    (
        lambda: operations.get_delivery_configuration(*DELIVERY),
        f"/api/v2/integration-capabilities/featureStore/{P}/{E}/fastly/{ID}",
        True,
        True,
        IntegrationDeliveryConfiguration,
    ),
    (
        lambda: operations.patch_delivery_configuration(*DELIVERY, GUARDED),
        f"/api/v2/integration-capabilities/featureStore/{P}/{E}/fastly/{ID}",
        True,
        True,
        IntegrationDeliveryConfiguration,
    ),
    (
        lambda: operations.patch_delivery_configuration(*DELIVERY, UNGUARDED),
        f"/api/v2/integration-capabilities/featureStore/{P}/{E}/fastly/{ID}",
        True,
        False,
        IntegrationDeliveryConfiguration,
    ),
    (
        lambda: operations.delete_delivery_configuration(*DELIVERY),
        f"/api/v2/integration-capabilities/featureStore/{P}/{E}/fastly/{ID}",
        True,
        True,
        None,
    ),
    (
        lambda: operations.validate_delivery_configuration(*DELIVERY),
        f"/api/v2/integration-capabilities/featureStore/{P}/{E}/fastly/{ID}/validate",
        True,
        True,
        DeliveryValidationResult,
    ),
    (lambda: operations.get_caller_identity(), "/api/v2/caller-identity", False, True, CallerIdentity),
]


@pytest.mark.parametrize(("build", "path", "beta", "idempotent", "model"), CASES)
def test_request_matches_the_documented_operation(build, path, beta, idempotent, model):
    request_ = build()
    assert request_.path == path
    operation = find_operation(RecordedCall(request_.method, request_.path, "", {}, b"", None))
    assert operation is not None, f"{request_.describe()} is not in the OpenAPI subset"
    assert request_.method in {"GET", "POST", "PATCH", "DELETE"}, "exactly as the API spells it"
    assert request_.operation == operation["operationId"]
    assert request_.beta is beta
    assert request_.idempotent is idempotent
    assert request_.response_model is model


def test_bodies_carry_what_was_asked():
    created = operations.create_destination(
        P, E, kind="segment", name="events", on=True, config={"writeKey": "wk"}
    )
    assert created.body == {"kind": "segment", "config": {"writeKey": "wk"}, "on": True, "name": "events"}
    unnamed = operations.create_destination(P, E, kind="segment", config={"writeKey": "wk"})
    assert unnamed.body == {"kind": "segment", "config": {"writeKey": "wk"}, "on": False}
    delivery = operations.create_delivery_configuration(
        P, E, "fastly", config=FASTLY, on=True, name="edge", tags=("a", "b")
    )
    assert delivery.body == {"config": FASTLY, "on": True, "name": "edge", "tags": ["a", "b"]}
    assert operations.create_delivery_configuration(P, E, "fastly", config=FASTLY).body == {
        "config": FASTLY,
        "on": False,
    }
    completed = operations.complete_warehouse_setup(P, E, "snowflake-v2", "MIIBpublic")
    assert completed.body == {"publicKey": "MIIBpublic"}
    assert operations.complete_warehouse_setup(P, E, "redshift").body == {}
    assert operations.patch_delivery_configuration(*DELIVERY, GUARDED).body == GUARDED
    assert operations.get_delivery_configuration(*DELIVERY).body is None


@pytest.mark.parametrize(
    ("build", "field", "message"),
    [
        (lambda: operations.generate_warehouse_key_pair(P, None), "environment_key", "give both"),
        (lambda: operations.generate_warehouse_key_pair(None, E), "project_key", "give both"),
        (lambda: operations.complete_warehouse_setup(P, E, "snowflake-v2"), "public_key", "required"),
        (lambda: operations.complete_warehouse_setup(P, E, "redshift", ""), "public_key", "non-empty"),
        (lambda: operations.complete_warehouse_setup(P, E, "redshift", 7), "public_key", "non-empty"),
        (
            lambda: operations.create_delivery_configuration(P, E, "fastly", config=FASTLY, tags=["a", ""]),
            "tags",
            "non-empty strings",
        ),
        (
            lambda: operations.create_delivery_configuration(P, E, "fastly", config=FASTLY, tags="a"),
            "tags",
            "list",
        ),
        (lambda: operations.list_delivery_configurations(P, None), "environment_key", "environment_key"),
        (
            lambda: operations.get_delivery_configuration(P, E, "fastly", "../x"),
            "configuration_id",
            "configuration_id",
        ),
        (lambda: operations.get_delivery_configuration(P, E, "", ID), "integration_key", "integration_key"),
        (lambda: operations.delete_destination(P, "", ID), "environment_key", "environment_key"),
    ],
)
def test_bad_arguments_name_the_field_before_any_request(build, field, message):
    with pytest.raises(LaunchDarklyValidationError, match=message) as info:
        build()
    assert info.value.field == field
    assert str(info.value).startswith(f"{field}:")


NAN_PATCH = [{"op": "replace", "path": "/config/batchSize", "value": float("nan")}]


@pytest.mark.parametrize(
    ("build", "field", "message"),
    [
        (lambda: operations.patch_destination(P, E, ID, NAN_PATCH), "patch", "NaN and Infinity are not JSON"),
        (
            lambda: operations.patch_destination(P, E, ID, merge_patch={"config": {"n": float("inf")}}),
            "merge_patch",
            "NaN and Infinity are not JSON",
        ),
        (
            lambda: operations.patch_destination(P, E, ID, merge_patch={"config": {"when": object()}}),
            "merge_patch",
            "allowed: strings, numbers, booleans, null, lists and objects",
        ),
        (lambda: operations.patch_delivery_configuration(*DELIVERY, NAN_PATCH), "patch", "NaN and Infinity"),
        (
            lambda: operations.create_delivery_configuration(
                P, E, "fastly", config={**FASTLY, "ttl": float("nan")}
            ),
            "config",
            "NaN and Infinity",
        ),
        (
            lambda: operations.create_destination(
                P, E, kind="webhook-v9", config={"x": float("nan")}, allow_unknown_kind=True
            ),
            "config",
            "NaN and Infinity",
        ),
        (
            lambda: operations.create_destination(P, E, kind="segment", config={"writeKey": "wk"}, name=5),
            "name",
            "must be a non-empty string",
        ),
        (
            lambda: operations.create_delivery_configuration(P, E, "fastly", config=FASTLY, on="yes"),
            "on",
            "must be true or false, got 'yes'",
        ),
        (
            lambda: operations.create_delivery_configuration(P, E, "fastly", config=FASTLY, name=5),
            "name",
            "must be a non-empty string",
        ),
    ],
)
def test_values_json_or_the_api_cannot_take_name_the_argument(build, field, message):
    """A value that cannot go on the wire is refused before any request, naming the argument it came in."""
    with pytest.raises(LaunchDarklyValidationError, match=message) as info:
        build()
    assert info.value.field == field
    assert str(info.value).startswith(f"{field}: ")


@pytest.mark.parametrize(
    ("build", "allowed"),
    [
        (
            lambda **kw: operations.generate_warehouse_setup_script(P, E, "bigquery", **kw),
            WAREHOUSE_SETUP_KINDS,
        ),
        (lambda **kw: operations.complete_warehouse_setup(P, E, "segment", **kw), WAREHOUSE_COMPLETE_KINDS),
    ],
)
def test_warehouse_steps_refuse_kinds_they_do_not_serve(build, allowed):
    """Only the warehouse kinds of each step are accepted; the error lists exactly those."""
    with pytest.raises(LaunchDarklyValidationError) as info:
        build()
    assert info.value.field == "kind"
    assert info.value.allowed == allowed
    assert f"allowed values: {', '.join(allowed)}" in str(info.value)


def test_warehouse_steps_send_a_newer_kind_when_asked():
    """``allow_unknown_kind=True`` sends a kind this release does not know, URL-quoted as a key."""
    setup = operations.generate_warehouse_setup_script(P, E, "fabric", allow_unknown_kind=True)
    assert setup.path.endswith("/kinds/fabric/setup")
    completed = operations.complete_warehouse_setup(P, E, "fabric", allow_unknown_kind=True)
    assert completed.path.endswith("/kinds/fabric/complete-setup")
    assert completed.body == {}


def test_delivery_configurations_refuse_an_unknown_integration_unless_asked():
    with pytest.raises(LaunchDarklyValidationError) as info:
        operations.create_delivery_configuration(P, E, "edge-store", config={"token": "t"})
    assert info.value.field == "integration_key"
    assert "fastly" in info.value.allowed
    sent = operations.create_delivery_configuration(
        P, E, "edge-store", config={"token": "t"}, allow_unknown_integration=True
    )
    assert sent.body == {"config": {"token": "t"}, "on": False}
    assert sent.path.endswith("/edge-store")


def test_snowflake_completion_says_which_public_key_it_needs():
    with pytest.raises(LaunchDarklyValidationError) as info:
        operations.complete_warehouse_setup(P, E, "snowflake-v2")
    assert str(info.value) == (
        "public_key: required for kind 'snowflake-v2' (the publicKey the setup call returned)"
    )


def test_a_destination_of_an_unknown_kind_is_refused_unless_asked():
    with pytest.raises(LaunchDarklyValidationError) as info:
        operations.create_destination(P, E, kind="webhook-v9", config={"url": "https://example.com"})
    assert info.value.field == "kind"
    sent = operations.create_destination(
        P, E, kind="webhook-v9", config={"url": "https://example.com"}, allow_unknown_kind=True
    )
    assert sent.body["kind"] == "webhook-v9"
