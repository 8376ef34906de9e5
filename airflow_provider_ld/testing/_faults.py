"""Fault injection for the LaunchDarkly API emulator."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from airflow_provider_ld.testing._errors import (
    DEFAULT_MESSAGES,
    dumps,
    error_body,
    error_code,
    is_strict_json,
)

DROP_MODES = ("none", "before", "after")


@dataclass
class Fault:
    """
    One injected fault; see :meth:`LaunchDarklyEmulator.inject_fault` for the parameters.

    ``remaining`` counts how many more matching requests it applies to.
    """

    method: str | None = None
    path: str | None = None
    status: int | None = None
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    drop: str = "none"
    times: int = 1
    retry_after: float | int | None = None
    reset_in_past: bool = False
    remaining: int = field(init=False, default=0)

    def __post_init__(self) -> None:
        if self.method is not None:
            self.method = self.method.upper()
        if self.drop not in DROP_MODES:
            raise ValueError(f"drop must be one of {DROP_MODES}, not {self.drop!r}")
        if self.status is not None and not 100 <= int(self.status) <= 599:
            raise ValueError(f"status must be an HTTP status code, not {self.status!r}")
        if self.times < 1:
            raise ValueError("times must be at least 1")
        if self.delay < 0:
            raise ValueError("delay must not be negative")
        if not _is_sendable_body(self.body):
            raise ValueError("body must be bytes, a string, or a JSON value without NaN or Infinity")
        self.headers = {str(k): str(v) for k, v in (self.headers or {}).items()}
        self.remaining = self.times

    def matches(self, method: str, path: str) -> bool:
        """
        Tell whether this fault applies to a request.

        :param method: request method.
        :param path: request path (no query).
        """
        if self.method is not None and self.method != method:
            return False
        if self.path is None:
            return True
        if self.path.endswith("*"):
            return path.startswith(self.path[:-1])
        return path == self.path

    def response(self, now: float) -> tuple[int, dict[str, str], bytes]:
        """
        Build the synthetic response of a ``status`` fault.

        :param now: current clock time (seconds since the epoch).
        :return: ``(status, headers, body)``.
        """
        status = int(self.status or 500)
        headers = {"Content-Type": "application/json"}
        if status == 429 and self.retry_after is not None:
            headers["Retry-After"] = str(self.retry_after)
        elif status == 429 and self.reset_in_past:
            headers["X-Ratelimit-Reset"] = str(int((now - 5) * 1000))
        headers.update(self.headers)
        return status, headers, self._body(status)

    def _body(self, status: int) -> bytes:
        """Return the configured body, or a ``{code, message, id}`` error body."""
        if isinstance(self.body, bytes):
            return self.body
        if isinstance(self.body, str):
            return self.body.encode()
        if self.body is not None:
            return dumps(self.body)
        return error_body(error_code(status), DEFAULT_MESSAGES.get(status, "Injected fault"))


def _is_sendable_body(body: Any) -> bool:
    """
    Tell whether a fault body can be sent: raw bytes or text as given, anything else as strict JSON.

    :param body: the configured body (``None`` for the default error body).
    """
    return body is None or isinstance(body, (bytes, str)) or is_strict_json(body)


class FaultQueue:
    """
    Ordered, thread-safe list of pending faults.

    :param lock: the emulator-wide lock.
    """

    def __init__(self, lock: threading.RLock) -> None:
        self._lock = lock
        self._faults: list[Fault] = []

    def add(self, fault: Fault) -> None:
        """
        Queue a fault after the existing ones.

        :param fault: the fault.
        """
        with self._lock:
            self._faults.append(fault)

    def take(self, method: str, path: str) -> Fault | None:
        """
        Consume one use of the first fault matching a request.

        :param method: request method.
        :param path: request path.
        :return: the fault, or ``None`` when none matches.
        """
        with self._lock:
            for fault in self._faults:
                if fault.matches(method, path):
                    fault.remaining -= 1
                    if fault.remaining <= 0:
                        self._faults.remove(fault)
                    return fault
        return None

    def pending(self) -> int:
        """Return how many faults still have uses left."""
        with self._lock:
            return len(self._faults)

    def clear(self) -> None:
        """Drop all pending faults."""
        with self._lock:
            self._faults.clear()
