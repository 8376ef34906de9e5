"""Fixtures for trigger tests: a fake clock shared by the trigger and the emulator, and a loop watchdog."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

import pytest

from airflow_provider_ld.hooks.launchdarkly_async import LaunchDarklyAsyncHook
from tests.hooks.conftest import connection_json, unwrap_comment_envelope
from tests.openapi_contract import validate_request, validate_response

#: A step of the event loop taking longer than this is reported as blocking. High enough that CPU
#: starvation on a busy 2-core CI machine does not look like blocking; a blocking sleep, connect or
#: file read in the trigger's path still trips it (``test_the_watchdog_sees_a_blocked_loop``).
SLOW_CALLBACK_SECONDS = 0.5
SETUP_DELAY = 90.0


class FakeTime:
    """
    Epoch time that moves only when the trigger sleeps; actions can be scheduled after a given sleep.

    The emulator reads the same clock, so a destination appears exactly when the fake time says so.
    """

    def __init__(self, start: float = 1_800_000_000.0) -> None:
        self.start = self.now = start
        self.sleeps: list[float] = []
        self._actions: dict[int, Callable[[], object]] = {}

    def time(self) -> float:
        return self.now

    def after_sleep(self, number: int, action: Callable[[], object]) -> None:
        """Run ``action`` (blocking; run in a thread) right after sleep number ``number`` (1-based)."""
        self._actions[number] = action

    async def sleep(self, seconds: float) -> None:
        assert seconds > 0, "the trigger must never spin"
        self.sleeps.append(seconds)
        self.now += seconds
        action = self._actions.pop(len(self.sleeps), None)
        if action is not None:
            await asyncio.to_thread(action)
        await asyncio.sleep(0)


@pytest.fixture
def fake_time() -> FakeTime:
    return FakeTime()


@pytest.fixture
def clocked_emulator(launchdarkly_emulator_factory, fake_time, monkeypatch):
    """
    An emulator on the fake clock whose guided setups appear ``SETUP_DELAY`` seconds after completion.

    ``launchdarkly_default`` points at it, without client-side retries (the trigger's polling is under test).
    Every call is validated against the OpenAPI subset afterwards.
    """
    emulator = launchdarkly_emulator_factory(clock=fake_time.time, setup_delay=SETUP_DELAY)
    monkeypatch.setenv(
        "AIRFLOW_CONN_LAUNCHDARKLY_DEFAULT", connection_json(emulator.base_url, timeout=5, max_retries=0)
    )
    _warm_up()
    yield emulator
    for call in emulator.calls_to():
        if call.status is not None and call.status < 400:
            validate_request(unwrap_comment_envelope(call))
        validate_response(call)


def _warm_up() -> None:
    """Import what reading a connection and creating a client import, as a running triggerer has."""

    async def read() -> None:
        async with LaunchDarklyAsyncHook() as hook:
            await hook.get_conn()

    asyncio.run(read())


@pytest.fixture
def loop_watchdog(caplog):
    """Fail the test if any step of the event loop blocked it (asyncio debug mode's slow-callback report)."""
    caplog.set_level(logging.WARNING, logger="asyncio")
    yield
    records = caplog.get_records("setup") + caplog.get_records("call")
    slow = [
        record.getMessage()
        for record in records
        if record.name == "asyncio" and "took" in record.getMessage()
    ]
    assert slow == [], f"the event loop was blocked: {slow}"


async def collect_events(trigger, fake_time: FakeTime) -> list:
    """Drive ``trigger.run()`` to its end in asyncio debug mode, with the fake clock and sleep."""
    trigger._clock = fake_time.time
    trigger._sleep = fake_time.sleep
    loop = asyncio.get_running_loop()
    loop.set_debug(True)
    loop.slow_callback_duration = SLOW_CALLBACK_SECONDS
    await asyncio.sleep(0)  # debug mode is checked when a step starts: measure every step of the trigger
    try:
        return [event async for event in trigger.run()]
    finally:
        loop.set_debug(False)
