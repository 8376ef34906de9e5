"""
Fuzz the emulator against the bundled OpenAPI subset with schemathesis (Python API), bounded.

Per operation (18): positive and negative cases with generated path parameters, the same with path
parameters pinned to resources that exist (so bodies reach the real validation and patch logic), and for
operations without a body negative cases of the authentication header. 5 examples per run, derandomized
(reproducible), no shrinking. Every answer must not be a 5xx and must match the spec: status code,
content type, response schema and headers (schemathesis' checks), and again with openapi-core
(``tests/openapi_contract.validate_response``).

Hand-made malformed requests that schemathesis does not produce (invalid JSON, bad framing, deep
nesting, non-standard JSON constants, non-string JSON Patch members) follow: each is a 400 with the
usual ``{code, message, id}`` error body, and every answer stays strict JSON.
"""

from __future__ import annotations

import copy
import json
import socket
from dataclasses import dataclass
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.openapi_contract import load_spec, validate_response

TOKEN = "test-token"
EXAMPLES = 5
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
]
SCHEMA = schemathesis.openapi.from_dict(copy.deepcopy(load_spec()))
OPERATIONS = {
    result.ok().definition.raw["operationId"]: result.ok() for result in SCHEMA.get_all_operations()
}


def headers_for(path: str) -> dict[str, str]:
    """The token, and the beta version for the delivery-configuration routes."""
    return {"Authorization": TOKEN, "LD-API-Version": "beta" if "featureStore" in path else "20240415"}


@dataclass(frozen=True)
class Seeded:
    """An emulator holding one destination and one delivery configuration, and the ids to pin."""

    emulator: Any
    pinned: dict[str, str]
    calls_before: int


@pytest.fixture
def seeded(launchdarkly_emulator) -> Seeded:
    """A fresh emulator with one destination and one delivery configuration."""
    emulator = launchdarkly_emulator
    destination = emulator.add_destination(
        "proj", "prod", kind="segment", name="events", config={"writeKey": "w"}
    )
    created = requests.post(
        f"{emulator.base_url}/api/v2/integration-capabilities/featureStore/proj/prod/fastly",
        json={"config": {"storeId": "store", "apiToken": "token"}},
        headers=headers_for("featureStore"),
        timeout=5,
    )
    assert created.status_code == 201
    pinned = {
        "projectKey": "proj",
        "environmentKey": "prod",
        "projKey": "proj",
        "envKey": "prod",
        "integrationKey": "fastly",
        "kind": "snowflake-v2",
        "destination": destination["_id"],
        "configuration": created.json()["_id"],
    }
    return Seeded(emulator, pinned, len(emulator.calls_to()))


@pytest.mark.parametrize("operation_id", sorted(OPERATIONS))
def test_emulator_answers_generated_requests_as_documented(operation_id, seeded):
    emulator, known = seeded.emulator, seeded.pinned
    operation = OPERATIONS[operation_id]
    headers = headers_for(operation.path)
    names = {parameter.name for parameter in operation.path_parameters}
    pinned = {name: value for name, value in known.items() if name in names}
    if "id" in names:
        pinned["id"] = known["configuration" if "featureStore" in operation.path else "destination"]
    runs = [(None, GenerationMode.POSITIVE, headers)]
    if pinned:
        runs.append((pinned, GenerationMode.POSITIVE, headers))
    if operation.body:
        runs += [(None, GenerationMode.NEGATIVE, headers)] + (
            [(pinned, GenerationMode.NEGATIVE, headers)] if pinned else []
        )
    else:
        runs.append((None, GenerationMode.NEGATIVE, None))  # negate the Authorization header itself
    sent = 0

    for path_parameters, mode, fixed_headers in runs:
        strategy = operation.as_strategy(
            generation_mode=mode, headers=fixed_headers, path_parameters=path_parameters
        )

        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            derandomize=True,
            database=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @given(case=strategy)
        def check(case):
            nonlocal sent
            response = case.call(base_url=emulator.base_url, headers=headers, timeout=5)
            sent += 1
            case.validate_response(response, checks=CHECKS, headers=headers)

        check()

    calls = emulator.calls_to()[seeded.calls_before :]
    assert len(calls) == sent >= len(runs)
    for call in calls:
        assert call.status is not None and call.status < 500
        validate_response(call)


# Hand-made malformed requests


def raw_request(
    emulator,
    method: str,
    path: str,
    body: bytes = b"",
    *,
    headers: dict[str, str] | None = None,
    length: str | None = None,
) -> tuple[int, dict[str, str], bytes]:
    """Send exactly these bytes (no client-side normalisation) and read one answer."""
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", "Connection: close", f"Authorization: {TOKEN}"]
    lines += [
        f"{name}: {value}"
        for name, value in {**headers_for(path), **(headers or {})}.items()
        if name != "Authorization"
    ]
    lines.append(f"Content-Length: {length if length is not None else len(body)}")
    with socket.create_connection(("127.0.0.1", emulator.port), timeout=5) as sock:
        sock.sendall("\r\n".join(lines).encode() + b"\r\n\r\n" + body)
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    head, _, content = data.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    answer_headers = dict(line.split(": ", 1) for line in header_lines)
    return int(status_line.split()[1]), {k.lower(): v for k, v in answer_headers.items()}, content


def strict_json(content: bytes) -> Any:
    """Parse as RFC 8259 JSON: ``NaN`` and ``Infinity`` are not JSON."""

    def refuse(constant: str) -> Any:
        raise ValueError(f"{constant} is not JSON")

    return json.loads(content, parse_constant=refuse)


DESTINATION = "/api/v2/destinations/proj/prod/{id}"
CONFIGURATION = "/api/v2/integration-capabilities/featureStore/proj/prod/fastly/{configuration}"
MALFORMED = [
    ("invalid-json", "POST", "/api/v2/destinations/proj/prod", b'{"kind": "segment",', 400),
    ("invalid-utf8", "POST", "/api/v2/destinations/proj/prod", b'{"kind": "\xff\xfe"}', 400),
    ("empty-required-body", "POST", "/api/v2/destinations/proj/prod", b"", 400),
    ("body-is-a-string", "POST", "/api/v2/destinations/proj/prod", b'"segment"', 400),
    ("kind-is-an-object", "POST", "/api/v2/destinations/proj/prod", b'{"kind": {}, "config": {}}', 400),
    (
        "config-is-an-array",
        "POST",
        "/api/v2/destinations/proj/prod",
        b'{"kind": "segment", "config": []}',
        400,
    ),
    (
        "huge-integer-name",
        "POST",
        "/api/v2/destinations/proj/prod",
        b'{"kind": "segment", "name": ' + b"9" * 5000 + b"}",
        400,
    ),
    ("merge-patch-wrong-type", "PATCH", DESTINATION, b'{"on": "true"}', 400),
    ("merge-patch-empty", "PATCH", DESTINATION, b"{}", 400),
    ("patch-envelope-comment-array", "PATCH", DESTINATION, b'{"comment": [], "patch": []}', 400),
    (
        "patch-path-not-a-pointer",
        "PATCH",
        DESTINATION,
        b'[{"op": "replace", "path": "on", "value": true}]',
        400,
    ),
    (
        "patch-read-only-field",
        "PATCH",
        DESTINATION,
        b'[{"op": "replace", "path": "/_id", "value": "x"}]',
        400,
    ),
    ("patch-kind-to-array", "PATCH", DESTINATION, b'[{"op": "replace", "path": "/kind", "value": []}]', 400),
    (
        "patch-into-a-string",
        "PATCH",
        DESTINATION,
        b'[{"op": "add", "path": "/config/writeKey/0", "value": 1}]',
        400,
    ),
    (
        "patch-version-test-array",
        "PATCH",
        DESTINATION,
        b'[{"op": "test", "path": "/version", "value": [1]}]',
        409,
    ),
    ("delivery-patch-empty", "PATCH", CONFIGURATION, b"[]", 400),
    (
        "delivery-tags-not-array",
        "POST",
        "/api/v2/integration-capabilities/featureStore/proj/prod/fastly",
        b'{"config": {"storeId": "s", "apiToken": "t"}, "tags": "x"}',
        400,
    ),
    (
        "setup-name-array",
        "POST",
        "/api/v2/destinations/projects/proj/environments/prod/kinds/redshift/setup",
        b'{"name": ["x"]}',
        400,
    ),
    (
        "complete-key-object",
        "POST",
        "/api/v2/destinations/projects/proj/environments/prod/kinds/snowflake-v2/complete-setup",
        b'{"publicKey": {}}',
        400,
    ),
    ("percent-garbage-in-id", "GET", "/api/v2/destinations/proj/prod/%ZZ%00", b"", 404),
]


def fill(path: str, ids: dict[str, str]) -> str:
    return path.format(**ids)


@pytest.fixture
def ids(seeded) -> dict[str, str]:
    return {"id": seeded.pinned["destination"], "configuration": seeded.pinned["configuration"]}


@pytest.mark.parametrize(
    ("method", "path", "body", "status"), [m[1:] for m in MALFORMED], ids=[m[0] for m in MALFORMED]
)
def test_malformed_requests_get_documented_client_errors(method, path, body, status, seeded, ids):
    emulator = seeded.emulator
    answer_status, headers, content = raw_request(emulator, method, fill(path, ids), body)
    assert answer_status == status
    assert headers["content-type"] == "application/json"
    error = strict_json(content)
    assert set(error) == {"code", "message", "id"} and error["message"]
    validate_response(emulator.calls_to()[-1])


def assert_client_error(emulator, status: int, content: bytes) -> dict[str, Any]:
    """A 400 with the usual strict-JSON ``{code, message, id}`` body, recorded as the spec documents."""
    assert status == 400, content
    error = strict_json(content)
    assert set(error) == {"code", "message", "id"} and error["code"] == "invalid_request"
    validate_response(emulator.calls_to()[-1])
    return error


@pytest.mark.parametrize(
    "operation",
    [
        b'{"op": [], "path": "/on"}',
        b'{"op": {"name": "replace"}, "path": "/on", "value": true}',
        b'{"op": "replace", "path": ["on"], "value": true}',
        b'{"op": "move", "from": {"path": "/name"}, "path": "/on"}',
    ],
    ids=["op-array", "op-object", "path-array", "from-object"],
)
@pytest.mark.parametrize("path", [DESTINATION, CONFIGURATION], ids=["destination", "delivery-configuration"])
def test_non_string_patch_members_are_a_400(path, operation, seeded, ids):
    """A JSON Patch ``op``, ``path`` or ``from`` that is not a string is refused, naming the member."""
    emulator = seeded.emulator
    status, _, content = raw_request(emulator, "PATCH", fill(path, ids), b"[" + operation + b"]")
    error = assert_client_error(emulator, status, content)
    member = json.loads(operation)
    named = "op" if not isinstance(member["op"], str) else "from" if "from" in member else "path"
    assert named in error["message"]
    if named == "op":
        assert "add, copy, move, remove, replace, test" in error["message"]


@pytest.mark.parametrize("depth", [500, 5000], ids=["deeper-than-the-limit", "deeper-than-recursion"])
def test_deeply_nested_json_is_a_400(depth, seeded):
    """A body nesting arrays too deeply (even past the interpreter's recursion limit) is invalid JSON."""
    body = b'{"kind": "bigquery", "config": {"x": ' + b"[" * depth + b"]" * depth + b"}}"
    status, _, content = raw_request(seeded.emulator, "POST", "/api/v2/destinations/proj/prod", body)
    assert_client_error(seeded.emulator, status, content)


@pytest.mark.parametrize("constant", [b"NaN", b"Infinity", b"-Infinity"])
def test_non_standard_json_constants_are_refused(constant, seeded):
    """NaN and the infinities are not JSON (RFC 8259): refused, never stored, never echoed back."""
    emulator = seeded.emulator
    status, _, content = raw_request(
        emulator,
        "POST",
        "/api/v2/destinations/proj/prod",
        b'{"kind": "bigquery", "name": "w", "config": {"x": ' + constant + b"}}",
    )
    assert_client_error(emulator, status, content)
    listing = requests.get(f"{emulator.base_url}/api/v2/destinations", headers=headers_for(""), timeout=5)
    assert listing.status_code == 200
    strict_json(listing.content)  # a later listing is still strict JSON: nothing was stored


@pytest.mark.parametrize("length", ["-5", "five", "+5", "5_0", "0x5"])
def test_malformed_content_length_is_a_400(length, seeded):
    """A Content-Length that is not a non-negative decimal number is malformed framing, not a size."""
    status, headers, content = raw_request(
        seeded.emulator, "POST", "/api/v2/destinations/proj/prod", length=length
    )
    assert_client_error(seeded.emulator, status, content)
    assert headers["connection"] == "close"
