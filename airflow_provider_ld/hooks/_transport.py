"""
The sync hook's ``requests`` transport: no cookies, and an overall deadline on each attempt.

``requests`` bounds each socket read, not the whole exchange, so a server that trickles a byte every
half second would hold a worker forever. Here a watchdog timer shuts the socket of the attempt's
connection down when the attempt's deadline passes, which ends any blocked connect, send or read at once.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from typing import Any, Self

import requests
from requests.adapters import HTTPAdapter
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from airflow_provider_ld.hooks._cookies import RefuseCookies

_current = threading.local()


class AttemptWatchdog:
    """
    Shut down the socket of the connection an attempt uses once the attempt's deadline passes.

    :param seconds: the deadline, in seconds from :meth:`__enter__`.
    """

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.expired = False
        self._connection: Any = None
        self._lock = threading.Lock()
        self._done = False
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True

    def watch(self, connection: Any) -> None:
        """Remember the connection this attempt sends on."""
        with self._lock:
            self._connection = connection

    def expire_now(self) -> None:
        """End the attempt now (its socket is shut down), e.g. because the task is being killed."""
        self._expire()

    def _expire(self) -> None:
        with self._lock:
            if self._done:
                return
            self.expired = True
            sock = getattr(self._connection, "sock", None)
            if sock is not None:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)

    def __enter__(self) -> Self:
        _current.watchdog = self
        self._timer.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        with self._lock:
            self._done = True
        self._timer.cancel()
        _current.watchdog = None


class _WatchedPool:
    """Tell the current thread's watchdog which connection the attempt got from the pool."""

    def _get_conn(self, timeout: float | None = None) -> Any:
        connection = super()._get_conn(timeout)  # type: ignore[misc]
        watchdog = getattr(_current, "watchdog", None)
        if watchdog is not None:
            watchdog.watch(connection)
        return connection


class _WatchedHTTPPool(_WatchedPool, HTTPConnectionPool):
    pass


class _WatchedHTTPSPool(_WatchedPool, HTTPSConnectionPool):
    pass


class WatchedAdapter(HTTPAdapter):
    """An ``HTTPAdapter`` whose connections an :class:`AttemptWatchdog` can cut."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _WatchedHTTPPool, "https": _WatchedHTTPSPool}


def new_session(headers: dict[str, str]) -> requests.Session:
    """
    Return a session with watched connections, no cookies, no proxies from the environment.

    :param headers: default headers (agent, accept).
    """
    session = requests.Session()
    session.headers.update(headers)
    session.trust_env = False
    session.cookies = requests.cookies.RequestsCookieJar(policy=RefuseCookies())
    adapter = WatchedAdapter()
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session


__all__ = ["AttemptWatchdog", "new_session"]
