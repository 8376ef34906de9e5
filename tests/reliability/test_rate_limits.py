"""
Rate limits enforced by the emulator (fixed 10 s windows on the fake clock) against the retry policy.

Correctness only (throughput belongs to ``benchmarks/``): every family's headers are honoured exactly,
and a bulk run of concurrent workers with separate hooks sharing one account, one route and one token
completes with zero failures, no duplicate, and only header-driven waits within the default budget.
"""

from __future__ import annotations

from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest

from airflow_provider_ld.hooks import launchdarkly as hooks_module
from airflow_provider_ld.operators.destinations import (
    LaunchDarklyCreateDestinationOperator,
    LaunchDarklyToggleDestinationOperator,
)
from tests.reliability.conftest import FAKE_EPOCH, KEYS, connection_json, make_context

PUBSUB = {"project": "gcp-proj", "topic": "ld-events"}


@pytest.mark.parametrize(
    ("limits", "reset_header"),
    [
        ({"global_limit": 2}, "x-ratelimit-reset"),
        ({"route_limit": 2}, "x-ratelimit-reset"),
        ({"token_limit": 2}, "x-ratelimit-auth-token-reset"),
    ],
    ids=["global", "route", "token"],
)
def test_each_family_is_waited_out_until_its_reset(limits, reset_header, clocked_emulator, clocked_hooks):
    """Two list calls use up the window; the third waits exactly until the reset the headers name."""
    emulator, clock = clocked_emulator, clocked_hooks
    emulator.set_rate_limit(**limits, window_seconds=10.0)
    with hooks_module.LaunchDarklyHook() as hook:
        for _ in range(3):
            hook.list_destinations()
    calls = emulator.calls_to()
    assert [call.status for call in calls] == [200, 200, 429, 200]
    limited = calls[2]
    assert int(limited.response_headers[reset_header]) == (FAKE_EPOCH + 10) * 1000
    assert "retry-after" not in limited.response_headers
    assert clock.sleeps == [10.0]
    assert [(d.what, d.reason, d.wait) for d in clock.decisions] == [(429, "rate-limit reset", 10.0)]


def test_route_limit_counts_per_route(clocked_emulator, clocked_hooks):
    emulator, clock = clocked_emulator, clocked_hooks
    emulator.set_rate_limit(route_limit=1, window_seconds=10.0)
    with hooks_module.LaunchDarklyHook() as hook:
        hook.list_destinations()
        hook.get_caller_identity()  # another route: its own budget
        hook.list_destinations()
    assert [(call.path, call.status) for call in emulator.calls_to()] == [
        ("/api/v2/destinations", 200),
        ("/api/v2/caller-identity", 200),
        ("/api/v2/destinations", 429),
        ("/api/v2/destinations", 200),
    ]
    assert clock.sleeps == [10.0]


def test_the_latest_of_several_resets_is_honoured(clocked_emulator, clocked_hooks):
    """A 429 naming a global reset in 3 s and a token reset in 8 s is waited out for 8 s, not 3."""
    emulator, clock = clocked_emulator, clocked_hooks
    now_ms = int(FAKE_EPOCH * 1000)
    emulator.inject_fault(
        "GET",
        "/api/v2/destinations",
        status=429,
        headers={"X-Ratelimit-Reset": str(now_ms + 3000), "X-Ratelimit-Auth-Token-Reset": str(now_ms + 8000)},
    )
    with hooks_module.LaunchDarklyHook() as hook:
        hook.list_destinations()
    assert clock.sleeps == [8.0]


def test_retry_after_wins_over_reset_headers(clocked_emulator, clocked_hooks):
    emulator, clock = clocked_emulator, clocked_hooks
    emulator.inject_fault(
        "GET",
        "/api/v2/destinations",
        status=429,
        retry_after=2,
        headers={"X-Ratelimit-Reset": str(int(FAKE_EPOCH * 1000) + 9000)},
    )
    with hooks_module.LaunchDarklyHook() as hook:
        hook.list_destinations()
    assert clock.sleeps == [2.0]


def test_bulk_run_of_concurrent_workers_completes_under_shared_limits(
    clocked_emulator, clocked_hooks, monkeypatch
):
    """
    6 workers (separate hooks, one token) create and turn on 4 destinations each: 96 requests against
    8 per window for the account, 4 per route and 6 for the token.

    Zero failures and exactly 24 destinations (a rate-limited POST was never applied, so retrying it
    cannot duplicate); every 429 carried reset headers and was waited out until that reset, or, when
    the shared clock had already passed it, retried after a short backoff.

    More workers than a window admits means a request can lose several windows in a row: across runs
    one request met up to 4 consecutive 429s, so the default budget of 5 retries is not a guarantee
    here and the connection gets 10 (an Airflow pool no larger than the route limit avoids this).
    """
    emulator, clock = clocked_emulator, clocked_hooks
    monkeypatch.setenv(
        "AIRFLOW_CONN_LAUNCHDARKLY_DEFAULT", connection_json(emulator.base_url, timeout=5, max_retries=10)
    )
    emulator.set_rate_limit(global_limit=8, route_limit=4, token_limit=6, window_seconds=10.0)
    workers, per_worker = 6, 4

    def work(worker: int) -> list[tuple[str, str]]:
        actions = []
        for item in range(per_worker):
            name = f"events-{worker}-{item}"
            created = LaunchDarklyCreateDestinationOperator(
                task_id="create", kind="google-pubsub", name=name, config=PUBSUB, **KEYS
            ).execute(make_context())
            toggled = LaunchDarklyToggleDestinationOperator(
                task_id="turn_on", name=name, kind="google-pubsub", on=True, **KEYS
            ).execute(make_context())
            actions.append((created["action"], toggled["action"]))
        return actions

    with ThreadPoolExecutor(max_workers=workers) as pool:
        results = list(pool.map(work, range(workers)))  # any failure re-raises here

    assert results == [[("created", "turned on")] * per_worker] * workers
    names = sorted(d["name"] for d in emulator.destinations)
    assert names == sorted(f"events-{w}-{i}" for w in range(workers) for i in range(per_worker))
    assert all(d["on"] and d["version"] == 2 for d in emulator.destinations)

    statuses = Counter((call.method, call.status) for call in emulator.calls_to())
    total = workers * per_worker
    assert statuses[("POST", 201)] == total and statuses[("PATCH", 200)] == total
    assert statuses[("GET", 200)] == 3 * total  # create: list, list again after the POST; toggle: list
    limited = [call for call in emulator.calls_to() if call.status == 429]
    assert limited, "the limits were reached"
    assert set(statuses) <= {
        ("GET", 200),
        ("POST", 201),
        ("PATCH", 200),
        ("GET", 429),
        ("POST", 429),
        ("PATCH", 429),
    }
    assert all("x-ratelimit-reset" in call.response_headers for call in limited)
    assert len(clock.decisions) == len(limited), "one wait per 429, no other retry"
    for decision in clock.decisions:
        assert decision.reset is not None
        if decision.reset > decision.now:  # wait exactly until the reset the answer named
            assert (decision.reason, decision.wait) == (
                "rate-limit reset",
                pytest.approx(decision.reset - decision.now),
            )
        else:  # other workers' waits already moved the shared clock past it: back off, then try again
            assert decision.reason == "rate-limit backoff" and decision.wait <= 16.0
    assert any(decision.reason == "rate-limit reset" for decision in clock.decisions)
    assert max_consecutive_retries(emulator) <= 10


def max_consecutive_retries(emulator) -> int:
    """The longest run of 429s a single request (same method, path and body) met before it got through."""
    longest, runs = 0, Counter()
    for call in emulator.calls_to():
        key = (call.method, call.path, call.body)
        if call.status == 429:
            runs[key] += 1
            longest = max(longest, runs[key])
        else:
            runs[key] = 0
    return longest


def test_dag_test_ignores_pools(airflow_db, dagbag, emulator, ld_connection):
    """
    ``dag.test()`` runs tasks in-process and ignores pools, even one that does not exist.

    So the ``launchdarkly`` pool the README recommends changes nothing for ``dag.test()`` (and the
    example DAG tests), while the scheduler enforces it.
    """
    emulator.add_destination(
        "demo-project", "production", kind="segment", name="segment-events", config={"writeKey": "w"}, on=True
    )
    dag = dagbag.get_dag("example_launchdarkly_scheduled_toggle")
    for task in dag.tasks:
        task.pool = "launchdarkly"  # not created anywhere
    run = dag.test(run_conf={"window_minutes": 0})
    assert run.state == "success"
    assert len(emulator.calls_to("PATCH")) == 2
    from airflow.models.pool import Pool
    from airflow.models.taskinstance import TaskInstance
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        pools = set(session.scalars(select(TaskInstance.pool).where(TaskInstance.run_id == run.run_id)))
        assert pools == {"launchdarkly"}, "the task instances were in the pool"
        assert session.scalars(select(Pool).where(Pool.pool == "launchdarkly")).first() is None
