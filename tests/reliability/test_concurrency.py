"""
Many mapped-task-like workers (threads, each with its own operator and hook) in one environment at once.

What is guaranteed: workers on different destinations never interfere; version-guarded PATCHes turn a
conflicting edit into ``LaunchDarklyConflictError`` (409) instead of overwriting it (a 409 after which the
destination already has the requested state is success, not an error); a retried attempt
re-reads and converges; the version history has no gaps and no double applications.

Creates of one name that race (every racer lists before any POSTs) each create a copy, because the API has
no uniqueness key; every racer then looks again, agrees on the same winner and drops its own copy, so one
destination is left (``test_concurrent_creates_of_one_name_converge_on_one_destination``).
"""

from __future__ import annotations

import random
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from airflow_provider_ld.exceptions import (
    LaunchDarklyConflictError,
    LaunchDarklyError,
    LaunchDarklyValidationError,
)
from airflow_provider_ld.hooks import launchdarkly as hooks_module
from airflow_provider_ld.operators.destinations import (
    LaunchDarklyCreateDestinationOperator,
    LaunchDarklyToggleDestinationOperator,
    LaunchDarklyUpdateDestinationOperator,
)
from tests.reliability.conftest import KEYS, make_context

WORKERS = 8
PUBSUB = {"project": "gcp-proj", "topic": "ld-events"}


def run_workers(count: int, work) -> list[Any]:
    """Run ``work(index)`` in ``count`` threads at once; return each result or the error it raised."""

    def guarded(index: int) -> Any:
        try:
            return work(index)
        except LaunchDarklyError as err:
            return err

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(guarded, range(count)))


def pause_after(op, method: str, barrier: threading.Barrier) -> None:
    """
    Make ``op``'s hook wait at ``barrier`` right after ``method`` returns (or before, for writes).

    This forces the worst interleaving: every worker has read before any worker writes.
    """
    hook = op.hook  # built now, exactly as execute() would build it
    real = getattr(hook, method)

    def paused(*args, **kwargs):
        if method in ("update_destination", "create_destination"):
            barrier.wait(timeout=10)
            return real(*args, **kwargs)
        result = real(*args, **kwargs)
        barrier.wait(timeout=10)
        return result

    setattr(hook, method, paused)


def test_workers_on_distinct_destinations_do_not_interfere(clocked_emulator, clocked_hooks):
    emulator = clocked_emulator

    def work(index: int) -> tuple[str, str]:
        created = LaunchDarklyCreateDestinationOperator(
            task_id="create",
            kind="google-pubsub",
            name=f"events-{index}",
            config={**PUBSUB, "topic": f"topic-{index}"},
            **KEYS,
        ).execute(make_context())
        toggled = LaunchDarklyToggleDestinationOperator(
            task_id="turn_on", name=f"events-{index}", kind="google-pubsub", on=True, **KEYS
        ).execute(make_context())
        return created["action"], toggled["action"]

    assert run_workers(WORKERS, work) == [("created", "turned on")] * WORKERS
    state = {d["name"]: (d["config"]["topic"], d["on"], d["version"]) for d in emulator.destinations}
    assert state == {f"events-{i}": (f"topic-{i}", True, 2) for i in range(WORKERS)}
    statuses = Counter((call.method, call.status) for call in emulator.calls_to())
    # create: list, POST, list again (to settle a race); toggle: list, PATCH
    assert statuses == {("GET", 200): 3 * WORKERS, ("POST", 201): WORKERS, ("PATCH", 200): WORKERS}
    assert len({id(hook) for hook in clocked_hooks.hooks}) == 2 * WORKERS, "one hook per operator instance"


def test_conflicting_updates_are_detected_never_silently_overwritten(clocked_emulator, clocked_hooks):
    emulator = clocked_emulator
    target = emulator.add_destination("proj", "prod", kind="google-pubsub", name="events", config=PUBSUB)
    barrier = threading.Barrier(WORKERS)

    def attempt(index: int):
        return LaunchDarklyUpdateDestinationOperator(
            task_id="update",
            name="events",
            kind="google-pubsub",
            config={**PUBSUB, "topic": f"topic-{index}"},
            **KEYS,
        )

    def work(index: int) -> dict[str, Any]:
        op = attempt(index)
        pause_after(op, "update_destination", barrier)  # all have read version 1 before anyone patches
        return op.execute(make_context())

    results = run_workers(WORKERS, work)
    winners = [i for i, result in enumerate(results) if isinstance(result, dict)]
    losers = [i for i in range(WORKERS) if i not in winners]
    assert len(winners) == 1 and results[winners[0]]["action"] == "updated"
    for index in losers:
        error = results[index]
        assert isinstance(error, LaunchDarklyConflictError)
        assert (error.status_code, error.code) == (409, "optimistic_locking_error")
        assert str(error).startswith(f"PATCH /api/v2/destinations/proj/prod/{target['_id']} -> 409")
    (destination,) = emulator.destinations
    assert (destination["config"]["topic"], destination["version"]) == (f"topic-{winners[0]}", 2)
    patches = emulator.calls_to("PATCH")
    assert sorted(call.status for call in patches) == [200] + [409] * (WORKERS - 1), (
        "not retried: 409 is final"
    )
    assert all(call.json()[0] == {"op": "test", "path": "/version", "value": 1} for call in patches)

    # Airflow retries each failed task: the fresh attempt re-reads and applies its change on top, once.
    for index in losers:
        assert attempt(index).execute(make_context())["action"] == "updated"
        (destination,) = emulator.destinations
        assert destination["config"]["topic"] == f"topic-{index}"
    assert emulator.destinations[0]["version"] == 2 + len(losers)


def test_concurrent_toggles_to_the_same_state_converge(clocked_emulator, clocked_hooks):
    """
    8 workers read "off" and then all PATCH "on": one PATCH is applied, 7 get 409.

    Each of the 7 re-reads the destination, finds it already on, and succeeds; it is applied exactly once
    (version 2). A 409 after which the state differs is raised (see the test above), never hidden.
    """
    emulator = clocked_emulator
    target = emulator.add_destination("proj", "prod", kind="segment", name="events", config={"writeKey": "w"})
    barrier = threading.Barrier(WORKERS)

    def work(index: int):
        op = LaunchDarklyToggleDestinationOperator(
            task_id="turn_on", destination_id=target["_id"], on=True, **KEYS
        )
        pause_after(op, "update_destination", barrier)
        return op.execute(make_context())

    results = run_workers(WORKERS, work)
    assert [r["action"] if isinstance(r, dict) else repr(r) for r in results] == ["turned on"] * WORKERS
    assert {r["version"] for r in results} == {2}
    (destination,) = emulator.destinations
    assert (destination["on"], destination["version"]) == (True, 2), "applied exactly once"
    patches = emulator.calls_to("PATCH")
    assert sorted(call.status for call in patches) == [200] + [409] * (WORKERS - 1)
    assert len(emulator.calls_to("GET")) == WORKERS + (WORKERS - 1), "one read each, one re-read per 409"


def test_free_running_edits_lose_no_update(clocked_emulator, clocked_hooks):
    """
    Workers read-modify-write the same destination without coordination (hook level, 5 rounds each).

    Every PATCH the server accepted moved the version by exactly one (versions 2..N with no gap and no
    repeat), every other PATCH got 409 and changed nothing, and the final state is the one the last
    accepted PATCH set.
    """
    emulator = clocked_emulator
    target = emulator.add_destination("proj", "prod", kind="google-pubsub", name="events", config=PUBSUB)

    def work(index: int) -> list[int]:
        rng = random.Random(index)
        accepted: list[int] = []
        with hooks_module.LaunchDarklyHook() as hook:  # the clocked hook, one per worker
            for round_ in range(5):
                desired = {
                    "on": rng.choice([True, False]),
                    "config": {**PUBSUB, "topic": f"t-{index}-{round_}"},
                }
                try:
                    updated, changed = hook.update_destination("proj", "prod", target["_id"], **desired)
                except LaunchDarklyConflictError:
                    continue
                assert changed
                accepted.append(int(updated.version))
        return accepted

    results = run_workers(WORKERS, work)
    accepted = sorted(version for versions in results for version in versions)
    (destination,) = emulator.destinations
    assert accepted == list(range(2, destination["version"] + 1)), "no lost and no doubled update"
    patches = emulator.calls_to("PATCH")
    assert Counter(call.status for call in patches) == {200: len(accepted), 409: WORKERS * 5 - len(accepted)}
    last = max(
        (call for call in patches if call.status == 200), key=lambda call: call.response_json()["version"]
    )
    assert {k: destination[k] for k in ("config", "on")} == {
        k: last.response_json()[k] for k in ("config", "on")
    }


@pytest.mark.parametrize("racers", [2, 3, 8])
def test_concurrent_creates_of_one_name_converge_on_one_destination(clocked_emulator, clocked_hooks, racers):
    """
    Every racer lists (nothing there), then every racer POSTs: the API has no uniqueness key, so each
    creates a copy. Each then looks again, picks the same winner (earliest createdAt, then smallest id),
    deletes only its own losing copy and adopts the winner: one destination is left, and every racer
    reports it. The rule relies on the server's clock moving forward between two creates (createdAt in
    ms), as here: every reading of the emulator's clock moves it by 1 ms.
    """
    emulator = clocked_emulator
    clocked_hooks.tick = 0.001
    barrier = threading.Barrier(racers)

    def work(index: int):
        op = LaunchDarklyCreateDestinationOperator(
            task_id="create", kind="google-pubsub", name="events", config=PUBSUB, **KEYS
        )
        pause_after(op, "create_destination", barrier)
        return op.execute(make_context())

    results = run_workers(racers, work)
    assert all(isinstance(result, dict) for result in results), results
    (survivor,) = emulator.destinations
    assert {result["destination_id"] for result in results} == {survivor["_id"]}
    assert sorted(result["action"] for result in results) == ["adopted"] * (racers - 1) + ["created"]
    assert len(emulator.calls_to("POST")) == racers
    assert len(emulator.calls_to("DELETE")) == racers - 1, "each loser deleted its own copy, once"


def test_a_racer_whose_create_answer_was_lost_still_converges(clocked_emulator, clocked_hooks):
    """
    One racer's POST is applied but its answer is lost: it cannot know which copy is its own, so it
    drops every copy but the agreed winner. One destination is left and both racers report it.
    """
    emulator = clocked_emulator
    clocked_hooks.tick = 0.001
    barrier = threading.Barrier(2)
    emulator.inject_fault("POST", "/api/v2/destinations/proj/prod", drop="after", times=1)

    def work(index: int):
        op = LaunchDarklyCreateDestinationOperator(
            task_id="create", kind="google-pubsub", name="events", config=PUBSUB, **KEYS
        )
        pause_after(op, "create_destination", barrier)
        return op.execute(make_context())

    results = run_workers(2, work)
    assert all(isinstance(result, dict) for result in results), results
    (survivor,) = emulator.destinations
    assert {result["destination_id"] for result in results} == {survivor["_id"]}
    assert len(emulator.calls_to("POST")) == 2


def test_a_lost_create_answer_alone_is_recognised_in_the_same_attempt(clocked_emulator, clocked_hooks):
    emulator = clocked_emulator
    emulator.inject_fault("POST", "/api/v2/destinations/proj/prod", drop="after", times=1)
    result = LaunchDarklyCreateDestinationOperator(
        task_id="create", kind="google-pubsub", name="events", config=PUBSUB, **KEYS
    ).execute(make_context())
    (survivor,) = emulator.destinations
    assert (result["action"], result["destination_id"]) == ("created", survivor["_id"])
    assert len(emulator.calls_to("POST")) == 1, "a create is never blindly retried"


def test_existing_duplicates_still_make_create_refuse_to_guess(clocked_emulator, clocked_hooks):
    """Duplicates made outside this provider are reported, never resolved by guessing."""
    emulator = clocked_emulator
    for _ in range(2):
        emulator.add_destination("proj", "prod", kind="google-pubsub", name="events", config=PUBSUB)
    with pytest.raises(LaunchDarklyValidationError) as info:
        LaunchDarklyCreateDestinationOperator(
            task_id="create", kind="google-pubsub", name="events", config=PUBSUB, **KEYS
        ).execute(make_context())
    assert "2 google-pubsub destinations are already named 'events' in proj/prod" in str(info.value)
    assert emulator.calls_to("POST") == [] and emulator.calls_to("DELETE") == []


def test_sequential_reruns_of_mapped_creates_adopt(clocked_emulator, clocked_hooks):
    """The same mapped create run three times (whole DAG re-runs): the first creates, the others adopt."""
    emulator = clocked_emulator

    def work(index: int) -> str:
        return LaunchDarklyCreateDestinationOperator(
            task_id="create", kind="google-pubsub", name=f"events-{index % 4}", config=PUBSUB, **KEYS
        ).execute(make_context())["action"]

    first = [work(i) for i in range(4)]
    again = run_workers(4, work) + run_workers(4, work)
    assert first == ["created"] * 4 and again == ["adopted"] * 8
    assert sorted(d["name"] for d in emulator.destinations) == [f"events-{i}" for i in range(4)]
