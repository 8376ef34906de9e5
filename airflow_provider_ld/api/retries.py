"""When to retry a request and how long to wait, as pure functions of what the last attempt produced."""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from enum import Enum

from airflow_provider_ld.defaults import DEFAULT_MAX_RETRIES, DEFAULT_MAX_RETRY_WAIT

#: Statuses that mean "the service is briefly unavailable"; safe to retry only for idempotent calls.
RETRYABLE_SERVER_STATUSES = frozenset({502, 503, 504})
RATE_LIMITED = 429
#: Headers carrying the absolute end of a rate-limit window, in epoch milliseconds.
RESET_HEADERS = ("x-ratelimit-reset", "x-ratelimit-auth-token-reset")


class TransportFailure(str, Enum):
    """How an attempt failed before an HTTP answer arrived."""

    #: The request never reached the server (connection refused, DNS, connect timeout).
    NOT_SENT = "not_sent"
    #: The request may have reached the server (read timeout, connection dropped mid-answer).
    MAYBE_SENT = "maybe_sent"


@dataclass(frozen=True)
class Attempt:
    """
    What one attempt produced: an HTTP status with headers, or a transport failure.

    :param status: the HTTP status, when an answer arrived.
    :param headers: the answer's headers (any case).
    :param failure: the transport failure, when no answer arrived.
    """

    status: int | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    failure: TransportFailure | None = None

    def header(self, name: str) -> str | None:
        """Return a header's value, matching the name case-insensitively."""
        wanted = name.lower()
        return next((value for key, value in self.headers.items() if key.lower() == wanted), None)

    def describe(self) -> str:
        """Short text for logs: the status or the kind of transport failure."""
        if self.failure is TransportFailure.NOT_SENT:
            return "connection failure (request not sent)"
        if self.failure is TransportFailure.MAYBE_SENT:
            return "connection failure (no answer)"
        return f"HTTP {self.status}"


@dataclass(frozen=True)
class RetryDecision:
    """Retry after ``wait`` seconds (``retry=True``), or stop; ``reason`` says why, for the log."""

    retry: bool
    wait: float = 0.0
    reason: str = ""


@dataclass(frozen=True)
class RetryPolicy:
    """
    The retry rules shared by the sync and async clients.

    429 answers are always retried (the server did not act), waiting for ``Retry-After``, else until the
    latest rate-limit reset header, else with exponential backoff starting at ``rate_limit_delay`` (rate-limit
    windows last seconds, so a fast backoff would spend every retry inside one window). 502/503/504 and connection failures are
    retried only for idempotent calls, except that a request that provably never reached the server is
    always retried. Every wait and their total are bounded.

    :param max_retries: retries allowed after the first attempt.
    :param max_wait: total seconds that may be spent waiting between the attempts of one request.
    :param base_delay: first backoff step in seconds; doubles each retry.
    :param max_delay: cap of one backoff step in seconds.
    :param rate_limit_delay: first backoff step after a 429 that says nothing usable about when to retry.
    :param jitter: returns a float in [0, 1); injectable for deterministic tests.
    :param clock: returns the current epoch time in seconds; injectable for tests.
    """

    max_retries: int = DEFAULT_MAX_RETRIES
    max_wait: float = DEFAULT_MAX_RETRY_WAIT
    base_delay: float = 0.5
    max_delay: float = 30.0
    rate_limit_delay: float = 2.0
    jitter: Callable[[], float] = field(default=random.random, repr=False)
    clock: Callable[[], float] = field(default=time.time, repr=False)

    def should_retry(self, attempt: Attempt, *, idempotent: bool) -> bool:
        """Return whether the outcome of an attempt may be retried at all."""
        if attempt.failure is TransportFailure.NOT_SENT:
            return True
        if attempt.failure is TransportFailure.MAYBE_SENT:
            return idempotent
        if attempt.status == RATE_LIMITED:
            return True
        return idempotent and attempt.status in RETRYABLE_SERVER_STATUSES

    def wait_before(self, retry_number: int, attempt: Attempt) -> tuple[float, str]:
        """
        Return how long to wait before retry number ``retry_number`` (1-based) and what decided it.

        :param retry_number: 1 for the first retry.
        :param attempt: the attempt that failed.
        """
        if attempt.status == RATE_LIMITED:
            retry_after = self._retry_after(attempt)
            if retry_after is not None:
                return retry_after + self.jitter() * self.base_delay, "Retry-After"
            reset_wait = self._reset_wait(attempt)
            if reset_wait is not None:
                return reset_wait + self.jitter() * self.base_delay, "rate-limit reset"
            return self._backoff(self.rate_limit_delay, retry_number), "rate-limit backoff"
        return self._backoff(self.base_delay, retry_number), "backoff"

    def _backoff(self, first_step: float, retry_number: int) -> float:
        """Exponential backoff from ``first_step``, capped at ``max_delay``, with up to 50% jitter off."""
        step = min(self.max_delay, first_step * 2.0 ** (retry_number - 1))
        return step * (0.5 + self.jitter() / 2)

    def decide(
        self, retry_number: int, attempt: Attempt, *, idempotent: bool, waited: float
    ) -> RetryDecision:
        """
        Decide whether to make retry number ``retry_number`` after ``attempt`` failed.

        :param retry_number: 1 for the first retry.
        :param attempt: the attempt that failed.
        :param idempotent: whether repeating the call cannot act twice.
        :param waited: seconds already spent waiting for this request.
        """
        if not self.should_retry(attempt, idempotent=idempotent):
            return RetryDecision(False, reason="not retryable")
        if retry_number > self.max_retries:
            return RetryDecision(False, reason=f"{self.max_retries} retries used")
        wait, source = self.wait_before(retry_number, attempt)
        if waited + wait > self.max_wait:
            return RetryDecision(
                False,
                wait,
                f"waiting {wait:.1f} s ({source}) would exceed the {self.max_wait:g} s retry budget",
            )
        return RetryDecision(True, wait, source)

    def _retry_after(self, attempt: Attempt) -> float | None:
        raw = attempt.header("retry-after")
        if raw is None:
            return None
        try:
            return max(0.0, float(raw))
        except ValueError:
            pass
        try:
            return max(0.0, parsedate_to_datetime(raw).timestamp() - self.clock())
        except (TypeError, ValueError):
            return None

    def _reset_wait(self, attempt: Attempt) -> float | None:
        resets = []
        for name in RESET_HEADERS:
            raw = attempt.header(name)
            try:
                resets.append(float(raw) / 1000.0) if raw is not None else None
            except ValueError:
                continue
        if not resets:
            return None
        wait = max(resets) - self.clock()
        # A reset already in the past (clock skew) says nothing useful: fall back to backoff.
        return wait if wait > 0 else None
