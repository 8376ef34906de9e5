"""Recorded request/response pairs of the LaunchDarkly API emulator."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from typing import Any

REDACTED = "<redacted>"


@dataclass(frozen=True)
class RecordedCall:
    """
    One request the emulator received and what it answered.

    :param method: HTTP method as sent (``POST`` even when ``X-HTTP-Method-Override`` was used).
    :param path: request path without the query string.
    :param query: raw query string (``""`` when absent).
    :param headers: request headers, lower-cased names; credential-like ones (``authorization``,
        ``cookie``, ``x-api-key``, ...) are ``"<redacted>"``.
    :param body: raw request body.
    :param status: response status, or ``None`` when the connection was dropped before answering.
    :param response_headers: response headers as sent, lower-cased names.
    :param response_body: raw response body (``b""`` when nothing was sent).
    :param admin: whether this was a ``/_emulator/...`` administration call.
    :param fault_injected: whether the response was synthesised by an injected ``status`` fault
        rather than produced by the emulated API.
    """

    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: bytes
    status: int | None
    response_headers: dict[str, str] = field(default_factory=dict)
    response_body: bytes = b""
    admin: bool = False
    fault_injected: bool = False

    def json(self) -> Any:
        """Return the request body parsed as JSON (``None`` when empty)."""
        return json.loads(self.body) if self.body.strip() else None

    def response_json(self) -> Any:
        """Return the response body parsed as JSON (``None`` when empty)."""
        return json.loads(self.response_body) if self.response_body.strip() else None

    def summary(self) -> dict[str, Any]:
        """Return a JSON-friendly description of the call without request or response bodies."""
        return {
            "method": self.method,
            "path": self.path,
            "query": self.query,
            "headers": dict(self.headers),
            "status": self.status,
            "response_headers": dict(self.response_headers),
            "admin": self.admin,
            "fault_injected": self.fault_injected,
        }


#: Parts of header names whose values are credentials (``Authorization``, ``Cookie``, ``X-Api-Key``, ...).
_CREDENTIAL_HEADER_HINTS = ("auth", "cookie", "token", "secret", "key", "password", "session", "signature")


def is_credential_header(name: str) -> bool:
    """Return whether a request header's value may be a credential (hidden in the call log)."""
    lowered = name.lower()
    return any(hint in lowered for hint in _CREDENTIAL_HEADER_HINTS)


def redact_headers(items: list[tuple[str, str]]) -> dict[str, str]:
    """
    Lower-case header names, join repeated headers and hide every credential-like value.

    :param items: header ``(name, value)`` pairs as received.
    """
    headers: dict[str, str] = {}
    for name, value in items:
        key = name.lower()
        if is_credential_header(key):
            value = REDACTED
        headers[key] = f"{headers[key]}, {value}" if key in headers else value
    return headers


class CallLog:
    """
    Thread-safe list of :class:`RecordedCall`.

    :param lock: the emulator-wide lock.
    """

    def __init__(self, lock: threading.RLock) -> None:
        self._lock = lock
        self._calls: list[RecordedCall] = []

    def append(self, call: RecordedCall) -> None:
        """
        Record one call.

        :param call: the call to record.
        """
        with self._lock:
            self._calls.append(call)

    def snapshot(self) -> list[RecordedCall]:
        """Return a copy of all recorded calls, oldest first."""
        with self._lock:
            return list(self._calls)

    def clear(self) -> None:
        """Forget all recorded calls."""
        with self._lock:
            self._calls.clear()
