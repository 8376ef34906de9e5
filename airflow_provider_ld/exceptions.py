"""Errors raised by the LaunchDarkly provider, one class per meaning."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, ClassVar

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

    #: Whether the trouble may clear up by itself: a sensor or trigger then waits and checks again, where
    #: any other error ends the wait at once. Each class states its own nature; nothing outside decides it.
    transient: ClassVar[bool] = False

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
        # The HTTP status the API answered, or None; AirflowException declares an HTTPStatus for its own use.
        self.status_code: int | None = status_code  # type: ignore[assignment]
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

    def __reduce__(self) -> tuple[Any, ...]:
        # Keep the keyword-only attributes when the error crosses a process boundary (pickling).
        return _rebuild_error, (type(self), self.message, dict(self.__dict__))

    def details(self) -> dict[str, Any]:
        """Return the keyword arguments that rebuild this error, as plain JSON values (no secrets: see the message)."""
        return {
            "message": self.message,
            "method": self.method,
            "path": self.path,
            "status_code": self.status_code,
            "code": self.code,
            "request_id": self.request_id,
        }

    def to_event_payload(self) -> dict[str, Any]:
        """
        Return this error as the plain values of a trigger event, for :meth:`from_event_payload` to rebuild.

        :return: ``{"error_type", "status_code", "error": {message, method, path, status_code, code,
            request_id, ...}}``; the message and path never hold a secret, so neither does the payload.
        """
        return {"error_type": type(self).__name__, "status_code": self.status_code, "error": self.details()}

    @classmethod
    def from_event_payload(cls, payload: Mapping[str, Any]) -> LaunchDarklyError:
        """
        Rebuild the error a trigger event reports: the class it names, with its code, request id, method and path.

        An event without ``error`` (written by an earlier release) rebuilds from its ``message`` and
        ``status_code``; an unknown ``error_type`` (a bug in the trigger) gives a :class:`LaunchDarklyError`.

        :param payload: the event payload (``to_event_payload()`` merged into it).
        """
        error_class = _ERROR_CLASSES.get(str(payload.get("error_type")), LaunchDarklyError)
        details = payload.get("error")
        if not isinstance(details, Mapping):
            details = {
                "message": str(payload.get("message") or ""),
                "status_code": payload.get("status_code"),
            }
        kwargs = {key: value for key, value in details.items() if key in error_class.detail_names()}
        return error_class(**kwargs)

    @classmethod
    def detail_names(cls) -> frozenset[str]:
        """The names :meth:`details` returns and ``__init__`` accepts."""
        return _DETAIL_NAMES


_DETAIL_NAMES = frozenset({"message", "method", "path", "status_code", "code", "request_id"})


def _rebuild_error(cls: type[LaunchDarklyError], message: str, state: dict[str, Any]) -> LaunchDarklyError:
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
        **kwargs: Any,
    ) -> None:
        self.field = field
        self.allowed = tuple(allowed) if allowed is not None else None
        super().__init__(message, **kwargs)

    def details(self) -> dict[str, Any]:
        """Return the keyword arguments that rebuild this error, with the field and allowed values."""
        allowed = list(self.allowed) if self.allowed is not None else None
        return {**super().details(), "field": self.field, "allowed": allowed}

    @classmethod
    def detail_names(cls) -> frozenset[str]:
        """The names :meth:`details` returns and ``__init__`` accepts."""
        return _DETAIL_NAMES | {"field", "allowed"}


class LaunchDarklyAuthError(LaunchDarklyError, AirflowFailException):
    """The token was refused (401) or lacks permission, including a missing beta header (403)."""


class LaunchDarklyNotFoundError(LaunchDarklyError):
    """The project, environment, destination or pending setup does not exist (404)."""


class LaunchDarklyConflictError(LaunchDarklyError):
    """A concurrent edit or a failed patch ``test`` operation (409, 422)."""


class LaunchDarklyRateLimitError(LaunchDarklyError):
    """The API kept answering 429 until the retry budget ran out (transient: a wait checks again)."""

    transient = True


class LaunchDarklyServerError(LaunchDarklyError):
    """The API failed (5xx) and retries did not help, or the call was not safe to retry (transient)."""

    transient = True


class LaunchDarklyConnectionError(LaunchDarklyError):
    """The API could not be reached, or the connection broke before an answer arrived (transient)."""

    transient = True


#: Every error class by name: what a trigger event's ``error_type`` can name.
_ERROR_CLASSES: dict[str, type[LaunchDarklyError]] = {
    cls.__name__: cls
    for cls in (
        LaunchDarklyError,
        LaunchDarklyValidationError,
        LaunchDarklyAuthError,
        LaunchDarklyNotFoundError,
        LaunchDarklyConflictError,
        LaunchDarklyRateLimitError,
        LaunchDarklyServerError,
        LaunchDarklyConnectionError,
    )
}
#: The error classes that are transient, derived from their ``transient`` attribute (for ``except`` clauses).
TRANSIENT_ERRORS: tuple[type[LaunchDarklyError], ...] = tuple(
    cls for cls in _ERROR_CLASSES.values() if cls.transient
)


__all__ = [
    "TRANSIENT_ERRORS",
    "LaunchDarklyAuthError",
    "LaunchDarklyConflictError",
    "LaunchDarklyConnectionError",
    "LaunchDarklyError",
    "LaunchDarklyNotFoundError",
    "LaunchDarklyRateLimitError",
    "LaunchDarklyServerError",
    "LaunchDarklyValidationError",
]
