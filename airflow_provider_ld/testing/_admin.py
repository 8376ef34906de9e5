"""The ``/_emulator/...`` administration endpoints (admin token, loopback Host; no faults, no rate limits)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow_provider_ld.testing._errors import ApiError, bad_request, not_found, parse_json_body
from airflow_provider_ld.testing._validation import require_object

if TYPE_CHECKING:
    from airflow_provider_ld.testing.emulator import LaunchDarklyEmulator

ADMIN_PREFIX = "/_emulator"


def is_admin_path(path: str) -> bool:
    """
    Tell whether a path belongs to the administration API.

    :param path: request path.
    """
    return path == ADMIN_PREFIX or path.startswith(ADMIN_PREFIX + "/")


def _call_with_kwargs(func: Any, body: bytes) -> None:
    """Call an emulator method with the JSON object body as keyword arguments (400 on bad input)."""
    kwargs = require_object(parse_json_body(body, required=False) or {})
    try:
        func(**kwargs)
    except (TypeError, ValueError) as exc:
        raise bad_request(str(exc)) from None


def handle_admin(emulator: LaunchDarklyEmulator, method: str, path: str, body: bytes) -> tuple[int, Any]:
    """
    Serve one administration request.

    :param emulator: the emulator.
    :param method: request method.
    :param path: request path.
    :param body: raw request body.
    :return: ``(status, payload)``; ``payload`` ``None`` means an empty body.
    :raises ApiError: 400 for bad arguments, 404/405 for unknown endpoints.
    """
    action = path[len(ADMIN_PREFIX) :].strip("/")
    routes = {
        "reset": "POST",
        "faults": "POST",
        "rate-limit": "POST",
        "calls": "GET",
        "destinations": "GET",
    }
    if action not in routes:
        raise not_found("Unknown emulator administration endpoint")
    if method != routes[action]:
        raise ApiError(405, f"Use {routes[action]} for {path}", headers={"Allow": routes[action]})
    if action == "reset":
        emulator.reset()
        return 204, None
    if action == "faults":
        _call_with_kwargs(emulator.inject_fault, body)
        return 204, None
    if action == "rate-limit":
        _call_with_kwargs(emulator.set_rate_limit, body)
        return 204, None
    if action == "calls":
        return 200, [call.summary() for call in emulator.calls]
    return 200, emulator.destinations
