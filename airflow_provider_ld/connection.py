"""Reading and checking a ``launchdarkly`` Airflow connection, without any I/O."""

from __future__ import annotations

import ipaddress
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from airflow_provider_ld.defaults import (  # noqa: F401  (re-exported: the connection's documented defaults)
    DEFAULT_API_VERSION,
    DEFAULT_BASE_URL,
    DEFAULT_MAX_RETRIES,
    DEFAULT_MAX_RETRY_WAIT,
    DEFAULT_TIMEOUT,
    EU_BASE_URL,
    FEDERAL_BASE_URL,
)
from airflow_provider_ld.exceptions import LaunchDarklyValidationError

#: Appended to host errors: a host value can carry credentials, so it is never repeated.
_NOT_SHOWN = " (the value is not shown: it may hold credentials)"
#: What an HTTP header value may hold: visible ASCII and spaces (no CR, LF or other control characters).
_HEADER_SAFE = re.compile(r"[\x20-\x7e]*")
#: A DNS name (underscores allowed, as in container names) or IPv4 address, or an IPv6 address (urlsplit lowercases the host and drops the brackets).
_HOST_NAME = re.compile(r"[a-z0-9_](?:[a-z0-9_.-]*[a-z0-9_])?|[0-9a-f:.]*:[0-9a-f:.]*")


@dataclass(frozen=True)
class ConnectionSettings:
    """
    Everything a client needs to call the LaunchDarkly API, checked once.

    :param base_url: scheme and host (and port), no trailing slash, e.g. ``https://app.launchdarkly.com``.
    :param token: the API access token, sent raw in the ``Authorization`` header.
    :param api_version: value of the ``LD-API-Version`` header for non-beta calls.
    :param timeout: seconds to wait for the connection and for each read.
    :param max_retries: how many times one request may be retried.
    :param max_retry_wait: upper bound on the seconds spent waiting between retries of one request.
    """

    base_url: str
    token: str = field(repr=False)
    api_version: str = DEFAULT_API_VERSION
    timeout: float = DEFAULT_TIMEOUT
    max_retries: int = DEFAULT_MAX_RETRIES
    max_retry_wait: float = DEFAULT_MAX_RETRY_WAIT

    def __post_init__(self) -> None:
        object.__setattr__(self, "base_url", normalise_base_url(self.base_url))
        if not isinstance(self.token, str) or not self.token.strip():
            raise LaunchDarklyValidationError(
                "token: the connection has no API access token; put it in the connection's password",
                field="password",
            )
        _check_header_safe(
            "token", "password", "the connection's password (the API access token)", self.token
        )
        if not isinstance(self.api_version, str) or not self.api_version.strip():
            raise LaunchDarklyValidationError(
                "api_version: must be a dated version like '20240415' or 'beta'", field="api_version"
            )
        _check_header_safe("api_version", "api_version", "the api_version extra", self.api_version)
        _check_number("timeout", self.timeout, minimum=0, exclusive=True)
        _check_number("max_retry_wait", self.max_retry_wait, minimum=0)
        if (
            isinstance(self.max_retries, bool)
            or not isinstance(self.max_retries, int)
            or self.max_retries < 0
        ):
            raise LaunchDarklyValidationError(
                f"max_retries: must be an integer >= 0, got {self.max_retries!r}", field="max_retries"
            )

    @property
    def host(self) -> str:
        """Host name of the base URL, for links and logs."""
        return urlsplit(self.base_url).hostname or ""


def normalise_base_url(value: Any) -> str:
    """
    Turn a connection host into a base URL, refusing anything that would leak the token.

    A host without a scheme gets ``https://``. ``http://`` is only accepted for loopback hosts
    (a local emulator), so the token never travels in clear text.

    :param value: the connection's host, e.g. ``app.eu.launchdarkly.com`` or ``http://127.0.0.1:8765``.
    :return: ``scheme://host[:port]`` without a trailing slash.
    """
    if value is None or (isinstance(value, str) and not value.strip()):
        return DEFAULT_BASE_URL
    if not isinstance(value, str):
        raise LaunchDarklyValidationError(
            f"host: must be a URL string, got {type(value).__name__}", field="host"
        )
    text = value.strip()
    if "://" not in text:
        text = f"https://{text}"
    text = text.rstrip("/")
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        raise LaunchDarklyValidationError(
            f"host: malformed base URL (bad port); expected e.g. {DEFAULT_BASE_URL}{_NOT_SHOWN}", field="host"
        ) from None
    hostname = parts.hostname or ""
    if parts.scheme not in ("https", "http") or not _HOST_NAME.fullmatch(hostname):
        raise LaunchDarklyValidationError(
            f"host: malformed base URL; expected e.g. {DEFAULT_BASE_URL}{_NOT_SHOWN}", field="host"
        )
    if parts.username or parts.password:
        raise LaunchDarklyValidationError(
            "host: base URL must not carry credentials; put the token in the connection's password",
            field="host",
        )
    if parts.query or parts.fragment or parts.path not in ("", "/api/v2"):
        raise LaunchDarklyValidationError(
            f"host: base URL must be scheme and host only (like {DEFAULT_BASE_URL}), without a path, query "
            f"or fragment{_NOT_SHOWN}",
            field="host",
        )
    netloc = hostname if port is None else f"{hostname}:{port}"
    if ":" in hostname:
        netloc = f"[{hostname}]" if port is None else f"[{hostname}]:{port}"
    if parts.scheme == "http" and not is_loopback(hostname):
        raise LaunchDarklyValidationError(
            f"host: plain http:// is only allowed for loopback hosts, so the API token never travels "
            f"unencrypted; use https://{netloc}",
            field="host",
        )
    return f"{parts.scheme}://{netloc}"


def is_loopback(hostname: str) -> bool:
    """Return whether ``hostname`` names this machine (``localhost`` or a loopback address)."""
    if hostname.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(hostname).is_loopback
    except ValueError:
        return False


def settings_from_connection(conn: Any, **overrides: Any) -> ConnectionSettings:
    """
    Build :class:`ConnectionSettings` from an Airflow connection.

    :param conn: an Airflow ``Connection`` (password = token, host = base URL, extras for the rest).
    :param overrides: non-``None`` values replace the connection's (``timeout``, ``max_retries``, ...).
    """
    extra = conn.extra_dejson or {}
    host = conn.host
    if host and conn.port and "://" not in host:
        host = f"{host}:{conn.port}"
    elif host and conn.port and urlsplit(host).port is None:
        host = f"{host.rstrip('/')}:{conn.port}"
    values: dict[str, Any] = {
        "base_url": host,
        "token": conn.password or extra.get("token") or "",
        "api_version": extra.get("api_version") or DEFAULT_API_VERSION,
        "timeout": _extra_number(extra, "timeout", DEFAULT_TIMEOUT, float),
        "max_retries": _extra_number(extra, "max_retries", DEFAULT_MAX_RETRIES, int),
        "max_retry_wait": _extra_number(extra, "max_retry_wait", DEFAULT_MAX_RETRY_WAIT, float),
    }
    values.update({key: value for key, value in overrides.items() if value is not None})
    return ConnectionSettings(**values)


def _extra_number(extra: Mapping[str, Any], name: str, default: float, kind: type[int | float]) -> float:
    raw = extra.get(name)
    if raw is None or raw == "":
        return default
    if isinstance(raw, bool):
        raise LaunchDarklyValidationError(f"{name}: must be a number, got {raw!r}", field=name)
    try:
        number = float(raw)
    except (TypeError, ValueError):
        raise LaunchDarklyValidationError(f"{name}: must be a number, got {raw!r}", field=name) from None
    if kind is int:
        if not number.is_integer():
            raise LaunchDarklyValidationError(f"{name}: must be a whole number, got {raw!r}", field=name)
        return int(number)
    return number


def _check_number(name: str, value: Any, *, minimum: float, exclusive: bool = False) -> None:
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    ok = ok and (value > minimum if exclusive else value >= minimum)
    if not ok:
        bound = f"> {minimum}" if exclusive else f">= {minimum}"
        raise LaunchDarklyValidationError(
            f"{name}: must be a finite number {bound}, got {value!r}", field=name
        )


def _check_header_safe(name: str, field: str, what: str, value: str) -> None:
    """
    Refuse a header value with CR/LF, other control characters or non-ASCII characters, without echoing it.

    Such a value can never be sent (or would split the header), so it fails when the connection is read,
    not as a connection failure that is retried.
    """
    if _HEADER_SAFE.fullmatch(value):
        return
    if "\r" in value or "\n" in value:
        problem = "a line break (CR or LF)"
    elif value.isascii():
        problem = "a control character"
    else:
        problem = "a non-ASCII character"
    raise LaunchDarklyValidationError(
        f"{name}: {what} contains {problem}, which an HTTP header cannot carry; enter it again "
        "(the value is not shown)",
        field=field,
    )
