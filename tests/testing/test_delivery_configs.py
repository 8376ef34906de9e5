"""Integration delivery configurations (feature stores, beta)."""

from __future__ import annotations

import json

import pytest

from tests.testing.conftest import assert_error

FS = "/integration-capabilities/featureStore"

VALID_CONFIGS = {
    "akamai-edgeworkers": {
        "hostname": "akab.example.net",
        "network": "staging",
        "namespaceId": "ns",
        "groupId": "g",
        "clientSecret": "akamai-client-secret-value",
        "clientToken": "akamai-client-token-value",
        "accessToken": "akamai-access-token-value",
    },
    "cloudflare": {"accountId": "acc", "namespaceId": "ns", "apiToken": "cloudflare-api-token-value"},
    "convex": {"deploymentPayloadUrl": "https://x.convex.site", "componentApiToken": "convex-token-value"},
    "fastly": {"storeId": "store", "apiToken": "fastly-api-token-value"},
    "generic-feature-store": {
        "validationReqUrl": "https://v.example",
        "featureStoreReqUrl": "https://f.example",
    },
    "netlify": {"siteId": "site", "syncToken": "netlify-sync-token-value"},
    "vercel": {
        "edgeConfigId": "ecfg",
        "apiToken": "vercel-api-token-value",
        "configurationId": "icfg",
        "teamId": "t",
    },
}
SECRETS = ("apiToken", "syncToken", "clientSecret", "clientToken", "accessToken", "componentApiToken")


def _create(api, integration="fastly", project="proj", env="prod", **body):
    payload = {"config": dict(VALID_CONFIGS[integration])}
    payload.update(body)
    return api.post(f"{FS}/{project}/{env}/{integration}", json=payload, beta=True)


@pytest.mark.parametrize("integration", sorted(VALID_CONFIGS))
def test_create_every_integration(api, integration):
    response = _create(api, integration, name="edge", tags=["a"], on=True)
    assert response.status_code == 201, response.text
    body = response.json()
    ident = body["_id"]
    base = f"/api/v2/integration-capabilities/featureStore/proj/prod/{integration}/{ident}"
    assert body["_links"] == {
        "self": {"href": base, "type": "application/json"},
        "parent": {"href": "/api/v2/integration-capabilities/featureStore", "type": "application/json"},
        "project": {"href": "/api/v2/projects/proj", "type": "application/json"},
        "environment": {"href": "/api/v2/projects/proj/environments/prod", "type": "application/json"},
    }
    assert (body["integrationKey"], body["projectKey"], body["environmentKey"]) == (
        integration,
        "proj",
        "prod",
    )
    assert (body["name"], body["tags"], body["on"], body["version"]) == ("edge", ["a"], True, 1)
    assert "config" not in body  # only the single GET by ID carries it (production spec)
    read = api.get(f"{FS}/proj/prod/{integration}/{ident}", beta=True).json()
    for key, value in VALID_CONFIGS[integration].items():
        if key in SECRETS:
            assert "****" in read["config"][key]
            assert value not in json.dumps(read)
        else:
            assert read["config"][key] == value


def test_create_defaults(api):
    body = _create(api).json()
    assert (body["on"], body["tags"], body["name"]) == (False, [], "")


def test_akamai_network_defaults_to_production(api):
    config = dict(VALID_CONFIGS["akamai-edgeworkers"])
    del config["network"]
    body = api.post(f"{FS}/p/e/akamai-edgeworkers", json={"config": config}, beta=True).json()
    read = api.get(f"{FS}/p/e/akamai-edgeworkers/{body['_id']}", beta=True).json()
    assert read["config"]["network"] == "production"


def test_unknown_integration_is_404(api):
    response = api.post(f"{FS}/p/e/launchdarkly-carrier-pigeon", json={"config": {}}, beta=True)
    assert_error(response, 404, "not_found", "launchdarkly-carrier-pigeon")


@pytest.mark.parametrize(
    ("integration", "body", "fragment"),
    [
        ("fastly", {"config": {"storeId": "s"}}, "config.apiToken"),
        ("cloudflare", {"config": {"accountId": "a", "apiToken": "t"}}, "config.namespaceId"),
        ("vercel", {"config": {"edgeConfigId": "e", "apiToken": "t"}}, "config.configurationId"),
        ("fastly", {"config": {"storeId": "", "apiToken": "t"}}, "config.storeId"),
        (
            "akamai-edgeworkers",
            {"config": {**VALID_CONFIGS["akamai-edgeworkers"], "network": "prod"}},
            "config.network",
        ),
        ("fastly", {}, "config"),
        ("fastly", {"config": "x"}, "config"),
        ("fastly", {"config": VALID_CONFIGS["fastly"], "tags": "a"}, "tags"),
        ("fastly", {"config": VALID_CONFIGS["fastly"], "tags": [1]}, "tags"),
        ("fastly", {"config": VALID_CONFIGS["fastly"], "on": 1}, "on"),
        ("fastly", [1], "JSON object"),
    ],
)
def test_create_invalid_is_400(api, integration, body, fragment):
    response = api.post(f"{FS}/p/e/{integration}", json=body, beta=True)
    assert_error(response, 400, "invalid_request", fragment)


def test_list_all_and_by_environment(api):
    first = _create(api, "fastly", "p1", "e1").json()
    second = _create(api, "netlify", "p1", "e2").json()
    third = _create(api, "vercel", "p2", "e1").json()
    everything = api.get(FS, beta=True)
    assert everything.status_code == 200
    assert everything.json() == {
        "_links": {
            "self": {"href": "/api/v2/integration-capabilities/featureStore", "type": "application/json"}
        },
        "items": [first, second, third],
    }
    by_env = api.get(f"{FS}/p1/e1", beta=True).json()
    assert by_env["items"] == [first]
    assert by_env["_links"]["self"]["href"] == "/api/v2/integration-capabilities/featureStore/p1/e1"
    assert by_env["_links"]["parent"]["href"] == "/api/v2/integration-capabilities/featureStore"
    assert api.get(f"{FS}/p9/e9", beta=True).json()["items"] == []


def test_create_ignores_fields_outside_the_schema(api):
    # The API ignores request-body fields that are not in the endpoint's schema (launchdarkly-api 25.x,
    # "Representations"); only our client-side checks catch a typo.
    response = _create(api, description="x")
    assert response.status_code == 201, response.text
    assert "description" not in response.json()


def test_get_by_id(api):
    created = _create(api).json()
    response = api.get(f"{FS}/proj/prod/fastly/{created['_id']}", beta=True)
    assert response.status_code == 200
    read = response.json()
    assert set(read) - set(created) == {"config"}
    assert {key: read[key] for key in created} == created
    assert read["config"]["storeId"] == VALID_CONFIGS["fastly"]["storeId"]


@pytest.mark.parametrize(
    "path", ["{fs}/proj/prod/netlify/{id}", "{fs}/proj/dev/fastly/{id}", "{fs}/proj/prod/fastly/missing"]
)
def test_get_elsewhere_is_404(api, path):
    created = _create(api).json()
    assert_error(api.get(path.format(fs=FS, id=created["_id"]), beta=True), 404, "not_found")


def _patch(api, created, body):
    return api.patch(f"{FS}/proj/prod/fastly/{created['_id']}", json=body, beta=True)


def test_patch_increments_version(api):
    created = _create(api).json()
    response = _patch(
        api,
        created,
        [
            {"op": "test", "path": "/version", "value": 1},
            {"op": "replace", "path": "/on", "value": True},
            {"op": "add", "path": "/tags/-", "value": "edge"},
            {"op": "replace", "path": "/config/storeId", "value": "new-store"},
        ],
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert "config" not in body
    read = api.get(f"{FS}/proj/prod/fastly/{created['_id']}", beta=True).json()
    assert (body["version"], body["on"], body["tags"], read["config"]["storeId"]) == (
        2,
        True,
        ["edge"],
        "new-store",
    )
    assert "****" in read["config"]["apiToken"]
    assert _patch(api, created, [{"op": "replace", "path": "/name", "value": "n"}]).json()["version"] == 3


@pytest.mark.parametrize(
    "ops",
    [
        [{"op": "test", "path": "/version", "value": 5}, {"op": "replace", "path": "/on", "value": True}],
        [{"op": "remove", "path": "/config/nonexistent"}],
        [{"op": "replace", "path": "/missing/deeper", "value": 1}],
    ],
)
def test_patch_that_cannot_apply_is_422(api, ops):
    created = _create(api).json()
    assert_error(_patch(api, created, ops), 422, "patch_failed")
    assert api.get(f"{FS}/proj/prod/fastly/{created['_id']}", beta=True).json()["version"] == 1


@pytest.mark.parametrize(
    "body",
    [
        {"comment": "x", "patch": [{"op": "replace", "path": "/on", "value": True}]},
        {"on": True},
        [{"op": "nope", "path": "/on"}],
        [{"path": "/on", "value": True}],
        [{"op": "replace", "path": "/integrationKey", "value": "vercel"}],
        [{"op": "replace", "path": "/_id", "value": "x"}],
        [{"op": "remove", "path": "/config/apiToken"}],
        [{"op": "replace", "path": "/tags", "value": "x"}],
    ],
)
def test_malformed_or_invalid_patch_is_400(api, body):
    created = _create(api).json()
    assert_error(_patch(api, created, body), 400, "invalid_request")


def test_delete(api):
    created = _create(api).json()
    path = f"{FS}/proj/prod/fastly/{created['_id']}"
    response = api.delete(path, beta=True)
    assert response.status_code == 204 and response.content == b""
    assert_error(api.get(path, beta=True), 404, "not_found")
    assert_error(api.delete(path, beta=True), 404, "not_found")


def test_validate(launchdarkly_emulator_factory, make_client, fake_clock):
    emulator = launchdarkly_emulator_factory(clock=fake_clock)
    api = make_client(emulator)
    created = _create(api).json()
    response = api.post(f"{FS}/proj/prod/fastly/{created['_id']}/validate", beta=True)
    assert response.status_code == 200
    assert response.json() == {"statusCode": 200, "timestamp": int(fake_clock.now * 1000)}
    assert_error(api.post(f"{FS}/proj/prod/fastly/missing/validate", beta=True), 404, "not_found")


@pytest.mark.parametrize("method", ["GET", "PATCH", "DELETE"])
def test_every_delivery_route_needs_beta(api, method):
    created = _create(api).json()
    response = api.request(method, f"{FS}/proj/prod/fastly/{created['_id']}", json=[])
    assert_error(response, 403, "forbidden")
