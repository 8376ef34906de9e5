"""Core behaviour of the LaunchDarkly API emulator: auth, routing, destinations, lifecycle."""

from __future__ import annotations

import dataclasses
import http.client
import socket

import pytest
import requests

from airflow_provider_ld.testing import LaunchDarklyEmulator
from tests.testing.conftest import ApiClient, assert_error

PUBSUB = {"project": "gcp-project", "topic": "ld-topic"}


# ------------------------------------------------------------------------------------------ auth


@pytest.mark.parametrize("token", [None, "wrong-token", "Bearer test-token", ""])
def test_bad_or_missing_token_is_401(launchdarkly_emulator, make_client, token):
    client = make_client(launchdarkly_emulator, token=token)
    response = client.get("/destinations")
    body = assert_error(response, 401, "unauthorized")
    assert body["message"] == "Invalid access token"


def test_each_error_carries_a_fresh_request_id(launchdarkly_emulator, make_client):
    client = make_client(launchdarkly_emulator, token=None)
    first = client.get("/destinations").json()["id"]
    second = client.get("/destinations").json()["id"]
    assert first != second


def test_beta_route_without_header_is_403(api):
    body = assert_error(api.get("/integration-capabilities/featureStore"), 403, "forbidden")
    assert "LD-API-Version: beta" in body["message"]


def test_beta_route_with_header_succeeds(api):
    response = api.get("/integration-capabilities/featureStore", beta=True)
    assert response.status_code == 200
    assert response.json()["items"] == []


def test_auth_is_checked_before_beta(launchdarkly_emulator, make_client):
    client = make_client(launchdarkly_emulator, token=None)
    assert_error(client.get("/integration-capabilities/featureStore"), 401, "unauthorized")


def test_destination_routes_do_not_need_beta(api):
    assert api.get("/destinations").status_code == 200


# ------------------------------------------------------------------------------------------ routing


@pytest.mark.parametrize("path", ["/nope", "/destinations/a/b/c/d", "/integration-capabilities/other"])
def test_unknown_route_is_404(api, path):
    assert_error(api.get(path), 404, "not_found")


def test_wrong_method_is_405_with_allow(api):
    response = api.request("PUT", "/destinations/proj/env/abc")
    assert_error(response, 405, "method_not_allowed")
    assert set(response.headers["Allow"].split(", ")) == {"GET", "PATCH", "DELETE"}


def test_get_on_post_only_route_is_405(api):
    assert_error(api.get("/destinations/generate-warehouse-destination-key-pair"), 405, "method_not_allowed")


def test_caller_identity(api):
    response = api.get("/caller-identity")
    assert response.status_code == 200
    body = response.json()
    assert body["authKind"] == "token"
    assert body["tokenKind"] == "service"
    assert body["serviceToken"] is True
    assert body["scopes"] == ["writer"]
    assert body["tokenName"] == "emulator"
    assert body["accountId"] and body["tokenId"]
    assert "test-token" not in response.text


def test_method_override_tunnels_patch_through_post(api):
    created = api.create_destination()
    response = api.post(
        f"/destinations/proj/prod/{created['_id']}",
        json=[{"op": "replace", "path": "/on", "value": True}],
        headers={"X-HTTP-Method-Override": "PATCH"},
    )
    assert response.status_code == 200
    assert response.json()["on"] is True


# ------------------------------------------------------------------------------------------ destinations


def test_create_destination_returns_full_representation(api, launchdarkly_emulator):
    response = api.post(
        "/destinations/proj/prod", json={"name": "n", "kind": "google-pubsub", "config": PUBSUB, "on": True}
    )
    assert response.status_code == 201
    body = response.json()
    ident = body["_id"]
    assert isinstance(ident, str) and len(ident) == 24
    assert body["_links"] == {
        "self": {"href": f"/api/v2/destinations/proj/prod/{ident}", "type": "application/json"},
        "parent": {"href": "/api/v2/destinations", "type": "application/json"},
    }
    assert (body["name"], body["kind"], body["config"], body["on"], body["version"]) == (
        "n",
        "google-pubsub",
        PUBSUB,
        True,
        1,
    )
    assert body["_access"] == {"allowed": [], "denied": []}
    assert isinstance(body["createdAt"], int) and body["createdAt"] > 1_600_000_000_000
    assert body["maintainerId"]
    assert "projectKey" not in body and "environmentKey" not in body
    assert launchdarkly_emulator.destinations == [body]


def test_create_defaults_name_and_on(api):
    body = api.post("/destinations/p/e", json={"kind": "segment", "config": {"writeKey": "w"}}).json()
    assert body["name"] == "" and body["on"] is False


def test_list_spans_projects_and_environments(api):
    first = api.create_destination("p1", "e1")
    second = api.create_destination("p2", "e2")
    response = api.get("/destinations")
    assert response.status_code == 200
    assert response.json() == {
        "_links": {"self": {"href": "/api/v2/destinations", "type": "application/json"}},
        "items": [first, second],
    }


def test_get_destination(api):
    created = api.create_destination()
    response = api.get(f"/destinations/proj/prod/{created['_id']}")
    assert response.status_code == 200
    assert response.json() == created


@pytest.mark.parametrize(
    "path",
    ["/destinations/proj/other/{id}", "/destinations/other/prod/{id}", "/destinations/proj/prod/missing"],
)
def test_get_destination_elsewhere_is_404(api, path):
    created = api.create_destination()
    assert_error(api.get(path.format(id=created["_id"])), 404, "not_found")


def test_delete_destination(api):
    created = api.create_destination()
    response = api.delete(f"/destinations/proj/prod/{created['_id']}")
    assert response.status_code == 204
    assert response.content == b""
    assert_error(api.get(f"/destinations/proj/prod/{created['_id']}"), 404, "not_found")
    assert_error(api.delete(f"/destinations/proj/prod/{created['_id']}"), 404, "not_found")


@pytest.mark.parametrize(
    ("kind", "config"),
    [
        ("azure-event-hubs", {"namespace": "ns", "name": "hub", "policyName": "pn", "policyKey": "pk"}),
        ("google-pubsub", PUBSUB),
        ("kinesis", {"region": "us-east-1", "roleArn": "arn:aws:iam::1:role/r", "streamName": "s"}),
        (
            "mparticle",
            {"apiKey": "k", "secret": "s", "environment": "production", "userIdentity": "customer_id"},
        ),
        (
            "mparticle",
            {
                "apiKey": "k",
                "secret": "s",
                "environment": "development",
                "userIdentities": [{"ldContextKind": "user", "mparticleUserIdentity": "customer_id"}],
                "anonymousUserIdentity": "device_id",
            },
        ),
        ("segment", {"writeKey": "wk", "userIDContextKind": "user"}),
        (
            "snowflake-v2",
            {"publicKey": "MIIB", "snowflakeHostAddress": "https://acme.snowflakecomputing.com"},
        ),
        ("databricks", {}),
        ("bigquery", {"anything": 1}),
        ("redshift", {"whatever": "x"}),
    ],
)
def test_create_accepts_every_kind(api, kind, config):
    response = api.post("/destinations/p/e", json={"kind": kind, "config": config})
    assert response.status_code == 201, response.text
    assert response.json()["kind"] == kind


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ([1, 2], "JSON object"),
        ("string", "JSON object"),
        ({"kind": "clickhouse", "config": {}}, "'clickhouse'"),
        ({"kind": "carrier-pigeon", "config": {}}, "'carrier-pigeon'"),
        ({"config": PUBSUB}, "kind"),
        ({"kind": "google-pubsub"}, "config"),
        ({"kind": "google-pubsub", "config": "x"}, "config"),
        ({"kind": "google-pubsub", "config": {"project": "p"}}, "config.topic"),
        ({"kind": "google-pubsub", "config": {"project": "p", "topic": ""}}, "config.topic"),
        ({"kind": "google-pubsub", "config": {"project": 1, "topic": "t"}}, "config.project"),
        ({"kind": "kinesis", "config": {"region": "r", "roleArn": "a"}}, "config.streamName"),
        (
            {"kind": "azure-event-hubs", "config": {"namespace": "n", "name": "h", "policyName": "p"}},
            "config.policyKey",
        ),
        ({"kind": "segment", "config": {}}, "config.writeKey"),
        ({"kind": "snowflake-v2", "config": {"publicKey": "k"}}, "config.snowflakeHostAddress"),
        (
            {"kind": "mparticle", "config": {"apiKey": "k", "secret": "s", "userIdentity": "u"}},
            "config.environment",
        ),
        (
            {
                "kind": "mparticle",
                "config": {"apiKey": "k", "secret": "s", "environment": "staging", "userIdentity": "u"},
            },
            "config.environment",
        ),
        (
            {"kind": "mparticle", "config": {"apiKey": "k", "secret": "s", "environment": "production"}},
            "userIdentit",
        ),
        (
            {
                "kind": "mparticle",
                "config": {"apiKey": "k", "secret": "s", "environment": "production", "userIdentities": []},
            },
            "userIdentit",
        ),
        ({"kind": "segment", "config": {"writeKey": "w"}, "on": "yes"}, "on"),
        ({"kind": "segment", "config": {"writeKey": "w"}, "name": 5}, "name"),
    ],
)
def test_create_rejects_invalid_body(api, launchdarkly_emulator, body, fragment):
    assert_error(api.post("/destinations/p/e", json=body), 400, "invalid_request", fragment)
    assert launchdarkly_emulator.destinations == []


@pytest.mark.parametrize("raw", [b"", b"{not json", b"\xff\xfe"])
def test_create_rejects_missing_or_unparseable_body(api, raw):
    response = api.post("/destinations/p/e", data=raw, headers={"Content-Type": "application/json"})
    assert_error(response, 400, "invalid_request")


# ------------------------------------------------------------------------------------------ patch


def _patch(api: ApiClient, created: dict, body) -> requests.Response:
    return api.patch(f"/destinations/proj/prod/{created['_id']}", json=body)


def test_patch_applies_and_increments_version(api):
    created = api.create_destination()
    first = _patch(api, created, [{"op": "replace", "path": "/name", "value": "renamed"}])
    assert first.status_code == 200
    assert first.json()["name"] == "renamed" and first.json()["version"] == 2
    second = _patch(
        api,
        created,
        [
            {"op": "test", "path": "/version", "value": 2},
            {"op": "replace", "path": "/on", "value": True},
            {"op": "replace", "path": "/config/topic", "value": "other"},
        ],
    )
    assert second.status_code == 200
    body = second.json()
    assert (body["version"], body["on"], body["config"]["topic"]) == (3, True, "other")
    assert api.get(f"/destinations/proj/prod/{created['_id']}").json() == body


def test_patch_accepts_comment_envelope(api):
    created = api.create_destination()
    response = _patch(
        api, created, {"comment": "turn it on", "patch": [{"op": "replace", "path": "/on", "value": True}]}
    )
    assert response.status_code == 200
    assert response.json()["on"] is True


def test_patch_can_change_kind_with_matching_config(api):
    created = api.create_destination()
    response = _patch(
        api,
        created,
        [
            {"op": "replace", "path": "/kind", "value": "segment"},
            {"op": "replace", "path": "/config", "value": {"writeKey": "w"}},
        ],
    )
    assert response.status_code == 200
    assert response.json()["kind"] == "segment"


def test_failing_test_op_is_409_and_changes_nothing(api):
    created = api.create_destination()
    response = _patch(
        api,
        created,
        [{"op": "test", "path": "/version", "value": 7}, {"op": "replace", "path": "/name", "value": "x"}],
    )
    assert_error(response, 409, "optimistic_locking_error")
    assert api.get(f"/destinations/proj/prod/{created['_id']}").json() == created


@pytest.mark.parametrize(
    "path", ["/_id", "/_links", "/_links/self", "/_access", "/createdAt", "/maintainerId", "/version"]
)
def test_patch_on_read_only_field_is_400(api, path):
    created = api.create_destination()
    response = _patch(api, created, [{"op": "replace", "path": path, "value": "x"}])
    assert_error(response, 400, "invalid_request", path.split("/")[1])


def test_patch_move_from_read_only_field_is_400(api):
    created = api.create_destination()
    assert_error(
        _patch(api, created, [{"op": "move", "from": "/_id", "path": "/name"}]), 400, "invalid_request"
    )


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"instructions": [{"kind": "turnOn"}]},
        {"merge": []},
        {"merge": {"on": True}, "patch": [{"op": "replace", "path": "/on", "value": True}]},
        {"_id": "other"},
        {"version": 7},
        {"on": "yes"},
        {"config": {"topic": None}},
        {"description": "not a destination field"},
        {"patch": "nope"},
        {"comment": 5, "patch": [{"op": "replace", "path": "/on", "value": True}]},
        [],
        [{"op": "frobnicate", "path": "/name", "value": 1}],
        [{"op": "replace", "value": 1}],
        [{"op": "replace", "path": "name", "value": 1}],
        [{"op": "replace", "path": "/name"}],
        [{"op": "copy", "path": "/name"}],
        ["not-an-object"],
        [{"op": "replace", "path": "", "value": {}}],
        [{"op": "remove", "path": "/config/missing"}],
        [{"op": "remove", "path": "/config/topic"}],
        [{"op": "replace", "path": "/kind", "value": "carrier-pigeon"}],
        [{"op": "replace", "path": "/kind", "value": "segment"}],
        [{"op": "replace", "path": "/on", "value": "yes"}],
        [{"op": "remove", "path": "/name"}],
        [{"op": "add", "path": "/extra", "value": 1}],
    ],
)
def test_invalid_patch_is_400(api, body):
    created = api.create_destination()
    assert_error(_patch(api, created, body), 400, "invalid_request")
    assert api.get(f"/destinations/proj/prod/{created['_id']}").json()["version"] == 1


def test_patch_unknown_destination_is_404(api):
    assert_error(
        api.patch("/destinations/proj/prod/missing", json=[{"op": "replace", "path": "/on", "value": True}]),
        404,
        "not_found",
    )


# ------------------------------------------------------------------------------------------ python API


def test_add_destination_seeds_visible_destination(launchdarkly_emulator, api):
    seeded = launchdarkly_emulator.add_destination("p", "e", kind="segment", name="seed", on=True)
    assert seeded["config"] == {"writeKey": "exa****key"}
    assert launchdarkly_emulator.stored_destinations[0]["config"] == {"writeKey": "example-write-key"}
    assert api.get(f"/destinations/p/e/{seeded['_id']}").json() == seeded
    assert launchdarkly_emulator.destinations == [seeded]
    assert launchdarkly_emulator.calls_to() == [c for c in launchdarkly_emulator.calls if not c.admin]


def test_add_destination_validates(launchdarkly_emulator):
    with pytest.raises(ValueError, match=r"config\.topic"):
        launchdarkly_emulator.add_destination("p", "e", kind="google-pubsub", config={"project": "x"})
    with pytest.raises(ValueError, match="nope"):
        launchdarkly_emulator.add_destination("p", "e", kind="nope")


def test_calls_to_filters(api, launchdarkly_emulator):
    api.create_destination()
    api.get("/destinations")
    api.get("/caller-identity")
    assert [c.method for c in launchdarkly_emulator.calls_to(method="get")] == ["GET", "GET"]
    assert [c.path for c in launchdarkly_emulator.calls_to(path_prefix="/api/v2/destinations")] == [
        "/api/v2/destinations/proj/prod",
        "/api/v2/destinations",
    ]


def test_recorded_call_contents(api, launchdarkly_emulator):
    api.post("/destinations/p/e?dryRun=1", json={"kind": "segment", "config": {"writeKey": "w"}})
    (call,) = launchdarkly_emulator.calls_to()
    assert (call.method, call.path, call.query, call.status, call.admin) == (
        "POST",
        "/api/v2/destinations/p/e",
        "dryRun=1",
        201,
        False,
    )
    assert call.headers["authorization"] == "<redacted>"
    assert all(name == name.lower() for name in call.headers)
    assert call.json() == {"kind": "segment", "config": {"writeKey": "w"}}
    assert call.response_json()["kind"] == "segment"
    assert call.response_headers["content-length"] == str(len(call.response_body))
    assert call.response_headers["content-type"] == "application/json"
    assert call.fault_injected is False
    with pytest.raises(dataclasses.FrozenInstanceError):
        call.status = 500  # type: ignore[misc]


def test_reset_clears_everything(api, launchdarkly_emulator):
    api.create_destination()
    launchdarkly_emulator.inject_fault(status=500)
    launchdarkly_emulator.set_rate_limit(global_limit=1)
    launchdarkly_emulator.reset()
    assert launchdarkly_emulator.destinations == []
    assert launchdarkly_emulator.calls == []
    response = api.get("/destinations")
    assert response.status_code == 200
    assert "X-Ratelimit-Global-Limit" not in response.headers
    assert api.get("/destinations").status_code == 200


# ------------------------------------------------------------------------------------------ HTTP & lifecycle


def test_keep_alive_and_content_length(launchdarkly_emulator):
    conn = http.client.HTTPConnection("127.0.0.1", launchdarkly_emulator.port, timeout=5)
    try:
        for _ in range(3):
            conn.request("GET", "/api/v2/destinations", headers={"Authorization": "test-token"})
            response = conn.getresponse()
            body = response.read()
            assert response.status == 200
            assert int(response.getheader("Content-Length")) == len(body)
            assert response.getheader("Connection") is None
        assert conn.sock is not None  # still the same open connection
    finally:
        conn.close()


def test_start_stop_restart():
    emulator = LaunchDarklyEmulator()
    assert not emulator.running
    with emulator:
        assert emulator.running
        assert emulator.base_url == f"http://127.0.0.1:{emulator.port}"
        with pytest.raises(RuntimeError):
            emulator.start()
    assert not emulator.running
    emulator.stop()  # idempotent
    with emulator.start():
        assert requests.get(
            emulator.base_url + "/api/v2/caller-identity", headers={"Authorization": "test-token"}
        ).ok


def test_stop_ends_the_server_thread_and_closes_keep_alive_connections():
    emulator = LaunchDarklyEmulator().start()
    session = requests.Session()
    session.trust_env = False
    url = emulator.base_url + "/api/v2/caller-identity"
    assert session.get(url, headers={"Authorization": "test-token"}).ok
    server_thread = emulator._thread
    emulator.stop()  # while the client still holds its keep-alive connection open
    assert not server_thread.is_alive(), "stop() returned before the server stopped serving"
    assert not emulator.running
    with pytest.raises(requests.ConnectionError):
        session.get(url, headers={"Authorization": "test-token"}, timeout=2)
    session.close()


def test_emulator_bug_answers_500_instead_of_hanging(api, monkeypatch, caplog):
    from airflow_provider_ld.testing import _api

    def broken(ctx):
        raise RuntimeError("boom")

    monkeypatch.setitem(_api.OPERATIONS, "getCallerIdentity", broken)
    assert_error(api.get("/caller-identity"), 500, "internal_server_error")
    assert "Emulator error" in caplog.text


def test_chunked_body_is_refused_and_connection_closed(launchdarkly_emulator):
    # The whole request goes out in one write, so the server's early 411 cannot race the client's sending.
    body = b'{"kind": "segment", "config": {"writeKey": "w"}}'
    request = (
        b"POST /api/v2/destinations/p/e HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: test-token\r\n"
        b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
        + b"%x\r\n" % len(body)
        + body
        + b"\r\n0\r\n\r\n"
    )
    with socket.create_connection(("127.0.0.1", launchdarkly_emulator.port), timeout=5) as sock:
        sock.sendall(request)
        response = http.client.HTTPResponse(sock)
        response.begin()
        assert response.status == 411
        assert response.getheader("Connection") == "close"
        response.read()
    assert launchdarkly_emulator.destinations == []
