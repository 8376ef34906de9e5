"""Fixtures for trigger tests: a fake clock shared by the trigger and the emulator, and a loop watchdog."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Iterator

import blockbuster.blockbuster as blockbuster_module
import pytest
from blockbuster import BlockingError, blockbuster_ctx

from airflow_provider_ld.hooks.launchdarkly_async import LaunchDarklyAsyncHook
from tests.hooks.conftest import connection_json, unwrap_comment_envelope
from tests.openapi_contract import validate_request, validate_response

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


@contextlib.contextmanager
def blocking_calls() -> Iterator[list[str]]:
    """
    Record every blocking call made on a running event loop's thread while the block runs.

    blockbuster replaces the blocking primitives (``time.sleep``, socket connect/send/recv on blocking
    sockets, file reads and writes, lock waits) with checks that raise :class:`BlockingError` when called
    from a thread that runs an event loop. The error is also recorded here, so a blocking call is seen even
    when the code that made it swallows the error (the shared poller hands every exception of a round to
    its subscribers). Writes by logging handlers are allowed. No timing is involved: a blocking call is caught however short it is, and CPU
    starvation on a busy machine cannot look like one.
    """
    seen: list[str] = []

    class RecordedBlockingError(BlockingError):
        def __init__(self, func: str) -> None:
            super().__init__(func)
            seen.append(func)

    saved = blockbuster_module.BlockingError
    blockbuster_module.BlockingError = RecordedBlockingError
    try:
        with blockbuster_ctx() as buster:
            for function in buster.functions.values():
                # Where log records go is the logging set-up's business (the triggerer's own handlers).
                function.can_block_in("logging/__init__.py", {"emit", "flush"})
            yield seen
    finally:
        blockbuster_module.BlockingError = saved


@pytest.fixture
def loop_watchdog() -> Iterator[None]:
    """Fail the test if anything made a blocking call on the event loop during its setup or run."""
    with blocking_calls() as seen:
        yield
    assert seen == [], f"the event loop was blocked by: {seen}"


async def collect_events(trigger, fake_time: FakeTime) -> list:
    """Drive ``trigger.run()`` to its end with the fake clock and sleep."""
    trigger._clock = fake_time.time
    trigger._sleep = fake_time.sleep
    return [event async for event in trigger.run()]
