"""Warehouse destination helpers and the guided setup / complete-setup flow."""

from __future__ import annotations

import json

import pytest

from tests.testing.conftest import assert_error

WH = "/destinations/projects/proj/environments/prod"


def _setup(api, kind: str, body=None, project: str = "proj", env: str = "prod"):
    kwargs = {} if body is None else {"json": body}
    return api.post(f"/destinations/projects/{project}/environments/{env}/kinds/{kind}/setup", **kwargs)


def _complete(api, kind: str, body=None, project: str = "proj", env: str = "prod"):
    kwargs = {} if body is None else {"json": body}
    return api.post(
        f"/destinations/projects/{project}/environments/{env}/kinds/{kind}/complete-setup", **kwargs
    )


@pytest.mark.parametrize(
    "path",
    [
        "/destinations/generate-warehouse-destination-key-pair",
        f"{WH}/generate-warehouse-destination-key-pair",
    ],
)
def test_key_pair_routes(api, path):
    response = api.post(path)
    assert response.status_code == 201
    body = response.json()
    assert set(body) == {"public_key", "public_key_pkcs8"}
    assert body["public_key_pkcs8"].startswith("-----BEGIN PUBLIC KEY-----")
    assert body["public_key"] != api.post(path).json()["public_key"]


def test_trust_policy(api):
    response = api.post(f"{WH}/generate-trust-policy")
    assert response.status_code == 201
    policy = response.json()["awsTrustPolicy"]
    assert policy["Version"] == "2012-10-17"
    (statement,) = policy["Statement"]
    assert statement["Effect"] == "Allow"
    assert statement["Action"] == ["sts:AssumeRole"]
    assert statement["Principal"]["AWS"].startswith("arn:aws:iam::")
    assert statement["Condition"]["StringEquals"]["sts:ExternalId"].startswith("proj-prod-")


def test_snowflake_setup_returns_script_and_keys(api, launchdarkly_emulator):
    response = _setup(
        api, "snowflake-v2", {"databaseName": "MY_DB", "userName": "LD_USER", "includeNetworkPolicy": True}
    )
    assert response.status_code == 201
    body = response.json()
    assert set(body) == {"script", "publicKey", "publicKeyPkcs8"}
    assert f"RSA_PUBLIC_KEY='{body['publicKey']}'" in body["script"]
    assert "MY_DB" in body["script"] and "CREATE USER IF NOT EXISTS LD_USER" in body["script"]
    assert "NETWORK POLICY" in body["script"]
    # pending destinations are neither listed nor reachable
    assert api.get("/destinations").json()["items"] == []
    assert launchdarkly_emulator.destinations == []


def test_setup_without_body(api):
    response = _setup(api, "redshift")
    assert response.status_code == 201
    assert set(response.json()) == {"script", "s3BucketName"}


@pytest.mark.parametrize("kind", ["bigquery", "databricks"])
def test_setup_refuses_kinds_outside_its_enum(api, kind):
    # The setup route's kind parameter lists snowflake-v2, redshift and clickhouse only.
    assert_error(_setup(api, kind), 400, "invalid_request", kind)


def test_redshift_setup_policies_only_with_all_cluster_fields(api):
    partial = _setup(api, "redshift", {"clusterIdentifier": "c1", "clusterRegion": "us-east-1"}).json()
    assert set(partial) == {"script", "s3BucketName"}
    full = _setup(
        api,
        "redshift",
        {"clusterIdentifier": "c1", "clusterRegion": "us-east-1", "clusterAwsAccountId": "111122223333"},
    ).json()
    assert set(full) == {"script", "s3BucketName", "redshiftIAMPermissionsPolicy", "redshiftIAMTrustPolicy"}
    permissions = json.loads(full["redshiftIAMPermissionsPolicy"])
    assert "arn:aws:redshift:us-east-1:111122223333:cluster:c1" in json.dumps(permissions)
    assert json.loads(full["redshiftIAMTrustPolicy"])["Statement"][0]["Action"] == ["sts:AssumeRole"]


def test_clickhouse_setup_and_complete_never_leak_password(api):
    body = {
        "clickHouseDatabaseName": "ld",
        "clickHousePassword": "hunter2-secret",
        "clickHouseS3BucketName": "bkt",
    }
    setup = _setup(api, "clickhouse", body)
    assert setup.status_code == 201
    assert setup.json()["s3BucketName"] == "bkt"
    assert "hunter2-secret" not in setup.text
    done = _complete(api, "clickhouse", {})
    assert done.status_code == 201
    destination = done.json()
    assert destination["kind"] == "clickhouse"
    assert "clickHousePassword" not in destination["config"]
    assert destination["config"]["clickHouseDatabaseName"] == "ld"
    assert "hunter2-secret" not in done.text


@pytest.mark.parametrize("kind", ["kinesis", "s3", "SNOWFLAKE-V2"])
def test_setup_unknown_kind_is_400(api, kind):
    assert_error(_setup(api, kind), 400, "invalid_request", kind)


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({"includeNetworkPolicy": "yes"}, "includeNetworkPolicy"),
        ({"databaseName": 3}, "databaseName"),
        ([1], "JSON object"),
    ],
)
def test_setup_invalid_body_is_400(api, body, fragment):
    assert_error(_setup(api, "snowflake-v2", body), 400, "invalid_request", fragment)


def test_snowflake_complete_setup_creates_destination(api, launchdarkly_emulator):
    setup = _setup(api, "snowflake-v2", {"databaseName": "MY_DB", "warehouseName": "WH"}).json()
    response = _complete(api, "snowflake-v2", {"publicKey": setup["publicKey"]})
    assert response.status_code == 201
    destination = response.json()
    assert destination["kind"] == "snowflake-v2"
    assert destination["name"] == "snowflake-v2 export"
    assert destination["on"] is False
    assert destination["version"] == 1
    assert destination["config"] == {
        "publicKey": setup["publicKey"],
        "snowflakeHostAddress": "https://example.snowflakecomputing.com",
        "databaseName": "MY_DB",
        "warehouseName": "WH",
    }
    assert api.get(f"/destinations/proj/prod/{destination['_id']}").json() == destination
    assert launchdarkly_emulator.destinations == [destination]


def test_snowflake_complete_uses_setup_name_and_host(api):
    setup = _setup(
        api,
        "snowflake-v2",
        {"name": "Warehouse", "snowflakeHostAddress": "https://acme.snowflakecomputing.com"},
    ).json()
    destination = _complete(api, "snowflake-v2", {"publicKey": setup["publicKey"]}).json()
    assert destination["name"] == "Warehouse"
    assert destination["config"]["snowflakeHostAddress"] == "https://acme.snowflakecomputing.com"


@pytest.mark.parametrize("body", [{"publicKey": "not-the-key"}, {}])
def test_snowflake_public_key_mismatch_is_400(api, body):
    _setup(api, "snowflake-v2")
    assert_error(_complete(api, "snowflake-v2", body), 400, "invalid_request", "publicKey")
    assert api.get("/destinations").json()["items"] == []


def test_setup_again_replaces_pending(api):
    first = _setup(api, "snowflake-v2").json()
    second = _setup(api, "snowflake-v2").json()
    assert_error(_complete(api, "snowflake-v2", {"publicKey": first["publicKey"]}), 400, "invalid_request")
    assert _complete(api, "snowflake-v2", {"publicKey": second["publicKey"]}).status_code == 201


def test_complete_twice_is_404(api):
    setup = _setup(api, "snowflake-v2").json()
    assert _complete(api, "snowflake-v2", {"publicKey": setup["publicKey"]}).status_code == 201
    body = assert_error(_complete(api, "snowflake-v2", {"publicKey": setup["publicKey"]}), 404, "not_found")
    assert body["message"] == "Pending destination not found"


def test_complete_without_setup_or_in_other_env_is_404(api):
    _setup(api, "redshift")
    assert_error(_complete(api, "snowflake-v2", {}), 404, "not_found", "Pending destination not found")
    assert_error(_complete(api, "redshift", {}, env="staging"), 404, "not_found")


@pytest.mark.parametrize("raw", [None, [1], {"publicKey": 1}])
def test_complete_setup_body_is_validated(api, raw):
    _setup(api, "redshift")
    assert_error(_complete(api, "redshift", raw), 400, "invalid_request")


def test_complete_setup_unknown_kind_is_400(api):
    assert_error(_complete(api, "kinesis", {}), 400, "invalid_request")


def test_redshift_complete_has_completed_artifacts(api):
    setup = _setup(api, "redshift", {"databaseName": "dev", "clusterIdentifier": "c1"}).json()
    destination = _complete(api, "redshift", {}).json()
    assert destination["kind"] == "redshift"
    assert destination["completedArtifacts"] == {
        "sqlSetupScript": setup["script"],
        "s3BucketName": setup["s3BucketName"],
    }
    assert destination["config"] == {"databaseName": "dev", "clusterIdentifier": "c1"}


def test_completed_clickhouse_destination_can_be_patched(api):
    _setup(api, "clickhouse")
    destination = _complete(api, "clickhouse", {}).json()
    response = api.patch(
        f"/destinations/proj/prod/{destination['_id']}",
        json=[{"op": "replace", "path": "/on", "value": True}],
    )
    assert response.status_code == 200
    assert response.json()["kind"] == "clickhouse" and response.json()["version"] == 2


def test_setup_delay_hides_destination_until_clock_passes(
    launchdarkly_emulator_factory, make_client, fake_clock
):
    emulator = launchdarkly_emulator_factory(setup_delay=30.0, clock=fake_clock)
    api = make_client(emulator)
    setup = _setup(api, "snowflake-v2").json()
    destination = _complete(api, "snowflake-v2", {"publicKey": setup["publicKey"]}).json()
    path = f"/destinations/proj/prod/{destination['_id']}"
    assert destination["createdAt"] == int(fake_clock.now * 1000)

    fake_clock.advance(29.9)
    assert_error(api.get(path), 404, "not_found")
    assert api.get("/destinations").json()["items"] == []
    assert emulator.destinations == []
    assert_error(api.patch(path, json=[{"op": "replace", "path": "/on", "value": True}]), 404, "not_found")
    assert_error(api.delete(path), 404, "not_found")

    fake_clock.advance(0.1)
    assert api.get(path).json() == destination
    assert api.get("/destinations").json()["items"] == [destination]
    assert emulator.destinations == [destination]


def test_setup_delay_does_not_apply_to_direct_creation(
    launchdarkly_emulator_factory, make_client, fake_clock
):
    emulator = launchdarkly_emulator_factory(setup_delay=30.0, clock=fake_clock)
    api = make_client(emulator)
    created = api.create_destination()
    assert api.get(f"/destinations/proj/prod/{created['_id']}").status_code == 200
