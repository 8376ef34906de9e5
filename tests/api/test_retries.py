from __future__ import annotations

from datetime import UTC, datetime

import pytest

from airflow_provider_ld.api.retries import Attempt, RetryPolicy, TransportFailure

NOW = 1_800_000_000.0


def policy(**kwargs) -> RetryPolicy:
    """A policy with a frozen clock and jitter fixed at 0 (so waits are exact)."""
    values = {"jitter": lambda: 0.0, "clock": lambda: NOW} | kwargs
    return RetryPolicy(**values)


NOT_SENT = Attempt(failure=TransportFailure.NOT_SENT)
MAYBE_SENT = Attempt(failure=TransportFailure.MAYBE_SENT)


@pytest.mark.parametrize(
    ("attempt", "idempotent", "expected"),
    [
        (Attempt(status=429), False, True),
        (Attempt(status=429), True, True),
        (Attempt(status=502), True, True),
        (Attempt(status=503), True, True),
        (Attempt(status=504), True, True),
        (Attempt(status=502), False, False),
        (Attempt(status=503), False, False),
        (Attempt(status=504), False, False),
        (Attempt(status=500), True, False),
        (Attempt(status=400), True, False),
        (Attempt(status=401), True, False),
        (Attempt(status=403), True, False),
        (Attempt(status=404), True, False),
        (Attempt(status=409), True, False),
        (Attempt(status=422), True, False),
        (NOT_SENT, False, True),
        (NOT_SENT, True, True),
        (MAYBE_SENT, True, True),
        (MAYBE_SENT, False, False),
    ],
)
def test_should_retry_table(attempt, idempotent, expected):
    assert policy().should_retry(attempt, idempotent=idempotent) is expected


def test_retry_after_seconds_wins_over_reset_header():
    attempt = Attempt(
        status=429, headers={"Retry-After": "7", "X-Ratelimit-Reset": str(int((NOW + 60) * 1000))}
    )
    assert policy().wait_before(1, attempt) == (7.0, "Retry-After")


def test_retry_after_http_date():
    attempt = Attempt(status=429, headers={"retry-after": "Fri, 15 Jan 2027 08:00:10 GMT"})
    clock = datetime(2027, 1, 15, 8, 0, 0, tzinfo=UTC).timestamp()
    assert policy(clock=lambda: clock).wait_before(1, attempt) == (10.0, "Retry-After")


def test_reset_header_is_epoch_milliseconds_and_latest_reset_wins():
    headers = {
        "X-Ratelimit-Reset": str(int((NOW + 3) * 1000)),
        "X-Ratelimit-Auth-Token-Reset": str(int((NOW + 5.5) * 1000)),
    }
    wait, source = policy().wait_before(1, Attempt(status=429, headers=headers))
    assert source == "rate-limit reset"
    assert wait == pytest.approx(5.5)


def test_reset_in_the_past_falls_back_to_the_rate_limit_backoff():
    attempt = Attempt(status=429, headers={"X-Ratelimit-Reset": str(int((NOW - 5) * 1000))})
    assert policy(base_delay=0.5).wait_before(3, attempt) == (4.0, "rate-limit backoff")


def test_429_without_headers_backs_off_slower_than_a_server_error():
    assert policy().wait_before(1, Attempt(status=429)) == (1.0, "rate-limit backoff")
    assert policy().wait_before(1, Attempt(status=503)) == (0.25, "backoff")


def test_rate_limit_backoff_outlasts_a_ten_second_window_within_the_default_retries():
    p = policy()  # jitter 0: the shortest waits the policy can choose
    waits = [p.wait_before(n, Attempt(status=429))[0] for n in range(1, p.max_retries + 1)]
    assert sum(waits) > 2 * 10 and sum(waits) <= p.max_wait


@pytest.mark.parametrize(
    ("retry", "jitter", "expected"), [(1, 0.0, 0.25), (2, 0.0, 0.5), (3, 0.999, 1.999), (10, 0.0, 2.0)]
)
def test_backoff_doubles_with_jitter_and_cap(retry, jitter, expected):
    p = policy(base_delay=0.5, max_delay=4.0, jitter=lambda: jitter)
    wait, source = p.wait_before(retry, Attempt(status=503))
    assert source == "backoff"
    assert wait == pytest.approx(expected, abs=1e-3)


def test_jitter_is_added_to_server_requested_waits():
    attempt = Attempt(status=429, headers={"Retry-After": "2"})
    assert policy(jitter=lambda: 0.5, base_delay=1.0).wait_before(1, attempt)[0] == pytest.approx(2.5)


def test_decide_stops_after_max_retries():
    p = policy(max_retries=2)
    assert p.decide(2, Attempt(status=503), idempotent=True, waited=0).retry
    decision = p.decide(3, Attempt(status=503), idempotent=True, waited=0)
    assert not decision.retry
    assert "2 retries used" in decision.reason


def test_decide_stops_when_budget_would_be_exceeded():
    p = policy(max_wait=10.0)
    attempt = Attempt(status=429, headers={"Retry-After": "8"})
    assert p.decide(1, attempt, idempotent=False, waited=1.0).retry
    decision = p.decide(2, attempt, idempotent=False, waited=3.0)
    assert not decision.retry
    assert "10 s retry budget" in decision.reason


def test_decide_refuses_unsafe_retry():
    decision = policy().decide(1, MAYBE_SENT, idempotent=False, waited=0)
    assert (decision.retry, decision.reason) == (False, "not retryable")


def test_total_wait_is_bounded_by_budget_over_a_whole_storm():
    p = policy(max_retries=100, max_wait=20.0, base_delay=1.0, max_delay=8.0)
    waited, retry = 0.0, 1
    while (decision := p.decide(retry, Attempt(status=429), idempotent=False, waited=waited)).retry:
        waited += decision.wait
        retry += 1
    assert waited <= 20.0
    assert retry > 3


def test_a_malformed_reset_header_does_not_hide_the_other():
    headers = {"X-Ratelimit-Reset": "soon", "X-Ratelimit-Auth-Token-Reset": str(int((NOW + 4) * 1000))}
    assert policy().wait_before(1, Attempt(status=429, headers=headers)) == (4.0, "rate-limit reset")


@pytest.mark.parametrize(
    ("reset_in", "expected"),
    [
        (0.5, (0.5, "rate-limit reset")),  # a reset under a second away is still worth waiting for
        (0.0, (1.0, "rate-limit backoff")),  # a reset now would retry at once: back off instead
    ],
)
def test_a_reset_must_lie_ahead_to_be_waited_for(reset_in, expected):
    attempt = Attempt(status=429, headers={"X-Ratelimit-Reset": str(int((NOW + reset_in) * 1000))})
    assert policy().wait_before(1, attempt) == expected


def test_attempts_are_described_for_the_retry_log():
    assert Attempt(failure=TransportFailure.NOT_SENT).describe() == "connection failure (request not sent)"
    assert Attempt(failure=TransportFailure.MAYBE_SENT).describe() == "connection failure (no answer)"


def test_jitter_on_server_requested_waits_is_a_share_of_the_base_delay():
    """Up to one ``base_delay`` is added to a Retry-After or reset wait, never taken off it."""
    jittered = policy(jitter=lambda: 0.5, base_delay=0.5)
    assert jittered.wait_before(1, Attempt(status=429, headers={"Retry-After": "2"})) == (2.25, "Retry-After")
    reset = Attempt(status=429, headers={"X-Ratelimit-Reset": str(int((NOW + 4) * 1000))})
    wait, source = jittered.wait_before(1, reset)
    assert source == "rate-limit reset"
    assert wait == pytest.approx(4.25)


@pytest.mark.parametrize("retry_after", ["0", "-3", "Fri, 15 Jan 2027 07:59:00 GMT"])
def test_a_retry_after_now_or_in_the_past_means_retry_at_once(retry_after):
    clock = datetime(2027, 1, 15, 8, 0, 0, tzinfo=UTC).timestamp()
    attempt = Attempt(status=429, headers={"Retry-After": retry_after})
    assert policy(clock=lambda: clock).wait_before(1, attempt) == (0.0, "Retry-After")


def test_a_wait_that_uses_the_budget_exactly_is_still_made():
    budget = policy(max_wait=10.0)
    decision = budget.decide(
        1, Attempt(status=429, headers={"Retry-After": "10"}), idempotent=False, waited=0.0
    )
    assert (decision.retry, decision.wait, decision.reason) == (True, 10.0, "Retry-After")
    over = budget.decide(1, Attempt(status=429, headers={"Retry-After": "10"}), idempotent=False, waited=0.5)
    assert over.retry is False
