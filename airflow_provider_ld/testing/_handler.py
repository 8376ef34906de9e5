"""HTTP server and request handler of the LaunchDarkly API emulator (stdlib ``http.server``)."""

from __future__ import annotations

import contextlib
import hmac
import ipaddress
import logging
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from airflow_provider_ld.testing._api import OPERATIONS, ApiState, OpContext
from airflow_provider_ld.testing._errors import ApiError, dumps, error_body, not_found
from airflow_provider_ld.testing._faults import FaultQueue
from airflow_provider_ld.testing._ratelimit import RateLimiter
from airflow_provider_ld.testing._recording import CallLog, RecordedCall, redact_headers
from airflow_provider_ld.testing._routes import match, method_not_allowed

log = logging.getLogger("airflow_provider_ld.testing.emulator")

MAX_BODY_BYTES = 10 * 1024 * 1024
_OVERRIDABLE = frozenset({"PATCH", "PUT", "DELETE"})
_BETA_MESSAGE = "This is a beta resource; send the header LD-API-Version: beta"

Response = tuple[int, dict[str, str], bytes]


@dataclass
class Runtime:
    """
    What the request handler needs from the emulator.

    :param token: the accepted access token.
    :param admin_token: the token the administration routes accept.
    :param clock: current time in seconds since the epoch.
    :param state: stores acted on by the API operations.
    :param faults: pending injected faults.
    :param limiter: rate limiter.
    :param calls: call recorder.
    :param stopping: set when the emulator stops (interrupts injected delays).
    :param admin: serves ``/_emulator/...`` requests: ``(method, path, body) -> (status, payload)``.
    :param is_admin_path: tells administration paths apart.
    """

    token: str
    admin_token: str
    clock: Callable[[], float]
    state: ApiState
    faults: FaultQueue
    limiter: RateLimiter
    calls: CallLog
    stopping: threading.Event
    admin: Callable[[str, str, bytes], tuple[int, Any]]
    is_admin_path: Callable[[str], bool]


class EmulatorHTTPServer(ThreadingHTTPServer):
    """
    Threading HTTP server that tracks open connections so :meth:`close_connections` can end them.

    :param address: ``(host, port)`` to bind.
    :param runtime: emulator runtime shared with handlers.
    """

    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], runtime: Runtime) -> None:
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        self.runtime = runtime
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__(address, EmulatorRequestHandler)

    def process_request(self, request: Any, client_address: Any) -> None:
        """Track the connection, then serve it in a thread."""
        with self._connections_lock:
            self._connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        """Forget the connection, then close it."""
        with self._connections_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Log unexpected handler errors at DEBUG instead of printing a traceback to stderr."""
        # socketserver calls this from inside its ``except`` block, so exc_info is the handler's error
        log.debug("Error while serving %s", client_address, exc_info=True)  # noqa: LOG014

    def close_connections(self) -> None:
        """Shut down every open client connection (idle keep-alive ones included)."""
        with self._connections_lock:
            connections = list(self._connections)
        for conn in connections:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)


class EmulatorRequestHandler(BaseHTTPRequestHandler):
    """Serves the emulated API, the administration API, faults and rate limits; records every call."""

    protocol_version = "HTTP/1.1"
    server_version = "LaunchDarklyEmulator/1.0"
    sys_version = ""
    disable_nagle_algorithm = True
    server: EmulatorHTTPServer

    def do_GET(self) -> None:
        """Serve any method through one code path."""
        self._handle()

    do_POST = do_PATCH = do_DELETE = do_PUT = do_OPTIONS = do_GET

    def version_string(self) -> str:
        """Return the ``Server`` header value."""
        return self.server_version

    def log_message(self, format: str, *args: Any) -> None:
        """Send http.server's request-line logging to ``logging`` at DEBUG (no headers, no bodies)."""
        if log.isEnabledFor(logging.DEBUG):
            log.debug("%s - %s", self.address_string(), format % args)

    def _handle(self) -> None:
        """Read the request, decide the outcome, record it, then answer (or drop the connection)."""
        runtime = self.server.runtime
        path, _, query = self.path.partition("?")
        admin = runtime.is_admin_path(path)
        self._fault_injected = False
        body = b""
        try:
            body = self._read_body()
        except ApiError as exc:
            outcome: Response | None = _error_response(exc, {"Connection": "close"})
        else:
            outcome = self._admin_response(path, body) if admin else self._api_outcome(path, body)
        if outcome is not None:
            outcome = self._with_standard_headers(outcome)
        self._record(path, query, body, outcome, admin)
        if outcome is None:
            self._drop()
        else:
            self._send(*outcome)

    def _record(self, path: str, query: str, body: bytes, outcome: Response | None, admin: bool) -> None:
        """Record the exchange before it reaches the client, so callers never miss the last call."""
        status, headers, response = outcome or (None, {}, b"")
        self.server.runtime.calls.append(
            RecordedCall(
                method=self.command,
                path=path,
                query=query,
                headers=redact_headers(self.headers.items()),
                body=body,
                status=status,
                response_headers={k.lower(): v for k, v in headers.items()},
                response_body=response,
                admin=admin,
                fault_injected=self._fault_injected,
            )
        )

    def _read_body(self) -> bytes:
        """
        Read the request body framed by ``Content-Length``.

        :raises ApiError: 411 for a chunked body, 400 for a malformed ``Content-Length`` (negative,
            not a decimal number, or repeated with different values), 413 when too large.
        """
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            raise ApiError(
                411, "Chunked request bodies are not supported; send Content-Length", "invalid_request"
            )
        values = self.headers.get_all("Content-Length") or []
        if not values:
            return b""
        length = _content_length(values)
        if length > MAX_BODY_BYTES:
            raise ApiError(413, "Request body too large", "invalid_request")
        return self.rfile.read(length)

    def _admin_response(self, path: str, body: bytes) -> Response:
        """Serve an administration request: only with the admin token, and only to a loopback ``Host``."""
        try:
            self._check_admin_access()
            status, payload = self.server.runtime.admin(self.command, path, body)
            return _json_response(status, payload, {})
        except ApiError as exc:
            return _error_response(exc)
        except Exception:  # an emulator bug must still produce an answer the client can see
            log.exception("Emulator error while serving %s %s", self.command, path)
            return _error_response(ApiError(500, "Internal emulator error"))

    def _api_outcome(self, path: str, body: bytes) -> Response | None:
        """
        Apply any injected fault, then serve an API request.

        :return: the response, or ``None`` to drop the connection without answering.
        """
        runtime = self.server.runtime
        method = self._effective_method()
        fault = runtime.faults.take(method, path)
        if fault is None:
            return self._api_response(method, path, body)
        if fault.delay > 0 and runtime.stopping.wait(fault.delay):
            return None
        if fault.drop == "before":
            return None
        if fault.status is not None:
            self._fault_injected = True
            return fault.response(runtime.clock())
        response = self._api_response(method, path, body)
        return None if fault.drop == "after" else response

    def _effective_method(self) -> str:
        """Return the method, honouring ``X-HTTP-Method-Override`` on POST."""
        override = self.headers.get("X-HTTP-Method-Override", "").upper()
        if self.command == "POST" and override in _OVERRIDABLE:
            return override
        return self.command

    def _api_response(self, method: str, path: str, body: bytes) -> Response:
        """Authenticate, rate-limit, route and run the operation."""
        runtime = self.server.runtime
        limit_headers: dict[str, str] = {}
        try:
            self._authenticate()
            found = match(method, path)
            decision = runtime.limiter.check(found.route.key if found and found.route else None, "token")
            limit_headers = decision.headers
            if not decision.allowed:
                raise ApiError(429, "You've exceeded the API rate limit. Try again later.")
            if found is None:
                raise not_found("Unknown API resource")
            if found.route is None:
                raise method_not_allowed(found, method)
            if found.route.beta and self.headers.get("LD-API-Version", "").strip() != "beta":
                raise ApiError(403, _BETA_MESSAGE)
            result = OPERATIONS[found.route.operation](OpContext(found.params, body, path, runtime.state))
            return _json_response(result.status, result.payload, limit_headers)
        except ApiError as exc:
            return _error_response(exc, limit_headers)
        except Exception:  # an emulator bug must still produce an answer the client can see
            log.exception("Emulator error while serving %s %s", method, path)
            return _error_response(ApiError(500, "Internal emulator error"), limit_headers)

    def _authenticate(self) -> None:
        """
        Check the raw-token ``Authorization`` header.

        :raises ApiError: 401 when missing or wrong.
        """
        sent = self.headers.get("Authorization", "")
        if not hmac.compare_digest(sent.encode(), self.server.runtime.token.encode()):
            raise ApiError(401, "Invalid access token")

    def _check_admin_access(self) -> None:
        """
        Refuse an administration request whose ``Host`` is not loopback or that lacks the admin token.

        A page in the user's browser can reach a loopback port under its own host name (DNS rebinding);
        the ``Host`` check stops that, the token stops anything else on the machine.

        :raises ApiError: 403 for a non-loopback ``Host``, 401 without the admin token.
        """
        if not is_loopback(_host_name(self.headers.get("Host", ""))):
            raise ApiError(403, "The emulator administration routes only answer a loopback Host")
        sent = self.headers.get("Authorization", "")
        if not hmac.compare_digest(sent.encode(), self.server.runtime.admin_token.encode()):
            raise ApiError(401, "The emulator administration routes need the admin token in Authorization")

    def _with_standard_headers(self, response: Response) -> Response:
        """Add ``Server``, ``Date`` and ``Content-Length`` (omitted on 204, which has no body)."""
        status, headers, body = response
        complete = {"Server": self.version_string(), "Date": self.date_time_string(), **headers}
        if status == 204:
            body = b""
        else:
            complete["Content-Length"] = str(len(body))
        return status, complete, body

    def _send(self, status: int, headers: dict[str, str], body: bytes) -> None:
        """Write a complete response."""
        self.log_request(status)
        try:
            self.send_response_only(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            if body:
                self.wfile.write(body)
        except OSError:
            self.close_connection = True

    def _drop(self) -> None:
        """Close the connection without answering."""
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.request.shutdown(socket.SHUT_RDWR)


def is_loopback(hostname: str) -> bool:
    """Return whether ``hostname`` names this machine (``localhost`` or a loopback address)."""
    if hostname.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(hostname).is_loopback
    except ValueError:
        return False


def _host_name(host_header: str) -> str:
    """Return the host name of a ``Host`` header value (``[::1]:8765`` -> ``::1``)."""
    value = host_header.strip()
    if value.startswith("["):
        return value[1 : value.find("]")] if "]" in value else ""
    return value.rsplit(":", 1)[0] if value.count(":") == 1 else value


def _content_length(values: list[str]) -> int:
    """
    Parse the ``Content-Length`` header values of one request (RFC 9110 section 8.6).

    Only ASCII digits are a length: ``int()`` alone would also take a sign, ``_`` separators and
    non-ASCII digits. Repeated headers must agree.

    :param values: every ``Content-Length`` value received, in order.
    :return: the body length in bytes.
    :raises ApiError: 400 when a value is not a non-negative decimal number or the values differ.
    """
    lengths = {value.strip(" \t") for value in values}
    if len(lengths) != 1:
        raise ApiError(400, "Conflicting Content-Length headers")
    (raw,) = lengths
    if not (raw.isascii() and raw.isdigit()):
        raise ApiError(400, "Invalid Content-Length header: must be a non-negative decimal number")
    return int(raw)


def _json_response(status: int, payload: Any, headers: dict[str, str]) -> Response:
    """
    Build a strict-JSON response (empty body when ``payload`` is ``None``).

    :raises ValueError: when the payload holds NaN or an infinity (the caller answers 500).
    """
    if payload is None:
        return status, dict(headers), b""
    return status, {"Content-Type": "application/json", **headers}, dumps(payload)


def _error_response(exc: ApiError, headers: dict[str, str] | None = None) -> Response:
    """Build a ``{code, message, id}`` error response."""
    merged = {"Content-Type": "application/json", **(headers or {}), **exc.headers}
    return exc.status, merged, error_body(exc.code, exc.message)
