"""Fixed-window rate limiting with LaunchDarkly's ``X-Ratelimit-*`` headers."""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class RateLimitConfig:
    """
    Limits per window; ``None`` disables a family.

    :param global_limit: requests per window across the account.
    :param route_limit: requests per window per method + route pattern.
    :param token_limit: requests per window per access token.
    :param window_seconds: window length.
    """

    global_limit: int | None = None
    route_limit: int | None = None
    token_limit: int | None = None
    window_seconds: float = 10.0

    def __post_init__(self) -> None:
        if self.window_seconds <= 0:
            raise ValueError("window_seconds must be positive")
        for name in ("global_limit", "route_limit", "token_limit"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, int) or value < 0):
                raise ValueError(f"{name} must be a non-negative integer or None")

    @property
    def enabled(self) -> bool:
        """Whether any family is configured."""
        return any(v is not None for v in (self.global_limit, self.route_limit, self.token_limit))


@dataclass(frozen=True)
class RateDecision:
    """
    Outcome of a rate-limit check.

    :param allowed: whether the request may proceed.
    :param headers: ``X-Ratelimit-*`` headers to send (empty when no family is configured).
    """

    allowed: bool
    headers: dict[str, str]


class RateLimiter:
    """
    Thread-safe fixed-window counters for the global, route and token families.

    :param lock: the emulator-wide lock.
    :param clock: returns the current time in seconds since the epoch.
    """

    def __init__(self, lock: threading.RLock, clock: Callable[[], float]) -> None:
        self._lock = lock
        self._clock = clock
        self._config = RateLimitConfig()
        self._window = -1
        self._counts: dict[tuple[str, str], int] = {}

    def configure(self, config: RateLimitConfig) -> None:
        """
        Replace the limits and reset all counters.

        :param config: new limits.
        """
        with self._lock:
            self._config = config
            self._counts.clear()

    def check(self, route_key: str | None, token_key: str) -> RateDecision:
        """
        Count a request against every configured family.

        A request over any limit is rejected and counted nowhere.

        :param route_key: ``"<METHOD> <pattern>"``, or ``None`` for an unknown route.
        :param token_key: identifies the access token.
        """
        with self._lock:
            config = self._config
            if not config.enabled:
                return RateDecision(True, {})
            window = math.floor(self._clock() / config.window_seconds)
            if window != self._window:
                self._window, self._counts = window, {}
            reset = str(round((window + 1) * config.window_seconds * 1000))
            families = self._families(config, route_key, token_key)
            used = {name: self._counts.get((name, key), 0) for name, (key, _) in families.items()}
            allowed = all(used[name] < limit for name, (_, limit) in families.items())
            if allowed:
                for name, (key, _) in families.items():
                    used[name] += 1
                    self._counts[(name, key)] = used[name]
            return RateDecision(allowed, self._headers(families, used, reset))

    @staticmethod
    def _families(
        config: RateLimitConfig, route_key: str | None, token_key: str
    ) -> dict[str, tuple[str, int]]:
        """Return ``{family: (counter key, limit)}`` for the families that apply."""
        families: dict[str, tuple[str, int]] = {}
        if config.global_limit is not None:
            families["global"] = ("*", config.global_limit)
        if config.route_limit is not None and route_key is not None:
            families["route"] = (route_key, config.route_limit)
        if config.token_limit is not None:
            families["token"] = (token_key, config.token_limit)
        return families

    @staticmethod
    def _headers(families: dict[str, tuple[str, int]], used: dict[str, int], reset: str) -> dict[str, str]:
        """Build the ``X-Ratelimit-*`` headers."""
        headers: dict[str, str] = {}
        if "global" in families:
            limit = families["global"][1]
            headers["X-Ratelimit-Global-Limit"] = str(limit)
            headers["X-Ratelimit-Global-Remaining"] = str(max(limit - used["global"], 0))
            headers["X-Ratelimit-Reset"] = reset
        if "route" in families:
            limit = families["route"][1]
            headers["X-Ratelimit-Route-Limit"] = str(limit)
            headers["X-Ratelimit-Route-Remaining"] = str(max(limit - used["route"], 0))
            headers["X-Ratelimit-Reset"] = reset
        if "token" in families:
            limit = families["token"][1]
            headers["X-Ratelimit-Auth-Token-Limit"] = str(limit)
            headers["X-Ratelimit-Auth-Token-Remaining"] = str(max(limit - used["token"], 0))
            headers["X-Ratelimit-Auth-Token-Reset"] = reset
        return headers
