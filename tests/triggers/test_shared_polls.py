"""Shared polls: many triggers on one connection in one event loop, against the emulator on a fake clock."""

from __future__ import annotations

import asyncio
import contextvars

import pytest

from airflow_provider_ld.hooks import launchdarkly_async
from airflow_provider_ld.hooks.launchdarkly import LaunchDarklyHook
from airflow_provider_ld.triggers import shared_polls
from airflow_provider_ld.triggers.destinations import LaunchDarklyDestinationConfiguredTrigger
from airflow_provider_ld.triggers.shared_polls import poller_for
from tests.hooks.conftest import connection_json
from tests.triggers.conftest import FakeTime

INVENTORY = "/api/v2/destinations"
BY_ID = "/api/v2/destinations/proj/prod/"


def make_trigger(
    fake_time: FakeTime, *, timeout: float = 600.0, **kwargs
) -> LaunchDarklyDestinationConfiguredTrigger:
    kwargs.setdefault("poll_interval", 30.0)
    trigger = LaunchDarklyDestinationConfiguredTrigger(
        project_key="proj", environment_key="prod", end_time=fake_time.now + timeout, **kwargs
    )
    trigger._clock, trigger._sleep = fake_time.time, fake_time.sleep
    return trigger


async def consume(trigger: LaunchDarklyDestinationConfiguredTrigger) -> list:
    """Consume the trigger as the triggerer does: ``async for`` until it ends."""
    return [event async for event in trigger.run()]


async def run_all(triggers: list[LaunchDarklyDestinationConfiguredTrigger]) -> list[dict]:
    """Run every trigger to its end in one event loop; each must yield exactly one event."""
    results = await asyncio.gather(*(consume(trigger) for trigger in triggers))
    assert [len(events) for events in results] == [1] * len(triggers), "exactly one event per trigger"
    return [events[0].payload for events in results]


def inventory_requests(emulator) -> list:
    """The ``GET /api/v2/destinations`` calls (not the by-id ones the prefix also matches)."""
    return [call for call in emulator.calls_to("GET", INVENTORY) if call.path == INVENTORY]


def by_id_requests(emulator) -> list:
    return emulator.calls_to("GET", BY_ID)


def assert_let_go() -> None:
    loop = asyncio.get_running_loop()
    assert shared_polls._POLLERS.get(loop, {}) == {}, "the poller stopped"
    assert launchdarkly_async._CLIENTS.get(loop, {}) == {}, "its HTTP client was closed"


@pytest.mark.asyncio
async def test_many_triggers_share_one_inventory_request_per_interval(clocked_emulator, fake_time):
    by_id = [
        clocked_emulator.add_destination("proj", "prod", kind="segment", name=f"off-{n}", on=False)["_id"]
        for n in range(20)
    ]
    clocked_emulator.add_destination("proj", "staging", kind="segment", name="named-0", on=True)
    created: dict[str, str] = {}

    def add_named(numbers: range) -> None:
        for n in numbers:
            item = clocked_emulator.add_destination(
                "proj", "prod", kind="segment", name=f"named-{n}", on=True
            )
            created[f"named-{n}"] = item["_id"]

    def switch_on() -> None:
        with LaunchDarklyHook() as hook:
            for destination_id in by_id:
                hook.patch_destination(
                    "proj", "prod", destination_id, [{"op": "replace", "path": "/on", "value": True}]
                )

    fake_time.after_sleep(1, lambda: add_named(range(10)))
    fake_time.after_sleep(2, lambda: (add_named(range(10, 15)), switch_on()))
    fake_time.after_sleep(3, lambda: add_named(range(15, 20)))
    triggers = [
        make_trigger(fake_time, destination_id=destination_id, poll_interval=60) for destination_id in by_id
    ]
    triggers += [make_trigger(fake_time, name=f"named-{n}", kind="segment") for n in range(20)]

    payloads = await run_all(triggers)

    assert [payload["status"] for payload in payloads] == ["success"] * 40
    assert [payload["destination_id"] for payload in payloads[:20]] == by_id
    assert [payload["destination_id"] for payload in payloads[20:]] == [
        created[f"named-{n}"] for n in range(20)
    ]
    assert fake_time.sleeps == [30.0, 30.0, 30.0], "rounds follow the shortest interval asked for"
    assert len(inventory_requests(clocked_emulator)) == 4, "one inventory request per round for 40 triggers"
    assert by_id_requests(clocked_emulator) == [], (
        "every by-id trigger found its destination in the inventory"
    )
    assert_let_go()


@pytest.mark.asyncio
async def test_concurrent_requests_for_the_inventory_are_coalesced(clocked_emulator, fake_time):
    clocked_emulator.add_destination("proj", "prod", kind="segment", name="events", on=True)
    clocked_emulator.inject_fault("GET", INVENTORY, delay=0.2)  # keep the first request in flight a moment
    poller = poller_for("launchdarkly_default", clock=fake_time.time, sleep=fake_time.sleep)
    try:
        inventories = await asyncio.gather(*(poller.inventory() for _ in range(8)))
        by_id = await asyncio.gather(*(poller.destination("proj", "prod", "nope") for _ in range(3)))
    finally:
        await poller.aclose()

    assert len(inventory_requests(clocked_emulator)) == 1
    assert all(inventory is inventories[0] for inventory in inventories)
    assert [item.name for item in inventories[0].items] == ["events"]
    assert by_id == [None, None, None]
    assert len(by_id_requests(clocked_emulator)) == 1, "three asks for one id, one request"
    assert_let_go()


def _open_connections(client) -> int:
    return len(client._transport._pool.connections)


@pytest.mark.asyncio
async def test_cancelled_triggers_stop_being_served_and_the_last_one_stops_the_poller(
    clocked_emulator, fake_time
):
    slept = asyncio.Event()
    release = asyncio.Event()

    async def gated_sleep(seconds: float) -> None:
        fake_time.sleeps.append(seconds)
        slept.set()
        await release.wait()
        release.clear()
        fake_time.now += seconds

    triggers = [make_trigger(fake_time, name=f"absent-{n}", kind="segment") for n in range(3)]
    for trigger in triggers:
        trigger._sleep = gated_sleep
    tasks = [asyncio.create_task(consume(trigger)) for trigger in triggers]
    await slept.wait()  # the first round is done; the poller sleeps
    loop = asyncio.get_running_loop()
    poller = shared_polls._POLLERS[loop]["launchdarkly_default"]
    client = launchdarkly_async._CLIENTS[loop][clocked_emulator.base_url].client
    assert poller.subscribers == 3
    assert _open_connections(client) >= 1

    for task in tasks[:2]:
        task.cancel()
    await asyncio.gather(*tasks[:2], return_exceptions=True)
    assert poller.subscribers == 1, "the cancelled triggers are no longer served"
    slept.clear()
    release.set()
    await slept.wait()  # a second round, for the one left
    assert len(inventory_requests(clocked_emulator)) == 2
    assert not client.is_closed

    tasks[2].cancel()
    with pytest.raises(asyncio.CancelledError):
        await tasks[2]
    assert poller.closing and poller.subscribers == 0
    assert client.is_closed and _open_connections(client) == 0, "the poller's connections were closed"
    assert len(inventory_requests(clocked_emulator)) == 2, "no request after the last trigger left"
    assert fake_time.sleeps == [30.0, 30.0]
    assert_let_go()


@pytest.mark.asyncio
async def test_a_refused_token_fails_every_trigger_with_the_same_error(
    clocked_emulator, fake_time, monkeypatch
):
    monkeypatch.setenv(
        "AIRFLOW_CONN_LAUNCHDARKLY_DEFAULT", connection_json(clocked_emulator.base_url, token="wrong-token-1")
    )
    triggers = [make_trigger(fake_time, destination_id=f"id-{n}") for n in range(5)]
    triggers += [make_trigger(fake_time, name=f"name-{n}", kind="segment") for n in range(5)]

    payloads = await run_all(triggers)

    assert {payload["status"] for payload in payloads} == {"error"}
    assert {payload["error_type"] for payload in payloads} == {"LaunchDarklyAuthError"}
    assert {payload["status_code"] for payload in payloads} == {401}
    messages = {payload["message"] for payload in payloads}
    assert len(messages) == 1, "one clear error for all"
    (message,) = messages
    assert "GET /api/v2/destinations -> 401 unauthorized" in message and "wrong-token-1" not in message
    assert len(clocked_emulator.calls_to()) == 1
    assert fake_time.sleeps == []
    assert_let_go()


@pytest.mark.asyncio
async def test_a_rate_limit_is_one_backoff_for_all(clocked_emulator, fake_time, monkeypatch):
    monkeypatch.setenv(
        "AIRFLOW_CONN_LAUNCHDARKLY_DEFAULT", connection_json(clocked_emulator.base_url, max_retries=2)
    )
    for n in range(20):
        clocked_emulator.add_destination("proj", "prod", kind="segment", name=f"events-{n}", on=True)
    clocked_emulator.inject_fault("GET", INVENTORY, status=429, retry_after=2)
    triggers = [make_trigger(fake_time, name=f"events-{n}", kind="segment") for n in range(20)]

    payloads = await run_all(triggers)

    assert {payload["status"] for payload in payloads} == {"success"}
    assert [call.status for call in inventory_requests(clocked_emulator)] == [429, 200]
    assert len(fake_time.sleeps) == 1 and 2.0 <= fake_time.sleeps[0] < 2.5, (
        "one Retry-After wait for 20 triggers"
    )
    assert_let_go()


@pytest.mark.asyncio
async def test_rate_limits_and_server_errors_are_not_yet_for_all(clocked_emulator, fake_time):
    for n in range(10):
        clocked_emulator.add_destination("proj", "prod", kind="segment", name=f"events-{n}", on=True)
    clocked_emulator.inject_fault("GET", INVENTORY, status=429)
    clocked_emulator.inject_fault("GET", INVENTORY, status=503)
    triggers = [make_trigger(fake_time, name=f"events-{n}", kind="segment") for n in range(10)]

    payloads = await run_all(triggers)

    assert {payload["status"] for payload in payloads} == {"success"}
    assert [call.status for call in inventory_requests(clocked_emulator)] == [429, 503, 200]
    assert fake_time.sleeps == [30.0, 30.0], "the next shared round, not one retry per trigger"


@pytest.mark.asyncio
async def test_an_id_absent_from_the_inventory_is_confirmed_by_one_get_before_timing_out(
    clocked_emulator, fake_time
):
    present = clocked_emulator.add_destination("proj", "prod", kind="segment", name="stale", on=True)
    other = clocked_emulator.add_destination("proj", "prod", kind="segment", name="events", on=False)
    # The last inventory (at the deadline) does not list ``present`` (a stale listing): one GET by id shows it.
    stale = {"_links": {}, "items": [other]}
    fake_time.after_sleep(2, lambda: clocked_emulator.inject_fault("GET", INVENTORY, status=200, body=stale))
    triggers = [
        make_trigger(fake_time, destination_id=present["_id"], timeout=60.0),
        make_trigger(fake_time, destination_id=other["_id"], timeout=60.0),
        make_trigger(fake_time, destination_id="never-created", timeout=60.0),
    ]
    # The first round would find ``present`` configured at once: make it wait for the last one instead.
    clocked_emulator.inject_fault("GET", INVENTORY, status=200, body=stale, times=2)

    payloads = await run_all(triggers)

    assert [payload["status"] for payload in payloads] == ["success", "timeout", "timeout"]
    assert payloads[0]["destination_id"] == present["_id"]
    assert payloads[1]["message"].endswith("not configured after 3 checks in 60 s: destination is off")
    assert payloads[2]["message"].endswith(
        "not configured after 3 checks in 60 s: destination does not exist yet"
    )
    assert len(inventory_requests(clocked_emulator)) == 3
    confirmations = sorted(call.path for call in by_id_requests(clocked_emulator))
    assert confirmations == sorted([BY_ID + present["_id"], BY_ID + "never-created"]), (
        "one GET by id per absent trigger, only at its deadline"
    )
    assert_let_go()


@pytest.mark.asyncio
async def test_two_copies_of_a_trigger_each_yield_their_event(clocked_emulator, fake_time):
    """A trigger may run twice (HA triggerers); each copy ends on its own, and a rebuilt one starts afresh."""
    created: dict = {}
    fake_time.after_sleep(
        1,
        lambda: created.update(
            clocked_emulator.add_destination("proj", "prod", kind="segment", name="e", on=True)
        ),
    )
    first = make_trigger(fake_time, name="e", kind="segment")
    _, kwargs = first.serialize()
    second = LaunchDarklyDestinationConfiguredTrigger(**kwargs)
    second._clock, second._sleep = fake_time.time, fake_time.sleep

    payloads = await run_all([first, second])

    assert [payload["destination_id"] for payload in payloads] == [created["_id"]] * 2
    assert len(inventory_requests(clocked_emulator)) == 2
    assert_let_go()
    rebuilt = LaunchDarklyDestinationConfiguredTrigger(**kwargs)  # after a restart: nothing carried over
    rebuilt._clock, rebuilt._sleep = fake_time.time, fake_time.sleep
    (payload,) = await run_all([rebuilt])
    assert payload["status"] == "success"
    assert len(inventory_requests(clocked_emulator)) == 3
    assert_let_go()


@pytest.mark.asyncio
async def test_a_single_trigger_by_id_polls_by_id(clocked_emulator, fake_time):
    """One trigger (or several on one id) costs one request per round either way: the by-id GET is used."""
    created = clocked_emulator.add_destination("proj", "prod", kind="segment", name="e", on=True)
    triggers = [make_trigger(fake_time, destination_id=created["_id"]) for _ in range(3)]

    payloads = await run_all(triggers)

    assert {payload["status"] for payload in payloads} == {"success"}
    assert len(by_id_requests(clocked_emulator)) == 1
    assert inventory_requests(clocked_emulator) == []


@pytest.mark.asyncio
async def test_separate_connections_have_separate_pollers(clocked_emulator, fake_time, monkeypatch):
    monkeypatch.setenv("AIRFLOW_CONN_LD_OTHER", connection_json(clocked_emulator.base_url))
    clocked_emulator.add_destination("proj", "prod", kind="segment", name="e", on=True)
    triggers = [
        make_trigger(fake_time, name="e", kind="segment"),
        make_trigger(fake_time, name="e", kind="segment", launchdarkly_conn_id="ld_other"),
    ]

    payloads = await run_all(triggers)

    assert {payload["status"] for payload in payloads} == {"success"}
    assert len(inventory_requests(clocked_emulator)) == 2
    assert_let_go()


WHO = contextvars.ContextVar("WHO", default="nobody")


@pytest.mark.asyncio
async def test_verdicts_are_decided_in_each_triggers_own_context(clocked_emulator, fake_time):
    """The triggerer routes a trigger's logs by context variables: each verdict runs in its trigger's context."""
    clocked_emulator.add_destination("proj", "prod", kind="segment", name="e", on=False)
    seen: dict[str, set[str]] = {}
    triggers = [make_trigger(fake_time, name="e", kind="segment", timeout=30.0) for _ in range(3)]
    for number, trigger in enumerate(triggers):
        decide = trigger._decide

        def spy(found, check, decide=decide, number=number):
            seen.setdefault(f"t{number}", set()).add(WHO.get())
            return decide(found, check)

        trigger._decide = spy

    async def consume_as(name: str, trigger) -> list:
        WHO.set(name)
        return await consume(trigger)

    results = await asyncio.gather(*(consume_as(f"t{n}", trigger) for n, trigger in enumerate(triggers)))

    assert [events[0].payload["status"] for events in results] == ["timeout"] * 3
    assert seen == {"t0": {"t0"}, "t1": {"t1"}, "t2": {"t2"}}
    assert len(inventory_requests(clocked_emulator)) == 2
