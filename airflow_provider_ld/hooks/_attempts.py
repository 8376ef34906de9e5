"""
One attempt of the sync hook: read its answer within the size cap, and tell whether a failure reached the server.

``requests`` and ``urllib3`` are imported when an attempt fails or is read, not when the hook module is.
"""

from __future__ import annotations

from typing import Any

from airflow_provider_ld.api.calls import READ_CHUNK_BYTES, ApiRequest, CappedBody
from airflow_provider_ld.api.retries import TransportFailure


def classify_failure(error: Exception) -> TransportFailure:
    """Tell whether a failed attempt may have reached the server (a ``requests`` error, or the deadline's cut)."""
    import requests

    if isinstance(error, requests.RequestException):
        return classify_transport_error(error)
    return TransportFailure.MAYBE_SENT  # the attempt's deadline, or a socket error while reading


def classify_transport_error(error: Exception) -> TransportFailure:
    """
    Tell whether a ``requests`` error happened before the request could reach the server.

    Connection refused, name resolution and connect timeouts mean it never did; anything later (read
    timeout, connection dropped) means the server may have acted.
    """
    import requests
    from urllib3.exceptions import NameResolutionError, NewConnectionError

    if isinstance(error, requests.ConnectTimeout):
        return TransportFailure.NOT_SENT
    reason = getattr(error.args[0], "reason", None) if error.args else None
    if isinstance(reason, (NewConnectionError, NameResolutionError)):
        return TransportFailure.NOT_SENT
    return TransportFailure.MAYBE_SENT


def read_capped(request: ApiRequest, response: Any) -> bytes:
    """
    Read a streamed ``requests`` answer's body within :data:`MAX_RESPONSE_BYTES` (see :class:`CappedBody`).

    :param request: the call, for the error.
    :param response: a ``requests.Response`` opened with ``stream=True``.
    """
    body = CappedBody(request, response.status_code, response.headers)
    for chunk in response.iter_content(chunk_size=READ_CHUNK_BYTES):
        body.add(chunk)
    return body.content()


__all__ = ["classify_failure", "classify_transport_error", "read_capped"]
