"""
Validate recorded emulator calls against the bundled LaunchDarkly OpenAPI subset (openapi-core).

Use :func:`validate_call` on every non-admin :class:`~airflow_provider_ld.testing.RecordedCall`:
the response is always checked; the request is checked when the API accepted it (status < 400),
because error responses are often provoked on purpose with invalid requests. Use
:func:`validate_request` to assert a request is valid whatever the answer was.

The spec is loaded once. :data:`SPEC_EXCEPTIONS` lists the only deviations from the file, each a
precise, documented spec quirk; nothing else is relaxed.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

from openapi_core import OpenAPI
from openapi_core.exceptions import OpenAPIError
from openapi_core.testing import MockRequest, MockResponse

from airflow_provider_ld.testing import RecordedCall

SPEC_PATH = Path(__file__).parent / "data" / "launchdarkly-openapi-subset.json"
#: Requests are validated as if sent to the spec's default server.
HOST_URL = "https://app.launchdarkly.com"

_FEATURE_STORE_ONE = (
    "/api/v2/integration-capabilities/featureStore/{projectKey}/{environmentKey}/{integrationKey}/{id}"
)


class ContractViolation(AssertionError):
    """A recorded request or response does not conform to the OpenAPI subset."""


@dataclass(frozen=True)
class SpecException:
    """
    One documented correction applied to the loaded spec.

    :param where: what is changed.
    :param reason: why the spec file is wrong there (with the source).
    :param apply: mutates the spec dict.
    """

    where: str
    reason: str
    apply: Callable[[dict[str, Any]], None]


def _allow_clickhouse_destination(spec: dict[str, Any]) -> None:
    spec["components"]["schemas"]["Destination"]["properties"]["kind"]["enum"].append("clickhouse")


def _document_auth_errors_on_get_by_id(spec: dict[str, Any]) -> None:
    responses = spec["paths"][_FEATURE_STORE_ONE]["get"]["responses"]
    for status, schema in (("401", "UnauthorizedErrorRep"), ("403", "ForbiddenErrorRep")):
        responses[status] = {
            "description": "added by tests/openapi_contract.py (SPEC_EXCEPTIONS)",
            "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema}"}}},
        }


def _config_only_on_read_by_id(spec: dict[str, Any]) -> None:
    required = spec["components"]["schemas"]["IntegrationDeliveryConfiguration"]["required"]
    required.remove("config")


def _accept_merge_patch_on_destinations(spec: dict[str, Any]) -> None:
    body = spec["paths"]["/api/v2/destinations/{projectKey}/{environmentKey}/{id}"]["patch"]["requestBody"]
    json_patch = {"$ref": "#/components/schemas/JSONPatch"}
    merge_patch = {"type": "object", "minProperties": 1}
    body["content"]["application/json"]["schema"] = {
        "anyOf": [
            json_patch,
            {
                "type": "object",
                "required": ["patch"],
                "properties": {"comment": {"type": "string"}, "patch": json_patch},
            },
            {
                "type": "object",
                "required": ["merge"],
                "properties": {"comment": {"type": "string"}, "merge": merge_patch},
            },
            merge_patch,
        ]
    }


#: The only deviations from ``launchdarkly-openapi-subset.json``.
SPEC_EXCEPTIONS: tuple[SpecException, ...] = (
    SpecException(
        where="components.schemas.Destination.properties.kind.enum gains 'clickhouse' (response schema only; "
        "DestinationPost.kind is untouched)",
        reason="The guided setup routes accept kind 'clickhouse' (setup path-parameter text and the v23/v24 "
        "complete-setup text) and complete-setup returns the created Destination of that kind, but the "
        "Destination.kind enum omits it (API notes §3 and §10).",
        apply=_allow_clickhouse_destination,
    ),
    SpecException(
        where="GET /api/v2/integration-capabilities/featureStore/{projectKey}/{environmentKey}/"
        "{integrationKey}/{id} gains 401 (UnauthorizedErrorRep) and 403 (ForbiddenErrorRep) responses",
        reason="getIntegrationDeliveryConfigurationById documents only 404 and 429, yet every sibling route "
        "documents 401/403 and the API rejects missing tokens and a missing beta header there too "
        "(API notes §2: 'spec lists no 401/403; expect them anyway').",
        apply=_document_auth_errors_on_get_by_id,
    ),
    SpecException(
        where="components.schemas.IntegrationDeliveryConfiguration.required loses 'config'",
        reason="The production spec's own description of the field says config is 'only included when "
        "fetching a single integration delivery configuration by ID' (launchdarkly/ldcli ld-openapi.json), "
        "so list, create and patch answers carry none, yet the schema lists it as required.",
        apply=_config_only_on_read_by_id,
    ),
    SpecException(
        where="PATCH /api/v2/destinations/{projectKey}/{environmentKey}/{id} request body: a JSON Patch, "
        "a JSON Merge Patch, or either in the {comment, patch|merge} envelope",
        reason="The operation's own description says a destination is updated with 'a JSON patch or JSON "
        "merge patch representation', and the API overview ('Updates with comments') documents the "
        "{comment, patch} and {comment, merge} envelopes, but the schema names only the JSONPatch array.",
        apply=_accept_merge_patch_on_destinations,
    ),
)


@lru_cache(maxsize=1)
def load_spec() -> dict[str, Any]:
    """Return the spec dict with :data:`SPEC_EXCEPTIONS` applied (loaded once)."""
    spec = json.loads(SPEC_PATH.read_text(encoding="utf-8"))
    patched = copy.deepcopy(spec)
    for exception in SPEC_EXCEPTIONS:
        exception.apply(patched)
    return patched


@lru_cache(maxsize=1)
def load_openapi() -> OpenAPI:
    """Return the openapi-core application for the (corrected) spec, built once."""
    return OpenAPI.from_dict(load_spec())


def _effective_method(call: RecordedCall) -> str:
    """Return the method the API acted on (``X-HTTP-Method-Override`` tunnels through POST)."""
    override = call.headers.get("x-http-method-override", "").upper()
    if call.method == "POST" and override in {"PATCH", "PUT", "DELETE"}:
        return override
    return call.method


def _media_type(value: str | None) -> str:
    """Strip parameters from a content type (``application/json; charset=utf-8`` → ``application/json``)."""
    return (value or "").split(";")[0].strip()


def _mock_request(call: RecordedCall) -> MockRequest:
    """Build an openapi-core request from a recorded call."""
    return MockRequest(
        HOST_URL,
        _effective_method(call),
        call.path,
        args=_query_args(call.query),
        headers=dict(call.headers),
        data=call.body,
        content_type=_media_type(call.headers.get("content-type")) or "application/json",
    )


def _query_args(query: str) -> dict[str, str]:
    """Parse a raw query string into single-valued arguments."""
    return dict(parse_qsl(query, keep_blank_values=True))


def _mock_response(call: RecordedCall) -> MockResponse:
    """Build an openapi-core response from a recorded call."""
    assert call.status is not None
    return MockResponse(
        call.response_body,
        status_code=call.status,
        headers=dict(call.response_headers),
        content_type=_media_type(call.response_headers.get("content-type")),
    )


def _describe(call: RecordedCall) -> str:
    """Short description of a call for error messages (no secrets: headers are already redacted)."""
    return f"{_effective_method(call)} {call.path} -> {call.status}"


def _raise(call: RecordedCall, part: str, exc: Exception) -> None:
    """Re-raise an openapi-core error as a :class:`ContractViolation` with the nested causes."""
    details = [f"{type(exc).__name__}: {exc}"]
    for nested in getattr(exc, "schema_errors", None) or []:
        details.append(f"  - {getattr(nested, 'message', nested)} at {list(getattr(nested, 'path', []))}")
    cause = exc.__cause__
    while cause is not None:
        details.append(f"  caused by {type(cause).__name__}: {cause}")
        for nested in getattr(cause, "schema_errors", None) or []:
            details.append(f"  - {getattr(nested, 'message', nested)} at {list(getattr(nested, 'path', []))}")
        cause = cause.__cause__
    raise ContractViolation(
        f"{part} of {_describe(call)} violates the OpenAPI subset:\n" + "\n".join(details)
    )


def find_operation(call: RecordedCall) -> dict[str, Any] | None:
    """Return the spec operation for a call, or ``None`` when the spec has none."""
    method = _effective_method(call).lower()
    for template, item in load_spec()["paths"].items():
        if method in item and _template_regex(template).match(call.path):
            return item[method]
    return None


@cache
def _template_regex(template: str) -> re.Pattern[str]:
    """Compile a path template (``{param}`` matches one segment)."""
    parts = re.split(r"(\{[^}]+\})", template)
    return re.compile("^" + "".join("[^/]+" if p.startswith("{") else re.escape(p) for p in parts) + "$")


def validate_request(call: RecordedCall) -> None:
    """
    Validate the request of a recorded call.

    :param call: a non-admin recorded call.
    :raises ContractViolation: when the request does not conform.
    """
    _reject_admin(call)
    try:
        load_openapi().validate_request(_mock_request(call))
    except OpenAPIError as exc:
        _raise(call, "Request", exc)


def validate_response(call: RecordedCall) -> None:
    """
    Validate the response of a recorded call (nothing to check when the connection was dropped).

    Responses synthesised by an injected fault with a status the operation does not document
    (e.g. 503) are not API claims and are skipped; documented ones (e.g. an injected 429) are checked.

    :param call: a non-admin recorded call.
    :raises ContractViolation: when the response does not conform.
    """
    _reject_admin(call)
    if call.status is None:
        return
    operation = find_operation(call)
    if operation is None:
        raise ContractViolation(f"{_describe(call)}: the OpenAPI subset has no such operation")
    if call.fault_injected and str(call.status) not in operation["responses"]:
        return
    try:
        load_openapi().validate_response(_mock_request(call), _mock_response(call))
    except OpenAPIError as exc:
        _raise(call, "Response", exc)


def validate_call(call: RecordedCall) -> None:
    """
    Validate a recorded call: always the response, and the request when it was accepted (status < 400).

    :param call: a non-admin recorded call.
    :raises ContractViolation: with a message naming the call and every schema error.
    """
    if call.status is not None and call.status < 400:
        validate_request(call)
    validate_response(call)


def _reject_admin(call: RecordedCall) -> None:
    """Refuse ``/_emulator`` calls, which are not part of the LaunchDarkly API."""
    if call.admin:
        raise ValueError(f"{call.method} {call.path} is an emulator administration call, not an API call")
