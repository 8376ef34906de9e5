"""Malformed input the emulator must answer with a 400 (never a 500), and answers that stay strict JSON."""

from __future__ import annotations

import json
import socket

import pytest

from airflow_provider_ld.testing import _api
from airflow_provider_ld.testing._errors import (
    MAX_JSON_DEPTH,
    ApiError,
    dumps,
    is_strict_json,
    parse_json_body,
    too_deep,
)
from airflow_provider_ld.testing._faults import Fault
from airflow_provider_ld.testing._patching import parse_patch_ops
from tests.testing.conftest import TOKEN, assert_error

CREATE_PATH = "/destinations/proj/prod"
BIGQUERY_BODY = {"kind": "bigquery", "name": "w", "config": {"x": 1}}


def nested(depth: int) -> str:
    """An array nesting ``depth`` levels deep (``[]`` is depth 1)."""
    return "[" * depth + "]" * depth


def raw_post(emulator, path: str, body: bytes, content_lengths: list[str]) -> tuple[int, bytes]:
    """Send one POST with exactly these ``Content-Length`` headers; return the status and body."""
    lines = [f"POST {path} HTTP/1.1", "Host: 127.0.0.1", "Connection: close", f"Authorization: {TOKEN}"]
    lines += [f"Content-Length: {value}" for value in content_lengths]
    with socket.create_connection(("127.0.0.1", emulator.port), timeout=5) as sock:
        sock.sendall("\r\n".join(lines).encode() + b"\r\n\r\n" + body)
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    head, _, content = data.partition(b"\r\n\r\n")
    return int(head.split()[1]), content


# ------------------------------------------------------------------------------------ parsing bodies


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_parse_json_body_refuses_non_standard_constants(constant):
    with pytest.raises(ApiError) as raised:
        parse_json_body(f'{{"x": [{constant}]}}'.encode(), required=True)
    assert raised.value.status == 400
    assert raised.value.message == "Request body is not valid JSON"


def test_parse_json_body_accepts_the_deepest_allowed_nesting():
    assert parse_json_body(nested(MAX_JSON_DEPTH).encode(), required=True) is not None


@pytest.mark.parametrize("depth", [MAX_JSON_DEPTH + 1, 100_000])
def test_parse_json_body_refuses_deeper_nesting(depth):
    with pytest.raises(ApiError) as raised:
        parse_json_body(nested(depth).encode(), required=True)
    assert raised.value.status == 400
    assert "not valid JSON" in raised.value.message


def test_too_deep_counts_arrays_and_objects_but_not_scalars():
    assert not too_deep("x" * 10, limit=0)
    assert not too_deep({"a": [1]}, limit=2)
    assert too_deep({"a": [{}]}, limit=2)


def test_dumps_refuses_nan_so_answers_are_strict_json():
    with pytest.raises(ValueError, match="JSON"):
        dumps({"x": float("nan")})
    assert not is_strict_json([float("inf")])
    assert is_strict_json({"x": [1.5, "NaN"]})


# ------------------------------------------------------------------------------------ JSON Patch


@pytest.mark.parametrize(
    ("operation", "fragment"),
    [
        ({"op": [], "path": "/on"}, "op must be one of add, copy, move, remove, replace, test"),
        ({"op": {"x": 1}, "path": "/on"}, "op must be one of"),
        ({"op": "upsert", "path": "/on"}, "op must be one of"),
        ({"op": "remove", "path": {"p": "/on"}}, "path must be a JSON Pointer string"),
        ({"op": "copy", "from": ["/name"], "path": "/on"}, "requires a 'from' JSON Pointer"),
    ],
    ids=["op-array", "op-object", "op-unknown", "path-object", "from-array"],
)
def test_malformed_patch_operations_are_400s(operation, fragment):
    with pytest.raises(ApiError) as raised:
        parse_patch_ops([operation])
    assert raised.value.status == 400
    assert fragment in raised.value.message


def test_patch_cannot_grow_a_destination_past_the_depth_limit(api):
    created = api.post(CREATE_PATH, json={**BIGQUERY_BODY, "config": {"x": json.loads(nested(50))}}).json()
    path = f"{CREATE_PATH}/{created['_id']}"
    pointer = "/config/x" + "/0" * 49 + "/-"  # the innermost array, 52 levels below the root
    too_deep_patch = [{"op": "add", "path": pointer, "value": json.loads(nested(60))}]
    assert_error(api.patch(path, json=too_deep_patch), 400, "invalid_request")
    assert api.get(path).json()["version"] == created["version"]
    within_limit = [{"op": "add", "path": pointer, "value": json.loads(nested(40))}]
    assert api.patch(path, json=within_limit).status_code == 200


# ------------------------------------------------------------------------------------ over HTTP


def test_nan_body_is_refused_and_nothing_is_stored(api, launchdarkly_emulator):
    response = api.post(CREATE_PATH, data=b'{"kind": "bigquery", "config": {"x": NaN}}')
    assert_error(response, 400, "invalid_request", "not valid JSON")
    assert launchdarkly_emulator.destinations == []


def test_repeated_equal_content_lengths_are_one_length(launchdarkly_emulator):
    body = json.dumps(BIGQUERY_BODY).encode()
    status, _ = raw_post(launchdarkly_emulator, "/api/v2" + CREATE_PATH, body, [str(len(body))] * 2)
    assert status == 201


def test_conflicting_content_lengths_are_a_400(launchdarkly_emulator):
    body = json.dumps(BIGQUERY_BODY).encode()
    status, content = raw_post(
        launchdarkly_emulator, "/api/v2" + CREATE_PATH, body, [str(len(body)), str(len(body) - 1)]
    )
    assert status == 400
    assert json.loads(content)["message"] == "Conflicting Content-Length headers"
    assert launchdarkly_emulator.destinations == []


def test_an_answer_that_is_not_strict_json_is_a_500_with_an_error_body(api, monkeypatch):
    monkeypatch.setitem(
        _api.OPERATIONS, "getCallerIdentity", lambda ctx: _api.ApiResult(200, {"x": float("nan")})
    )
    assert_error(api.get("/caller-identity"), 500, "internal_server_error")


# ------------------------------------------------------------------------------------ seeding and faults


def test_seeding_a_nan_config_is_refused(launchdarkly_emulator):
    with pytest.raises(ValueError, match="NaN"):
        launchdarkly_emulator.add_destination("proj", "prod", kind="bigquery", config={"x": float("inf")})
    assert launchdarkly_emulator.destinations == []


def test_a_fault_body_with_nan_is_refused_but_raw_text_is_sent_as_given(launchdarkly_emulator, api):
    with pytest.raises(ValueError, match="NaN"):
        Fault(status=500, body={"x": float("nan")})
    launchdarkly_emulator.inject_fault("GET", "/api/v2/caller-identity", status=500, body="NaN")
    response = api.get("/caller-identity")
    assert (response.status_code, response.content) == (500, b"NaN")


def test_admin_fault_body_with_nan_is_a_400(launchdarkly_emulator, api):
    response = api.session.post(
        f"{launchdarkly_emulator.base_url}/_emulator/faults",
        data=b'{"status": 500, "body": {"x": NaN}}',
        headers={"Authorization": launchdarkly_emulator.admin_token},
        timeout=5,
    )
    assert_error(response, 400, "invalid_request", "not valid JSON")
    assert launchdarkly_emulator.pending_faults == 0
