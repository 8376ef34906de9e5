"""Errors raised by the LaunchDarkly provider, one class per meaning."""

from __future__ import annotations

from collections.abc import Iterable

from airflow_provider_ld._compat import AirflowException, AirflowFailException


class LaunchDarklyError(AirflowException):
    """
    Base class of every error this provider raises.

    :param message: what went wrong, without secrets.
    :param method: HTTP method of the failed call, when there was one.
    :param path: API path of the failed call (never includes the host or credentials).
    :param status_code: HTTP status the API answered, when it answered.
    :param code: the API's machine-readable error ``code`` (e.g. ``optimistic_locking_error``).
    :param request_id: the API's request id (``id`` in the error body), for LaunchDarkly support.
    """

    def __init__(
        self,
        message: str,
        *,
        method: str | None = None,
        path: str | None = None,
        status_code: int | None = None,
        code: str | None = None,
        request_id: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.method = method
        self.path = path
        self.status_code = status_code
        self.code = code
        self.request_id = request_id

    def __str__(self) -> str:
        parts: list[str] = []
        if self.method and self.path:
            parts.append(f"{self.method} {self.path}")
            if self.status_code is not None:
                parts.append(f"-> {self.status_code}")
        text = " ".join(parts)
        detail = f"{self.code}: {self.message}" if self.code else self.message
        text = f"{text} {detail}" if text else detail
        if self.request_id:
            text += f" (request {self.request_id})"
        return text

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self)!r})"

    def __reduce__(self):
        # Keep the keyword-only attributes when the error crosses a process boundary (pickling).
        return _rebuild_error, (type(self), self.message, dict(self.__dict__))


def _rebuild_error(cls: type[LaunchDarklyError], message: str, state: dict) -> LaunchDarklyError:
    error = Exception.__new__(cls)
    Exception.__init__(error, message)
    error.__dict__.update(state)
    return error


class LaunchDarklyValidationError(LaunchDarklyError, AirflowFailException, ValueError):
    """
    Input was rejected: locally before any request was sent, or by the API with a 400.

    Retrying the task cannot fix it, so Airflow fails the task without retries.

    :param field: the offending argument or config field, e.g. ``config.writeKey``.
    :param allowed: the allowed values or fields, when there is a fixed set.
    """

    def __init__(
        self,
        message: str,
        *,
        field: str | None = None,
        allowed: Iterable[str] | None = None,
        **kwargs,
    ) -> None:
        self.field = field
        self.allowed = tuple(allowed) if allowed is not None else None
        super().__init__(message, **kwargs)


class LaunchDarklyAuthError(LaunchDarklyError, AirflowFailException):
    """The token was refused (401) or lacks permission, including a missing beta header (403)."""


class LaunchDarklyNotFoundError(LaunchDarklyError):
    """The project, environment, destination or pending setup does not exist (404)."""


class LaunchDarklyConflictError(LaunchDarklyError):
    """A concurrent edit or a failed patch ``test`` operation (409, 422)."""


class LaunchDarklyRateLimitError(LaunchDarklyError):
    """The API kept answering 429 until the retry budget ran out."""


class LaunchDarklyServerError(LaunchDarklyError):
    """The API failed (5xx) and retries did not help, or the call was not safe to retry."""


class LaunchDarklyConnectionError(LaunchDarklyError):
    """The API could not be reached, or the connection broke before an answer arrived."""


__all__ = [
    "LaunchDarklyAuthError",
    "LaunchDarklyConflictError",
    "LaunchDarklyConnectionError",
    "LaunchDarklyError",
    "LaunchDarklyNotFoundError",
    "LaunchDarklyRateLimitError",
    "LaunchDarklyServerError",
    "LaunchDarklyValidationError",
]
