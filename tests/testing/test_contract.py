"""Every emulated operation, validated against the OpenAPI subset through the recorded calls."""

from __future__ import annotations

import pytest

from airflow_provider_ld.testing import RecordedCall
from tests.openapi_contract import (
    ContractViolation,
    find_operation,
    load_spec,
    validate_call,
    validate_request,
)
from tests.testing.conftest import ApiClient

FS = "/integration-capabilities/featureStore"
WH = "/destinations/projects/proj/environments/prod"


def _exercise_destinations(api: ApiClient) -> None:
    api.get("/caller-identity")
    created = api.post(
        "/destinations/proj/prod",
        json={"name": "n", "kind": "google-pubsub", "config": {"project": "p", "topic": "t"}, "on": True},
    ).json()
    one = f"/destinations/proj/prod/{created['_id']}"
    api.get("/destinations")
    api.get(one)
    api.patch(
        one,
        json=[
            {"op": "test", "path": "/version", "value": 1},
            {"op": "replace", "path": "/on", "value": False},
        ],
    )
    api.patch(one, json=[{"op": "test", "path": "/version", "value": 1}])  # 409
    api.patch(one, json=[{"op": "replace", "path": "/_id", "value": "x"}])  # 400
    api.post("/destinations/proj/prod", json={"kind": "carrier-pigeon", "config": {}})  # 400
    api.get("/destinations/proj/prod/missing")  # 404
    api.delete(one)
    api.delete(one)  # 404


def _exercise_warehouse(api: ApiClient) -> None:
    api.post("/destinations/generate-warehouse-destination-key-pair")
    api.post(f"{WH}/generate-warehouse-destination-key-pair")
    api.post(f"{WH}/generate-trust-policy")
    setup = api.post(
        f"{WH}/kinds/snowflake-v2/setup", json={"databaseName": "DB", "includeNetworkPolicy": True}
    ).json()
    api.post(f"{WH}/kinds/snowflake-v2/complete-setup", json={"publicKey": "wrong"})  # 400
    api.post(f"{WH}/kinds/snowflake-v2/complete-setup", json={"publicKey": setup["publicKey"]})
    api.post(f"{WH}/kinds/snowflake-v2/complete-setup", json={"publicKey": setup["publicKey"]})  # 404
    api.post(
        f"{WH}/kinds/redshift/setup",
        json={"clusterIdentifier": "c", "clusterRegion": "r", "clusterAwsAccountId": "1"},
    )
    api.post(f"{WH}/kinds/redshift/complete-setup", json={})
    api.post(f"{WH}/kinds/clickhouse/setup")
    api.post(f"{WH}/kinds/clickhouse/complete-setup", json={})
    api.post(f"{WH}/kinds/bigquery/setup")
    api.post(f"{WH}/kinds/nope/setup")  # 400
    api.get("/destinations")  # lists the clickhouse destination too


def _exercise_delivery(api: ApiClient) -> None:
    created = api.post(
        f"{FS}/proj/prod/fastly",
        json={"config": {"storeId": "s", "apiToken": "tok-123456789"}, "tags": ["t"]},
        beta=True,
    ).json()
    one = f"{FS}/proj/prod/fastly/{created['_id']}"
    api.get(FS, beta=True)
    api.get(f"{FS}/proj/prod", beta=True)
    api.get(one, beta=True)
    api.get(one)  # 403 (no beta header)
    api.patch(one, json=[{"op": "replace", "path": "/on", "value": True}], beta=True)
    api.patch(one, json=[{"op": "test", "path": "/version", "value": 9}], beta=True)  # 422
    api.patch(one, json=[{"op": "bogus", "path": "/on"}], beta=True)  # 400
    api.post(f"{one}/validate", beta=True)
    api.post(f"{FS}/proj/prod/unknown-integration", json={"config": {}}, beta=True)  # 404
    api.post(f"{FS}/proj/prod/fastly", json={"config": {}}, beta=True)  # 400
    api.delete(one, beta=True)
    api.get(one, beta=True)  # 404


def _exercise_auth_and_limits(api: ApiClient, anonymous: ApiClient, emulator) -> None:
    anonymous.get("/destinations")  # 401
    anonymous.get(f"{FS}/proj/prod/fastly/x", beta=True)  # 401 on the route whose spec omits it
    emulator.set_rate_limit(global_limit=1)
    api.get("/destinations")
    api.get("/destinations")  # 429
    emulator.set_rate_limit()
    emulator.inject_fault(status=429, retry_after=1)
    api.post("/destinations/proj/prod", json={"kind": "segment", "config": {"writeKey": "w"}})
    emulator.inject_fault(status=503)
    api.get("/destinations")


def test_every_operation_conforms_to_the_openapi_subset(launchdarkly_emulator, api, make_client):
    _exercise_destinations(api)
    _exercise_warehouse(api)
    _exercise_delivery(api)
    _exercise_auth_and_limits(api, make_client(launchdarkly_emulator, token=None), launchdarkly_emulator)

    calls = launchdarkly_emulator.calls_to()
    failures = []
    for call in calls:
        try:
            validate_call(call)
        except ContractViolation as exc:
            failures.append(str(exc))
    assert not failures, "\n\n".join(failures)

    operations = {
        (method.upper(), path)
        for path, item in load_spec()["paths"].items()
        for method in item
        if method in {"get", "post", "patch", "delete"}
    }
    assert len(operations) == 18
    statuses = {call.status for call in calls}
    assert {200, 201, 204, 400, 401, 403, 404, 409, 422, 429, 503} <= statuses
    assert len({_operation_id(call) for call in calls if call.status in (200, 201, 204)}) == 18


def _operation_id(call: RecordedCall) -> str:
    operation = find_operation(call)
    assert operation is not None
    return operation["operationId"]


def test_validator_rejects_a_nonconforming_response():
    call = RecordedCall(
        method="GET",
        path="/api/v2/destinations/p/e/x",
        query="",
        headers={"authorization": "<redacted>"},
        body=b"",
        status=200,
        response_headers={"content-type": "application/json"},
        response_body=b'{"kind": "carrier-pigeon", "version": "one"}',
    )
    with pytest.raises(ContractViolation, match="carrier-pigeon"):
        validate_call(call)


def test_validator_rejects_a_nonconforming_request():
    call = RecordedCall(
        method="POST",
        path="/api/v2/destinations/p/e",
        query="",
        headers={"authorization": "<redacted>", "content-type": "application/json"},
        body=b'{"kind": "carrier-pigeon"}',
        status=400,
        response_headers={"content-type": "application/json"},
        response_body=b'{"code": "invalid_request", "message": "m", "id": "i"}',
    )
    validate_call(call)  # a 400 answer to a bad request is fine
    with pytest.raises(ContractViolation, match="carrier-pigeon"):
        validate_request(call)


def test_validator_refuses_admin_calls_and_unknown_operations():
    admin = RecordedCall("GET", "/_emulator/calls", "", {}, b"", 200, admin=True)
    with pytest.raises(ValueError):
        validate_call(admin)
    unknown = RecordedCall("GET", "/api/v2/flags", "", {"authorization": "<redacted>"}, b"", 404)
    with pytest.raises(ContractViolation, match="no such operation"):
        validate_call(unknown)
