"""One API call described as data (:class:`ApiRequest`), its headers, and how its answer is read."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

from pydantic import BaseModel, ValidationError

from airflow_provider_ld import __version__
from airflow_provider_ld.api.retries import Attempt, RetryPolicy, TransportFailure
from airflow_provider_ld.connection import ConnectionSettings
from airflow_provider_ld.exceptions import (
    LaunchDarklyAuthError,
    LaunchDarklyConflictError,
    LaunchDarklyConnectionError,
    LaunchDarklyError,
    LaunchDarklyNotFoundError,
    LaunchDarklyRateLimitError,
    LaunchDarklyServerError,
    LaunchDarklyValidationError,
)

USER_AGENT = f"airflow-provider-launchdarkly/{__version__}"
#: The largest response body read, in bytes (16 MiB). A larger answer fails the call with a clear error
#: instead of filling the worker's memory; the biggest answer the API gives, the unpaginated destination
#: list, stays far below it (about 1 KiB per destination).
MAX_RESPONSE_BYTES = 16 * 1024 * 1024
#: An attempt as a whole (connect, send, status line, headers and body) is cut after this many times the
#: connection's ``timeout``, which itself bounds the connect and each single read. A server that trickles
#: a byte at a time therefore holds a call for at most ``2 * timeout`` per attempt (60 s by default).
ATTEMPT_DEADLINE_FACTOR = 2.0


def attempt_deadline(timeout: float) -> float:
    """
    Return the seconds one attempt may take as a whole.

    :param timeout: the connection's ``timeout`` (connect and per read).
    """
    return ATTEMPT_DEADLINE_FACTOR * timeout


#: How much of the API's error ``message`` an error keeps; ``code`` and the request id keep less.
MAX_ERROR_MESSAGE_CHARS = 1000
_MAX_ERROR_FIELD_CHARS = 100
BETA_VERSION = "beta"
_IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "DELETE"})


class DeadlineExceeded(TimeoutError):
    """
    An attempt did not get its complete answer before its overall deadline.

    :param seconds: the deadline, in seconds from the start of the attempt.
    """

    def __init__(self, seconds: float) -> None:
        super().__init__(f"no complete answer within {seconds:g} s")
        self.seconds = seconds


@dataclass(frozen=True)
class ApiRequest:
    """
    A call to make, independent of the HTTP library that makes it.

    :param operation: the OpenAPI ``operationId``, for logs and tests.
    :param method: HTTP method.
    :param path: path under the base URL, starting with ``/api/v2``.
    :param body: JSON body with secrets revealed (never shown in ``repr``), or ``None``.
    :param beta: send ``LD-API-Version: beta`` instead of the dated version.
    :param idempotent: repeating the call cannot act twice (GET, DELETE, a version-guarded PATCH).
    :param response_model: the model an answer with a body is parsed into; ``None`` for no body.
    """

    operation: str
    method: str
    path: str
    body: Any = field(default=None, repr=False)
    beta: bool = False
    idempotent: bool | None = None
    response_model: type[BaseModel] | None = None

    def __post_init__(self) -> None:
        if self.idempotent is None:
            object.__setattr__(self, "idempotent", self.method in _IDEMPOTENT_METHODS)

    def describe(self) -> str:
        """``METHOD path``, for logs and error messages."""
        return f"{self.method} {self.path}"

    def encoded_body(self) -> bytes | None:
        """Return the JSON body as bytes, or ``None`` when the call has no body."""
        if self.body is None:
            return None
        return json.dumps(self.body, separators=(",", ":"), allow_nan=False).encode()


def request_headers(settings: ConnectionSettings, request: ApiRequest) -> dict[str, str]:
    """
    Return the headers of one call: the raw token (no ``Bearer``), API version, agent and content type.

    :param settings: the connection's settings.
    :param request: the call.
    """
    headers = {
        "Authorization": settings.token,
        "LD-API-Version": BETA_VERSION if request.beta else settings.api_version,
        "User-Agent": USER_AGENT,
        "Accept": "application/json",
    }
    if request.body is not None:
        headers["Content-Type"] = "application/json"
    return headers


def parse_response(request: ApiRequest, status: int, content: bytes) -> Any:
    """
    Turn an answer into the request's model, or raise the error it stands for.

    :param request: the call that was answered.
    :param status: the HTTP status.
    :param content: the raw body.
    :return: an instance of ``request.response_model``, or ``None`` for a call without a response body.
    """
    if not 200 <= status < 300:
        raise error_from_response(request, status, content)
    if request.response_model is None:
        return None
    try:
        return request.response_model.model_validate_json(content or b"{}")
    except ValidationError as err:
        first = err.errors(include_input=False, include_url=False)[0]
        location = ".".join(str(part) for part in first["loc"])
        raise LaunchDarklyServerError(
            f"unexpected answer: {location or 'body'}: {first['msg']}",
            method=request.method,
            path=request.path,
            status_code=status,
        ) from None


_ERROR_CLASSES: dict[int, type[LaunchDarklyError]] = {
    400: LaunchDarklyValidationError,
    401: LaunchDarklyAuthError,
    403: LaunchDarklyAuthError,
    404: LaunchDarklyNotFoundError,
    409: LaunchDarklyConflictError,
    422: LaunchDarklyConflictError,
    429: LaunchDarklyRateLimitError,
}


def error_class_for(status: int) -> type[LaunchDarklyError]:
    """Return the error class for an HTTP status."""
    if status in _ERROR_CLASSES:
        return _ERROR_CLASSES[status]
    return LaunchDarklyServerError if status >= 500 else LaunchDarklyError


def error_from_response(
    request: ApiRequest, status: int, content: bytes, *, note: str = ""
) -> LaunchDarklyError:
    """
    Build the error for a non-2xx answer from the API's ``{code, message, id}`` body.

    :param request: the call that failed.
    :param status: the HTTP status.
    :param content: the raw body (may be empty or not JSON).
    :param note: extra text appended to the message (e.g. how many retries were made).
    """
    code, message, request_id = _error_fields(content)
    if not message:
        message = _default_message(status)
    if status == 403 and request.beta:
        message += " (this is a beta endpoint; LD-API-Version: beta was sent)"
    if note:
        message = f"{message}; {note}"
    return error_class_for(status)(
        message,
        method=request.method,
        path=request.path,
        status_code=status,
        code=code,
        request_id=request_id,
    )


def final_error(
    request: ApiRequest,
    attempt: Attempt,
    content: bytes,
    failure: Exception | None,
    *,
    retries: int,
    reason: str,
    policy: RetryPolicy,
    host: str,
) -> LaunchDarklyError:
    """
    Build the error raised when a call is given up, worded exactly as the sync hook words it.

    :param request: the call.
    :param attempt: the last attempt.
    :param content: the last answer's body.
    :param failure: the transport exception of the last attempt, if any.
    :param retries: retries made.
    :param reason: why no further retry is made.
    :param policy: the retry policy in force.
    :param host: the API host, for connection errors.
    """
    retryable = policy.should_retry(attempt, idempotent=bool(request.idempotent))
    note = f"gave up after {retries} retries: {reason}" if retryable else ""
    if attempt.failure is None:
        return error_from_response(request, attempt.status or 0, content, note=note)
    what = "could not connect" if attempt.failure is TransportFailure.NOT_SENT else "connection failed"
    detail = f"{what} to {host} ({type(failure).__name__})"
    if isinstance(failure, DeadlineExceeded):
        detail = f"no complete answer from {host} within the {failure.seconds:g} s deadline of an attempt"
    if attempt.failure is TransportFailure.MAYBE_SENT and not request.idempotent:
        detail += "; the request may have been applied, and was not repeated because it is not idempotent"
    if note:
        detail += f"; {note}"
    return LaunchDarklyConnectionError(detail, method=request.method, path=request.path)


def body_too_large_error(request: ApiRequest, status: int | None) -> LaunchDarklyServerError:
    """
    Build the error for an answer whose body exceeds :data:`MAX_RESPONSE_BYTES` (it was not read further).

    :param request: the call.
    :param status: the answer's HTTP status.
    """
    return LaunchDarklyServerError(
        f"the answer's body exceeds the {MAX_RESPONSE_BYTES // (1024 * 1024)} MiB limit and was not read",
        method=request.method,
        path=request.path,
        status_code=status,
    )


#: Bytes read from a streamed answer at a time.
READ_CHUNK_BYTES = 64 * 1024


class CappedBody:
    """
    Collect a streamed answer's body, refusing one larger than :data:`MAX_RESPONSE_BYTES`.

    The sync and async hooks feed it the chunks their transports read.

    :param request: the call, for the error.
    :param status: the answer's HTTP status.
    :param headers: the answer's headers (an announced ``Content-Length`` over the limit is refused at once).
    :raises LaunchDarklyServerError: when the announced length exceeds the limit.
    """

    def __init__(self, request: ApiRequest, status: int, headers: Mapping[str, str]) -> None:
        self._request, self._status = request, status
        self._chunks: list[bytes] = []
        self._size = 0
        announced = headers.get("Content-Length", "")
        if announced.isdigit() and int(announced) > MAX_RESPONSE_BYTES:
            raise body_too_large_error(request, status)

    def add(self, chunk: bytes) -> None:
        """
        Keep one chunk.

        :raises LaunchDarklyServerError: when the body read so far exceeds the limit.
        """
        self._size += len(chunk)
        if self._size > MAX_RESPONSE_BYTES:
            raise body_too_large_error(self._request, self._status)
        self._chunks.append(chunk)

    def content(self) -> bytes:
        """Return the body read."""
        return b"".join(self._chunks)


def _error_fields(content: bytes) -> tuple[str | None, str, str | None]:
    try:
        body = json.loads(content) if content else {}
    except (ValueError, RecursionError):  # RecursionError: a hostile, deeply nested body
        return None, "", None
    if not isinstance(body, dict):
        return None, "", None
    code, message, request_id = body.get("code"), body.get("message"), body.get("id")
    return (
        _bounded(code, _MAX_ERROR_FIELD_CHARS) if code is not None else None,
        _bounded(message, MAX_ERROR_MESSAGE_CHARS) if message is not None else "",
        _bounded(request_id, _MAX_ERROR_FIELD_CHARS) if request_id is not None else None,
    )


def _bounded(value: Any, limit: int) -> str:
    """Return ``value`` as text of at most ``limit`` characters (nested values are not expanded)."""
    if isinstance(value, str):
        text = value
    elif isinstance(value, (bool, int, float)):
        text = str(value)
    else:
        text = type(value).__name__
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _default_message(status: int) -> str:
    try:
        return HTTPStatus(status).phrase.lower()
    except ValueError:
        return f"unexpected status {status}"
