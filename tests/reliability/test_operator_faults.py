"""
Operators as Airflow task attempts, while the emulator injects faults over real HTTP.

Each case runs one task attempt with the faults injected; when it fails, a second attempt (a fresh
operator instance, as Airflow builds for a retry) runs without faults; then a re-run checks that the
outcome is stable. Every case asserts the requests each attempt sent, the waits (on the fake clock shared
with the emulator, jitter 0), the outcome or the error, and the emulator's final state: exactly one
destination with the requested config and ``on`` state, and nothing else touched.

Connection: default budget of 5 retries and 120 s of waiting per request; backoff waits are therefore
0.25, 0.5, 1, 2, 4 s. Cases with ``timeout=TIMEOUT`` use a 0.25 s client timeout against a 0.6 s server delay.
"""

from __future__ import annotations

import copy
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import pytest

from airflow_provider_ld.exceptions import (
    LaunchDarklyConnectionError,
    LaunchDarklyError,
    LaunchDarklyRateLimitError,
    LaunchDarklyServerError,
    LaunchDarklyValidationError,
)
from airflow_provider_ld.operators.destinations import (
    LaunchDarklyCompleteWarehouseSetupOperator,
    LaunchDarklyCreateDestinationOperator,
    LaunchDarklyDeleteDestinationOperator,
    LaunchDarklyToggleDestinationOperator,
    LaunchDarklyUpdateDestinationOperator,
    LaunchDarklyWarehouseSetupOperator,
)
from tests.reliability.conftest import KEYS, connection_json, make_context, wait_for_calls

OLD = {"project": "gcp-proj", "topic": "ld-events"}
NEW = {"project": "gcp-proj", "topic": "ld-events-v2"}
LIST = "/api/v2/destinations"
CREATE = "/api/v2/destinations/proj/prod"
BY_ID = "/api/v2/destinations/proj/prod/*"
BACKOFF = [0.25, 0.5, 1.0, 2.0, 4.0]
#: After a 429 that names no usable wait (no headers, or a reset already past): slower, to leave the window.
RATE_LIMIT_BACKOFF = [
    1.0,
    2.0,
    4.0,
    8.0,
    15.0,
]  # the last step is capped at max_delay (30 s), halved by jitter 0
TIMEOUT = 0.25  # client timeout (connect and read) of the "slow" cases
SLOW = 0.6  # server-side delay of a "slow" answer: well past TIMEOUT, even on a loaded machine


@dataclass(frozen=True)
class Case:
    """
    One operator under one set of faults.

    :param requests: what the faulted attempt sent, per method.
    :param waits: the waits between its retries.
    :param error: the error class of the faulted attempt, or ``None`` when it succeeds.
    :param message: text the error must contain.
    :param action: the XCom ``action`` of the attempt that succeeds (first or retried).
    :param retry_requests: what the retried attempt sent, per method (only when the first failed).
    :param applied_by_failed_attempt: the server acted although the attempt failed (answer lost).
    """

    id: str
    operator: str
    faults: tuple[dict[str, Any], ...]
    requests: dict[str, int]
    waits: list[float]
    action: str
    error: type[LaunchDarklyError] | None = None
    message: str = ""
    retry_requests: dict[str, int] = field(default_factory=dict)
    applied_by_failed_attempt: bool = False
    timeout: float | None = None


def fault(method: str, path: str, **kwargs: Any) -> dict[str, Any]:
    return {"method": method, "path": path, **kwargs}


CASES = [
    # create: list (GET), POST, list again (GET: settles a race with another creator, and finds the
    # destination a POST whose answer was lost created); a POST is never repeated after the server may
    # have acted
    Case(
        "create/503-burst-on-list",
        "create",
        (fault("GET", LIST, status=503, times=2),),
        {"GET": 4, "POST": 1},
        BACKOFF[:2],
        "created",
    ),
    Case(
        "create/502-on-post",
        "create",
        (fault("POST", CREATE, status=502),),
        {"GET": 1, "POST": 1},
        [],
        "created",
        LaunchDarklyServerError,
        "POST /api/v2/destinations/proj/prod -> 502",
        {"GET": 2, "POST": 1},
    ),
    Case(
        "create/dropped-before-acting",
        "create",
        (fault("POST", CREATE, drop="before"),),
        {"GET": 2, "POST": 1},
        [],
        "created",
        LaunchDarklyConnectionError,
        "may have been applied",
        {"GET": 2, "POST": 1},
    ),
    Case(
        "create/dropped-after-acting",
        "create",
        (fault("POST", CREATE, drop="after"),),
        {"GET": 2, "POST": 1},
        [],
        "created",
    ),
    Case(
        "create/post-slower-than-timeout",
        "create",
        (fault("POST", CREATE, delay=SLOW),),
        {"GET": 2, "POST": 1},
        [],
        "adopted",
        LaunchDarklyConnectionError,
        "(ReadTimeout); the request may have",
        {"GET": 1},
        applied_by_failed_attempt=True,
        timeout=TIMEOUT,
    ),
    Case(
        "create/list-slower-than-timeout",
        "create",
        (fault("GET", LIST, delay=SLOW),),
        {"GET": 2, "POST": 1},
        BACKOFF[:1],
        "created",
        timeout=TIMEOUT,
    ),
    Case(
        "create/429-storm-retry-after",
        "create",
        (fault("POST", CREATE, status=429, retry_after=7, times=3),),
        {"GET": 2, "POST": 4},
        [7.0, 7.0, 7.0],
        "created",
    ),
    Case(
        "create/429-reset-in-past",
        "create",
        (fault("GET", LIST, status=429, reset_in_past=True, times=2),),
        {"GET": 4, "POST": 1},
        RATE_LIMIT_BACKOFF[:2],
        "created",
    ),
    Case(
        "create/429-without-headers",
        "create",
        (fault("POST", CREATE, status=429, times=2),),
        {"GET": 2, "POST": 3},
        RATE_LIMIT_BACKOFF[:2],
        "created",
    ),
    Case(
        "create/429-outlasting-the-budget",
        "create",
        (fault("POST", CREATE, status=429, retry_after=1, times=6),),
        {"GET": 1, "POST": 6},
        [1.0] * 5,
        "created",
        LaunchDarklyRateLimitError,
        "gave up after 5 retries: 5 retries used",
        {"GET": 2, "POST": 1},
    ),
    Case(
        "create/503-outlasting-the-budget",
        "create",
        (fault("GET", LIST, status=503, times=6),),
        {"GET": 6},
        BACKOFF,
        "created",
        LaunchDarklyServerError,
        "gave up after 5 retries",
        {"GET": 2, "POST": 1},
    ),
    # update by name: list, then one PATCH guarded by a /version test (so it may be retried)
    Case(
        "update/503-burst-on-patch",
        "update",
        (fault("PATCH", BY_ID, status=503, times=2),),
        {"GET": 1, "PATCH": 3},
        BACKOFF[:2],
        "updated",
    ),
    Case(
        "update/500-on-patch-not-retried",
        "update",
        (fault("PATCH", BY_ID, status=500),),
        {"GET": 1, "PATCH": 1},
        [],
        "updated",
        LaunchDarklyServerError,
        "-> 500",
        {"GET": 1, "PATCH": 1},
    ),
    Case(
        "update/dropped-before-acting",
        "update",
        (fault("PATCH", BY_ID, drop="before"),),
        {"GET": 1, "PATCH": 2},
        BACKOFF[:1],
        "updated",
    ),
    Case(
        "update/patch-slower-than-timeout",
        "update",
        (fault("PATCH", BY_ID, delay=SLOW),),
        {"GET": 1, "PATCH": 2},
        BACKOFF[:1],
        "updated",
        timeout=TIMEOUT,
    ),
    Case(
        "update/429-storm-on-list",
        "update",
        (fault("GET", LIST, status=429, retry_after=2, times=2),),
        {"GET": 3, "PATCH": 1},
        [2.0, 2.0],
        "updated",
    ),
    # toggle by id: GET, then one guarded PATCH
    Case(
        "toggle/503-burst-on-get",
        "toggle",
        (fault("GET", BY_ID, status=503, times=2),),
        {"GET": 3, "PATCH": 1},
        BACKOFF[:2],
        "turned on",
    ),
    Case(
        "toggle/504-outlasting-the-budget",
        "toggle",
        (fault("GET", BY_ID, status=504, times=6),),
        {"GET": 6},
        BACKOFF,
        "turned on",
        LaunchDarklyServerError,
        "gave up after 5 retries",
        {"GET": 1, "PATCH": 1},
    ),
    Case(
        "toggle/429-without-headers-on-patch",
        "toggle",
        (fault("PATCH", BY_ID, status=429, times=2),),
        {"GET": 1, "PATCH": 3},
        RATE_LIMIT_BACKOFF[:2],
        "turned on",
    ),
    Case(
        "toggle/get-slower-than-timeout",
        "toggle",
        (fault("GET", BY_ID, delay=SLOW),),
        {"GET": 2, "PATCH": 1},
        BACKOFF[:1],
        "turned on",
        timeout=TIMEOUT,
    ),
    # delete by id: GET, then DELETE (idempotent: retried; a 404 on the retry means it is gone)
    Case(
        "delete/503-burst-on-delete",
        "delete",
        (fault("DELETE", BY_ID, status=503, times=2),),
        {"GET": 1, "DELETE": 3},
        BACKOFF[:2],
        "deleted",
    ),
    Case(
        "delete/dropped-before-acting",
        "delete",
        (fault("DELETE", BY_ID, drop="before"),),
        {"GET": 1, "DELETE": 2},
        BACKOFF[:1],
        "deleted",
    ),
    Case(
        "delete/dropped-after-acting",
        "delete",
        (fault("DELETE", BY_ID, drop="after"),),
        {"GET": 1, "DELETE": 2},
        BACKOFF[:1],
        "deleted",
    ),
    Case(
        "delete/delete-slower-than-timeout",
        "delete",
        (fault("DELETE", BY_ID, delay=SLOW),),
        {"GET": 1, "DELETE": 2},
        BACKOFF[:1],
        "deleted",
        timeout=TIMEOUT,
    ),
    Case(
        "delete/429-storm-on-get",
        "delete",
        (fault("GET", BY_ID, status=429, retry_after=3, times=2),),
        {"GET": 3, "DELETE": 1},
        [3.0, 3.0],
        "deleted",
    ),
]


def build(operator: str, target_id: str, **overrides: Any):
    """A fresh operator instance, as Airflow builds one for every task attempt."""
    if operator == "create":
        values = {"kind": "google-pubsub", "name": "events", "config": NEW, "on": True}
        return LaunchDarklyCreateDestinationOperator(task_id="create", **KEYS, **values | overrides)
    if operator == "update":
        values = {"name": "events", "kind": "google-pubsub", "config": NEW}
        return LaunchDarklyUpdateDestinationOperator(task_id="update", **KEYS, **values | overrides)
    if operator == "toggle":
        return LaunchDarklyToggleDestinationOperator(
            task_id="toggle", destination_id=target_id, on=True, **KEYS
        )
    return LaunchDarklyDeleteDestinationOperator(
        task_id="delete", destination_id=target_id, **KEYS, **overrides
    )


def seed(emulator, operator: str) -> tuple[str, list[dict[str, Any]]]:
    """Seed bystanders (same name in another environment, another one here) and the target unless creating."""
    bystanders = [
        emulator.add_destination("proj", "staging", kind="google-pubsub", name="events", config=OLD),
        emulator.add_destination("proj", "prod", kind="google-pubsub", name="other", config=OLD, on=True),
    ]
    if operator == "create":
        return "", bystanders
    return emulator.add_destination("proj", "prod", kind="google-pubsub", name="events", config=OLD)[
        "_id"
    ], bystanders


def targets(emulator) -> list[dict[str, Any]]:
    return [
        d
        for d in emulator.destinations
        if d["name"] == "events" and d["_links"]["self"]["href"].startswith("/api/v2/destinations/proj/prod/")
    ]


def assert_end_state(emulator, operator: str, target_id: str, bystanders: list[dict[str, Any]]) -> None:
    """Exactly one destination in the requested state (or none after a delete); bystanders untouched."""
    found = targets(emulator)
    if operator == "delete":
        assert found == []
    else:
        assert len(found) == 1, f"expected exactly one destination, got {len(found)}"
        (destination,) = found
        expected = {
            "create": (NEW, True, 1),
            "update": (NEW, False, 2),
            "toggle": (OLD, True, 2),
        }[operator]
        assert (destination["config"], destination["on"], destination["version"]) == expected
        if operator != "create":
            assert destination["_id"] == target_id
    others = [d for d in emulator.destinations if d not in found]
    assert others == bystanders, "nothing else was created, changed or deleted"


def methods(calls) -> dict[str, int]:
    return dict(Counter(call.method for call in calls))


def run_attempt(op, emulator, expected_calls: int | None = None):
    """Run one task attempt; return (result or error, the API calls it sent)."""
    before = len(emulator.calls_to())
    try:
        outcome = op.execute(make_context())
    except LaunchDarklyError as err:
        outcome = err
    if expected_calls is not None:
        wait_for_calls(emulator, before + expected_calls)  # a request given up on may still be in flight
    return outcome, emulator.calls_to()[before:]


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_task_attempts_converge_under_faults(case, clocked_emulator, clocked_hooks, monkeypatch):
    emulator, clock = clocked_emulator, clocked_hooks
    if case.timeout is not None:
        monkeypatch.setenv(
            "AIRFLOW_CONN_LAUNCHDARKLY_DEFAULT", connection_json(emulator.base_url, timeout=case.timeout)
        )
    target_id, bystanders = seed(emulator, case.operator)
    snapshot = copy.deepcopy(bystanders)
    for spec in case.faults:
        emulator.inject_fault(**spec)

    # Attempt 1, with the faults.
    outcome, calls = run_attempt(build(case.operator, target_id), emulator, sum(case.requests.values()))
    assert methods(calls) == case.requests
    assert clock.take_sleeps() == case.waits
    assert sum(case.waits) <= 120, "within the connection's retry budget"
    assert emulator.pending_faults == 0
    if case.error is None:
        assert isinstance(outcome, dict), f"attempt failed: {outcome!r}"
        assert outcome["action"] == case.action
    else:
        assert type(outcome) is case.error, repr(outcome)
        assert case.message in str(outcome)
        # the error names the request that failed (which may still be in flight at the server)
        assert any(str(outcome).startswith(f"{method} /api/v2/") for method in case.requests)
        applied = (
            (targets(emulator) == [])
            if case.operator == "delete"
            else (
                len(targets(emulator)) == 1
                and targets(emulator)[0]["version"] == (1 if case.operator == "create" else 2)
            )
        )
        assert applied is case.applied_by_failed_attempt
        # Attempt 2: Airflow retries the task with a fresh operator instance; no faults this time.
        outcome, calls = run_attempt(build(case.operator, target_id), emulator)
        assert methods(calls) == case.retry_requests
        assert outcome["action"] == case.action
    assert_end_state(emulator, case.operator, target_id, snapshot)

    # A later re-run (or another retry) changes nothing: it adopts or finds nothing to do.
    outcome, calls = run_attempt(build(case.operator, target_id), emulator)
    assert {call.method for call in calls} == {"GET"}, "a re-run only reads"
    assert outcome["action"] == {"create": "adopted", "delete": "absent"}.get(case.operator, "unchanged")
    assert_end_state(emulator, case.operator, target_id, snapshot)


def test_a_racing_retry_is_resolved_by_the_version_test(clocked_emulator, clocked_hooks, monkeypatch):
    """
    A PATCH the client gave up on (timeout) is applied by the server *after* the retry.

    The retry carries the same ``/version`` test, so whichever arrives second gets 409 and is not applied:
    the change lands once (version 1 -> 2), never twice, whatever the order.
    """
    emulator = clocked_emulator
    monkeypatch.setenv(
        "AIRFLOW_CONN_LAUNCHDARKLY_DEFAULT", connection_json(emulator.base_url, timeout=TIMEOUT)
    )
    target_id, _ = seed(emulator, "update")
    emulator.inject_fault("PATCH", BY_ID, delay=SLOW)
    outcome, calls = run_attempt(build("update", target_id), emulator, 3)
    assert outcome["action"] == "updated" and outcome["version"] == 2
    patches = [call for call in calls if call.method == "PATCH"]
    assert [call.status for call in patches] == [200, 409], (
        "the retry lands first; the late original is refused"
    )
    assert patches[0].json() == patches[1].json(), "the retry repeats the same guarded patch"
    assert targets(emulator)[0]["version"] == 2


def test_a_retry_racing_a_timed_out_create_duplicates(clocked_emulator, clocked_hooks, monkeypatch):
    """
    The window that remains: a create that lands after every racer looked again.

    Here the server is still working on the POST the first attempt gave up on (timeout) when the retried
    attempt lists, creates and looks again: it sees only its own, and the original lands after that. Two
    destinations, which the next run reports instead of guessing. Airflow's ``retry_delay`` (30 s in the examples) is what keeps a
    retry behind the original in practice; the API offers no idempotency key to close the gap.
    """
    emulator = clocked_emulator
    monkeypatch.setenv(
        "AIRFLOW_CONN_LAUNCHDARKLY_DEFAULT", connection_json(emulator.base_url, timeout=TIMEOUT)
    )
    emulator.inject_fault("POST", CREATE, delay=1.5)
    first, _ = run_attempt(build("create", ""), emulator)
    assert isinstance(first, LaunchDarklyConnectionError)
    retried, _calls = run_attempt(build("create", ""), emulator)  # no retry_delay: the original is in flight
    assert retried["action"] == "created"
    wait_for_calls(emulator, 6)  # each attempt: list, POST, list again; the delayed POST is recorded last
    assert len(targets(emulator)) == 2
    third, _ = run_attempt(build("create", ""), emulator)
    assert isinstance(third, LaunchDarklyValidationError)
    assert "2 google-pubsub destinations are already named 'events'" in str(third)
    assert len(emulator.calls_to("POST")) == 2, "the next run creates nothing"


@pytest.mark.parametrize("operator", ["update", "toggle"])
def test_lost_answer_to_a_guarded_patch_is_applied_once_and_succeeds_in_the_same_attempt(
    operator, clocked_emulator, clocked_hooks
):
    """
    The server applied the PATCH, the answer was lost, the in-call retry repeats the same guarded PATCH.

    Its ``/version`` test fails (409), so the change is applied exactly once (version 1 -> 2). The hook
    then reads the destination again, sees it already in the requested state, and the attempt succeeds:
    GET, two PATCHes (one applied), one wait of 0.25 s, one more GET; nothing else touched.
    """
    emulator, clock = clocked_emulator, clocked_hooks
    target_id, bystanders = seed(emulator, operator)
    snapshot = copy.deepcopy(bystanders)
    emulator.inject_fault("PATCH", BY_ID, drop="after")
    outcome, calls = run_attempt(build(operator, target_id), emulator)
    assert [(c.method, c.status) for c in calls] == [
        ("GET", 200),
        ("PATCH", None),
        ("PATCH", 409),
        ("GET", 200),
    ]
    assert clock.take_sleeps() == BACKOFF[:1]
    assert isinstance(outcome, dict), repr(outcome)
    assert outcome["action"] in ("updated", "turned on") and outcome["version"] == 2
    assert_end_state(emulator, operator, target_id, snapshot)


def test_lost_answer_to_delete_with_missing_ok_false_succeeds(clocked_emulator, clocked_hooks):
    """
    ``missing_ok=False`` and the answer to the DELETE is lost: the retried DELETE gets 404.

    The destination existed when the task started and is gone now, so the task succeeds ("deleted"); it
    is deleted exactly once and nothing else is touched.
    """
    emulator = clocked_emulator
    target_id, bystanders = seed(emulator, "delete")
    snapshot = copy.deepcopy(bystanders)
    emulator.inject_fault("DELETE", BY_ID, drop="after")
    outcome, calls = run_attempt(build("delete", target_id, missing_ok=False), emulator)
    assert [(call.method, call.status) for call in calls] == [("GET", 200), ("DELETE", None), ("DELETE", 404)]
    assert isinstance(outcome, dict) and outcome["action"] == "deleted", repr(outcome)
    assert_end_state(emulator, "delete", target_id, snapshot)


def test_lost_answer_to_complete_setup_is_adopted_by_the_retry(clocked_emulator, clocked_hooks):
    """The guided warehouse flow: the answer to complete-setup is lost; the retried task adopts the result."""
    emulator = clocked_emulator
    setup = LaunchDarklyWarehouseSetupOperator(
        task_id="setup", kind="redshift", setup={"name": "warehouse", "clusterIdentifier": "c1"}, **KEYS
    ).execute(make_context())
    assert setup["action"] == "setup started"
    complete = "/api/v2/destinations/projects/proj/environments/prod/kinds/redshift/complete-setup"
    emulator.inject_fault("POST", complete, drop="after")

    def attempt():
        return LaunchDarklyCompleteWarehouseSetupOperator(
            task_id="complete", kind="redshift", name="warehouse", **KEYS
        )

    outcome, calls = run_attempt(attempt(), emulator)
    assert isinstance(outcome, LaunchDarklyConnectionError) and "may have been applied" in str(outcome)
    assert [call.method for call in calls] == ["POST"], "complete-setup is not repeated"
    outcome, calls = run_attempt(attempt(), emulator)
    assert outcome["action"] == "adopted"
    assert [(call.method, call.status) for call in calls] == [("POST", 404), ("GET", 200)]
    assert [(d["kind"], d["name"]) for d in emulator.destinations] == [("redshift", "warehouse")]
