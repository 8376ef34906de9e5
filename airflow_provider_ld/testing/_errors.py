"""Error type and error bodies shared by the LaunchDarkly API emulator."""

from __future__ import annotations

import json
import uuid
from typing import Any

#: The ``code`` LaunchDarkly puts in the error body for each HTTP status.
ERROR_CODES: dict[int, str] = {
    400: "invalid_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "optimistic_locking_error",
    422: "patch_failed",
    429: "rate_limited",
    500: "internal_server_error",
    502: "bad_gateway",
    503: "service_unavailable",
    504: "gateway_timeout",
}

#: Deepest nesting of arrays and objects accepted in a JSON value; deeper values would exhaust the
#: interpreter's recursion limit when copied, patched or serialised.
MAX_JSON_DEPTH = 100

#: Default messages for injected faults and generic errors.
DEFAULT_MESSAGES: dict[int, str] = {
    400: "Invalid request body",
    401: "Invalid access token",
    403: "Forbidden. Access to the requested resource was denied.",
    404: "Invalid resource identifier",
    405: "Method not allowed",
    409: "Conflict. Optimistic lock error. Try again later.",
    422: "Unprocessable entity. Could not apply patch.",
    429: "You've exceeded the API rate limit. Try again later.",
    500: "Internal server error",
    503: "Service unavailable",
}


class ApiError(Exception):
    """
    An API error that the emulator answers with a ``{code, message, id}`` JSON body.

    :param status: HTTP status code.
    :param message: human-readable description (never contains secrets).
    :param code: LaunchDarkly error code; derived from ``status`` when omitted.
    :param headers: extra response headers (for example ``Allow`` on a 405).
    """

    def __init__(
        self, status: int, message: str, code: str | None = None, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code or error_code(status)
        self.headers = dict(headers or {})


def error_code(status: int) -> str:
    """
    Return the LaunchDarkly error code for an HTTP status.

    :param status: HTTP status code.
    """
    return ERROR_CODES.get(status, "error" if status >= 400 else "ok")


def new_request_id() -> str:
    """Return a fresh request identifier, as LaunchDarkly puts in error bodies."""
    return uuid.uuid4().hex


def error_body(code: str, message: str) -> bytes:
    """
    Serialise an error body ``{code, message, id}``.

    :param code: LaunchDarkly error code.
    :param message: human-readable message.
    """
    return dumps({"code": code, "message": message, "id": new_request_id()})


def bad_request(message: str) -> ApiError:
    """
    Build a 400 ``invalid_request`` error.

    :param message: what is wrong with the request.
    """
    return ApiError(400, message)


def not_found(message: str = "Invalid resource identifier") -> ApiError:
    """
    Build a 404 ``not_found`` error.

    :param message: what was not found.
    """
    return ApiError(404, message)


def dumps(payload: Any) -> bytes:
    """
    Serialise a JSON payload compactly as strict (RFC 8259) JSON in UTF-8.

    :param payload: any JSON-serialisable value.
    :raises ValueError: when the payload holds NaN or an infinity, which JSON cannot carry.
    """
    return json.dumps(payload, separators=(",", ":"), allow_nan=False).encode()


def parse_json_body(body: bytes, *, required: bool) -> Any:
    """
    Parse a request body as JSON.

    :param body: raw request body.
    :param required: whether an empty body is an error.
    :return: the parsed value, or ``None`` for an empty optional body.
    :raises ApiError: 400 when the body is missing (and required) or not valid JSON, which includes
        the non-standard constants ``NaN``, ``Infinity`` and ``-Infinity`` and nesting too deep to parse.
    """
    if not body.strip():
        if required:
            raise bad_request("A JSON request body is required")
        return None
    try:
        value = json.loads(body, parse_constant=_refuse_constant)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise bad_request("Request body is not valid JSON") from None
    if too_deep(value):
        raise bad_request(f"Request body is not valid JSON: nested deeper than {MAX_JSON_DEPTH} levels")
    return value


def _refuse_constant(constant: str) -> Any:
    """
    Refuse ``NaN``, ``Infinity`` and ``-Infinity``, which Python's parser accepts but JSON does not have.

    :param constant: the constant as written in the body.
    :raises ValueError: always.
    """
    raise ValueError(f"{constant} is not JSON")


def too_deep(value: Any, limit: int = MAX_JSON_DEPTH) -> bool:
    """
    Tell whether arrays and objects nest deeper than ``limit`` in a value (without recursing).

    :param value: a parsed JSON value.
    :param limit: the deepest nesting allowed; a scalar has depth 0, ``[]`` depth 1, ``[[]]`` depth 2.
    """
    pending = [(value, 1)]
    while pending:
        item, depth = pending.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth > limit:
            return True
        pending.extend((child, depth + 1) for child in children)
    return False


def is_strict_json(value: Any) -> bool:
    """
    Tell whether :func:`dumps` can serialise a value: JSON types only, no NaN or infinity, not too deep.

    :param value: candidate value.
    """
    if too_deep(value):
        return False
    try:
        dumps(value)
    except (TypeError, ValueError):
        return False
    return True
