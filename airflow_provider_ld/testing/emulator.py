"""
Local emulator of the LaunchDarkly REST API (Data Export destinations, delivery configurations).

Serves the 18 operations of the bundled OpenAPI subset over real HTTP, with fault injection and
rate limiting for reliability tests. Run it standalone with::

    LAUNCHDARKLY_EMULATOR_TOKEN=TOKEN python -m airflow_provider_ld.testing.emulator --port 8765

The administration routes (``/_emulator/...``) answer only requests that carry the admin token (the
access token unless another is given) in ``Authorization`` and name a loopback ``Host``, so a web page
in the user's browser cannot reach them (DNS rebinding). The emulator binds loopback interfaces only,
unless told otherwise explicitly (``allow_remote=True``, ``--allow-remote``).
"""

from __future__ import annotations

import argparse
import hashlib
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from typing import Any, Self

from airflow_provider_ld.testing import _admin, _warehouse
from airflow_provider_ld.testing._api import ApiState
from airflow_provider_ld.testing._delivery import DeliveryConfigStore
from airflow_provider_ld.testing._destinations import DestinationStore
from airflow_provider_ld.testing._errors import MAX_JSON_DEPTH, ApiError, is_strict_json
from airflow_provider_ld.testing._faults import Fault, FaultQueue
from airflow_provider_ld.testing._fidelity import ApiFidelity
from airflow_provider_ld.testing._handler import EmulatorHTTPServer, Runtime, is_loopback
from airflow_provider_ld.testing._ratelimit import RateLimitConfig, RateLimiter
from airflow_provider_ld.testing._recording import CallLog, RecordedCall
from airflow_provider_ld.testing._validation import (
    WAREHOUSE_COMPLETE_KINDS,
    validate_destination_config,
    validate_kind,
)

__all__ = ["ApiFidelity", "LaunchDarklyEmulator", "RecordedCall", "main"]

log = logging.getLogger(__name__)

_POLL_INTERVAL = 0.02
#: Environment variables the command line reads its tokens from (kept off the visible command line).
TOKEN_ENV = "LAUNCHDARKLY_EMULATOR_TOKEN"
ADMIN_TOKEN_ENV = "LAUNCHDARKLY_EMULATOR_ADMIN_TOKEN"


def sample_config(kind: str) -> dict[str, Any]:
    """
    Return a valid example ``config`` for a destination kind (used by :meth:`add_destination`).

    :param kind: destination kind.
    """
    samples: dict[str, dict[str, Any]] = {
        "google-pubsub": {"project": "example-project", "topic": "example-topic"},
        "kinesis": {
            "region": "us-east-1",
            "roleArn": "arn:aws:iam::123456789012:role/ld-data-export",
            "streamName": "ld-data-export",
        },
        "mparticle": {
            "apiKey": "example-api-key",
            "secret": "example-secret",
            "environment": "production",
            "userIdentity": "customer_id",
        },
        "segment": {"writeKey": "example-write-key"},
        "azure-event-hubs": {
            "namespace": "example-namespace",
            "name": "example-hub",
            "policyName": "example-policy",
            "policyKey": "example-policy-key",
        },
        "snowflake-v2": {
            "publicKey": _warehouse.generate_key_pair()[0],
            "snowflakeHostAddress": _warehouse.DEFAULT_SNOWFLAKE_HOST,
        },
    }
    return samples.get(kind, {})


class LaunchDarklyEmulator:
    """
    In-process LaunchDarkly REST API emulator served over HTTP from a daemon thread.

    Use it as a context manager, or call :meth:`start` and :meth:`stop`.

    :param token: the only access token accepted in the ``Authorization`` header.
    :param host: interface to bind.
    :param port: TCP port; ``0`` picks a free one (see :attr:`port`).
    :param setup_delay: seconds after ``complete-setup`` before the new destination becomes
        visible to GET, list, PATCH and DELETE.
    :param clock: returns the current time in seconds since the epoch; drives rate-limit windows,
        ``setup_delay`` and timestamps. Inject a fake clock for deterministic tests.
    :param fidelity: which production behaviours to reproduce (see :class:`ApiFidelity`); all by default.
    :param admin_token: the token ``/_emulator/...`` requests must send in ``Authorization``; defaults to
        ``token``.
    :param allow_remote: allow binding a non-loopback interface (anyone who can reach it can use the API
        with the token); refused by default.
    """

    def __init__(
        self,
        token: str = "test-token",
        host: str = "127.0.0.1",
        port: int = 0,
        setup_delay: float = 0.0,
        clock: Callable[[], float] = time.time,
        fidelity: ApiFidelity | None = None,
        admin_token: str | None = None,
        allow_remote: bool = False,
    ) -> None:
        if not (is_loopback(host) or allow_remote):
            raise ValueError(
                f"host: {host!r} is not a loopback interface; the emulator serves stored secrets and admin "
                "routes, so bind 127.0.0.1 (or pass allow_remote=True / --allow-remote deliberately)"
            )
        if not token or (admin_token is not None and not admin_token):
            raise ValueError("token: the emulator needs a non-empty access token (and admin token)")
        self._token = token
        self._admin_token = admin_token or token
        self.host = host
        self._requested_port = port
        self._clock = clock
        lock = threading.RLock()
        self._destinations = DestinationStore(lock, clock, setup_delay, fidelity)
        self._delivery = DeliveryConfigStore(lock, clock)
        self._faults = FaultQueue(lock)
        self._limiter = RateLimiter(lock, clock)
        self._calls = CallLog(lock)
        self._stopping = threading.Event()
        self._server: EmulatorHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._runtime = Runtime(
            token=token,
            admin_token=self._admin_token,
            clock=clock,
            state=ApiState(
                self._destinations, self._delivery, hashlib.sha256(token.encode()).hexdigest()[:24]
            ),
            faults=self._faults,
            limiter=self._limiter,
            calls=self._calls,
            stopping=self._stopping,
            admin=lambda method, path, body: _admin.handle_admin(self, method, path, body),
            is_admin_path=_admin.is_admin_path,
        )

    def __repr__(self) -> str:
        state = self.base_url if self.running else "stopped"
        return f"<LaunchDarklyEmulator {state}>"

    # ----------------------------------------------------------------- lifecycle

    def start(self) -> Self:
        """
        Bind, listen and serve in a daemon thread; returns once the socket is listening.

        :return: ``self``.
        :raises RuntimeError: when already running.
        """
        if self._server is not None:
            raise RuntimeError("The emulator is already running")
        self._stopping.clear()
        self._server = EmulatorHTTPServer((self.host, self._requested_port), self._runtime)
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": _POLL_INTERVAL},
            name="launchdarkly-emulator",
            daemon=True,
        )
        self._thread.start()
        log.debug("LaunchDarkly emulator listening on %s", self.base_url)
        return self

    def stop(self) -> None:
        """Stop serving, end open connections and close the listening socket (idempotent)."""
        server, thread = self._server, self._thread
        if server is None:
            return
        self._stopping.set()
        server.shutdown()
        server.close_connections()
        server.server_close()
        if thread is not None:
            thread.join(timeout=1.0)
        self._server = self._thread = None
        log.debug("LaunchDarkly emulator stopped")

    def __enter__(self) -> Self:
        """Start unless already running (so ``with emulator.start():`` works too)."""
        return self if self.running else self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def token(self) -> str:
        """The only access token the API accepts."""
        return self._token

    @property
    def admin_token(self) -> str:
        """The token ``/_emulator/...`` requests must send in ``Authorization``."""
        return self._admin_token

    @property
    def running(self) -> bool:
        """Whether the server is serving."""
        return self._server is not None

    @property
    def port(self) -> int:
        """The bound port (the requested one while stopped)."""
        if self._server is None:
            return self._requested_port
        return self._server.server_address[1]

    @property
    def base_url(self) -> str:
        """``http://<host>:<port>`` of the running server."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def setup_delay(self) -> float:
        """Seconds after ``complete-setup`` before a destination becomes visible."""
        return self._destinations.setup_delay

    @setup_delay.setter
    def setup_delay(self, value: float) -> None:
        self._destinations.setup_delay = value

    @property
    def fidelity(self) -> ApiFidelity:
        """The production behaviours reproduced; change its fields to switch one (e.g. in a test)."""
        return self._destinations.fidelity

    # ----------------------------------------------------------------- inspection

    @property
    def calls(self) -> list[RecordedCall]:
        """Copy of every recorded call (administration calls included), oldest first."""
        return self._calls.snapshot()

    def calls_to(self, method: str | None = None, path_prefix: str | None = None) -> list[RecordedCall]:
        """
        Return recorded API calls, excluding administration calls.

        :param method: only this HTTP method (case-insensitive).
        :param path_prefix: only paths starting with this prefix.
        """
        wanted = method.upper() if method else None
        return [
            call
            for call in self._calls.snapshot()
            if not call.admin
            and (wanted is None or call.method == wanted)
            and (path_prefix is None or call.path.startswith(path_prefix))
        ]

    @property
    def pending_faults(self) -> int:
        """Number of injected faults not yet fully consumed."""
        return self._faults.pending()

    @property
    def destinations(self) -> list[dict[str, Any]]:
        """Snapshot of the visible (completed) destinations, as the API answers them (secrets obfuscated)."""
        return self._destinations.list()

    @property
    def stored_destinations(self) -> list[dict[str, Any]]:
        """Snapshot of every stored destination with its secrets in clear: what the server holds."""
        return self._destinations.stored()

    # ----------------------------------------------------------------- control

    def inject_fault(
        self,
        method: str | None = None,
        path: str | None = None,
        *,
        status: int | None = None,
        body: Any = None,
        headers: dict[str, str] | None = None,
        delay: float = 0.0,
        drop: str = "none",
        times: int = 1,
        retry_after: float | None = None,
        reset_in_past: bool = False,
    ) -> None:
        """
        Make the next ``times`` matching API requests misbehave (faults are consumed in order).

        :param method: HTTP method to match; ``None`` matches any.
        :param path: exact path, or a prefix ending in ``*``; ``None`` matches any.
        :param status: answer this status with an error body, without acting.
        :param body: body for ``status`` (dict/list → JSON, str/bytes raw); default ``{code, message, id}``.
        :param headers: extra headers for ``status``.
        :param delay: seconds to wait before handling (interrupted by :meth:`stop`).
        :param drop: ``"before"`` closes the connection without acting or answering;
            ``"after"`` acts, then closes without answering; ``"none"`` answers.
        :param times: number of matching requests affected.
        :param retry_after: with ``status=429``, send ``Retry-After: <retry_after>``.
        :param reset_in_past: with ``status=429`` and no ``retry_after``, send an
            ``X-Ratelimit-Reset`` five seconds in the past.
        :raises ValueError: on invalid arguments.
        """
        self._faults.add(
            Fault(
                method,
                path,
                status,
                body,
                dict(headers or {}),
                delay,
                drop,
                times,
                retry_after,
                reset_in_past,
            )
        )

    def set_rate_limit(
        self,
        global_limit: int | None = None,
        route_limit: int | None = None,
        token_limit: int | None = None,
        window_seconds: float = 10.0,
    ) -> None:
        """
        Configure fixed-window rate limits (all ``None`` disables them); counters restart.

        :param global_limit: requests per window for the whole account.
        :param route_limit: requests per window per method and route pattern.
        :param token_limit: requests per window per access token.
        :param window_seconds: window length in seconds.
        :raises ValueError: on invalid arguments.
        """
        self._limiter.configure(RateLimitConfig(global_limit, route_limit, token_limit, window_seconds))

    def reset(self) -> None:
        """Clear destinations, pending setups, delivery configurations, calls, faults and limits."""
        self._destinations.reset()
        self._delivery.reset()
        self._calls.clear()
        self._faults.clear()
        self._limiter.configure(RateLimitConfig())

    def add_destination(
        self,
        project_key: str,
        environment_key: str,
        kind: str = "google-pubsub",
        name: str = "",
        config: dict[str, Any] | None = None,
        on: bool = False,
    ) -> dict[str, Any]:
        """
        Seed a visible destination directly (no HTTP call, not recorded).

        :param project_key: project key.
        :param environment_key: environment key.
        :param kind: destination kind (the spec enum, or a guided warehouse kind such as ``clickhouse``).
        :param name: destination name.
        :param config: kind-specific configuration; a valid example is used when omitted.
        :param on: whether the export is on.
        :return: the ``Destination`` representation.
        :raises ValueError: when ``kind`` or ``config`` would be rejected by the API (including NaN or
            Infinity, which are not JSON).
        """
        config = sample_config(kind) if config is None else config
        try:
            validate_kind(kind, extra_allowed=WAREHOUSE_COMPLETE_KINDS)
            validate_destination_config(kind, config)
        except ApiError as exc:
            raise ValueError(exc.message) from None
        if not is_strict_json(config):
            raise ValueError(
                f"config must be strict JSON: no NaN or Infinity, at most {MAX_JSON_DEPTH} levels deep"
            )
        return self._destinations.create(project_key, environment_key, name, kind, config, on)


# --------------------------------------------------------------------- command line


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    """
    Parse command-line arguments.

    :param argv: arguments without the program name; ``None`` uses ``sys.argv``.
    """
    parser = argparse.ArgumentParser(
        prog="python -m airflow_provider_ld.testing.emulator",
        description="Serve a local emulator of the LaunchDarkly REST API.",
    )
    parser.add_argument("--port", type=int, default=8765, help="TCP port (0 picks a free one)")
    parser.add_argument(
        "--token",
        default=os.environ.get(TOKEN_ENV),
        help=f"access token clients must send (default: ${TOKEN_ENV}; prefer it, a command line is visible to "
        "other users)",
    )
    parser.add_argument(
        "--admin-token",
        default=os.environ.get(ADMIN_TOKEN_ENV),
        help=f"token for the /_emulator admin routes (default: ${ADMIN_TOKEN_ENV}, else the access token)",
    )
    parser.add_argument("--host", default="127.0.0.1", help="interface to bind (default 127.0.0.1)")
    parser.add_argument(
        "--allow-remote",
        action="store_true",
        help="allow binding a non-loopback interface (refused otherwise)",
    )
    parser.add_argument(
        "--setup-delay", type=float, default=0.0, help="seconds before completed setups appear"
    )
    parser.add_argument("--log-level", default="WARNING", help="logging level (DEBUG logs each request line)")
    args = parser.parse_args(argv)
    if not args.token:
        parser.error(f"an access token is required: set ${TOKEN_ENV} (or pass --token)")
    if not (is_loopback(args.host) or args.allow_remote):
        parser.error(f"--host {args.host} is not a loopback interface; add --allow-remote to bind it anyway")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """
    Run the emulator until SIGINT or SIGTERM.

    :param argv: arguments without the program name; ``None`` uses ``sys.argv``.
    :return: process exit code.
    """
    args = _parse_args(argv)
    logging.basicConfig(
        level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    stop = threading.Event()

    def _request_stop(signum: int, frame: Any) -> None:
        stop.set()

    signal.signal(signal.SIGINT, _request_stop)
    signal.signal(signal.SIGTERM, _request_stop)
    emulator = LaunchDarklyEmulator(
        token=args.token,
        admin_token=args.admin_token,
        host=args.host,
        port=args.port,
        setup_delay=args.setup_delay,
        allow_remote=args.allow_remote,
    )
    try:
        emulator.start()
    except OSError as exc:
        print(f"Cannot listen on {args.host}:{args.port}: {exc}", file=sys.stderr)
        return 1
    print(f"LaunchDarkly API emulator listening on {emulator.base_url}", flush=True)
    try:
        while not stop.wait(0.2):
            pass
    finally:
        emulator.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
