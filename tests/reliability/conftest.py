"""
Fixtures for the reliability tests: one fake clock shared by the emulator and every hook's waits.

The emulator (``clocked_emulator``) reads the fake clock for its rate-limit windows, and every hook
that operators, sensors and triggers build while ``clocked_hooks`` is active waits by advancing that
same clock (no real sleeping) with the jitter stubbed to 0, so waits and request counts are exact.
The retry rules are the production ones, built from the connection's budget exactly as the hooks build
them; only their injectable jitter, clock and sleep are replaced.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_ld.api.retries import RESET_HEADERS, Attempt, RetryDecision, RetryPolicy
from airflow_provider_ld.hooks import launchdarkly as sync_hook_module
from airflow_provider_ld.hooks.launchdarkly import LaunchDarklyHook
from airflow_provider_ld.hooks.launchdarkly_async import LaunchDarklyAsyncHook
from airflow_provider_ld.sensors import destinations as sensor_module
from airflow_provider_ld.triggers import destinations as trigger_module
from tests.example_dags.conftest import dagbag  # noqa: F401  (shared fixture)
from tests.hooks.conftest import connection_json, emulator, ld_connection, unwrap_comment_envelope  # noqa: F401
from tests.openapi_contract import validate_request, validate_response
from tests.operators.conftest import FakeTI

#: A multiple of 10, so the emulator's 10-second rate-limit windows start exactly at the fake epoch.
FAKE_EPOCH = 1_800_000_000.0
PROJECT, ENVIRONMENT = "proj", "prod"
KEYS = {"project_key": PROJECT, "environment_key": ENVIRONMENT}


@pytest.fixture(scope="session")
def airflow_db():
    """
    The metadata database of ``tests/example_dags`` (same command), migrated at most once per session.

    Importing that conftest's session fixture here would register a second session fixture and migrate
    again (about 15 s); when the example DAG tests already migrated the database, this does nothing.
    """
    if _database_is_migrated():
        return
    airflow = str(Path(sys.executable).parent / "airflow")
    result = subprocess.run(
        [airflow, "db", "migrate"], capture_output=True, text=True, env=dict(os.environ), check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


def _database_is_migrated() -> bool:
    from airflow.configuration import conf
    from sqlalchemy import create_engine, inspect

    engine = create_engine(conf.get("database", "sql_alchemy_conn"))
    try:
        return {"alembic_version", "dag_run", "xcom", "rendered_task_instance_fields"} <= set(
            inspect(engine).get_table_names()
        )
    finally:
        engine.dispose()


class FakeClock:
    """
    Epoch time that only moves when someone waits; thread-safe, so concurrent workers can share it.

    ``sleeps`` lists every wait in order; ``decisions`` every retry decision a hook made; ``hooks`` every
    hook built while ``clocked_hooks`` is active.
    """

    def __init__(self, start: float = FAKE_EPOCH) -> None:
        self.start = self.now = start
        #: seconds every reading moves time forward (0: time only moves when someone waits)
        self.tick = 0.0
        self.sleeps: list[float] = []
        self.decisions: list[Decision] = []
        self.hooks: list[Any] = []
        self._lock = threading.Lock()

    def __call__(self) -> float:
        with self._lock:
            self.now += self.tick
            return self.now

    def sleep(self, seconds: float) -> None:
        assert seconds >= 0, "a wait must never be negative"
        with self._lock:
            self.sleeps.append(seconds)
            self.now += seconds
        time.sleep(0)  # let the other workers run, as a real sleep would

    async def asleep(self, seconds: float) -> None:
        assert seconds > 0, "the trigger must never spin"
        with self._lock:
            self.sleeps.append(seconds)
            self.now += seconds
        await asyncio.sleep(0)

    def record(self, decision: Decision) -> None:
        with self._lock:
            self.decisions.append(decision)

    def take_sleeps(self) -> list[float]:
        """Return the waits so far and forget them (one task attempt at a time)."""
        with self._lock:
            taken, self.sleeps = self.sleeps, []
            return taken


@dataclass(frozen=True)
class Decision:
    """
    One retry decision: what failed, why and how long to wait, the time it was taken at, and the
    latest rate-limit reset the answer named (epoch seconds; ``None`` without reset headers).
    """

    what: Any
    reason: str
    wait: float
    now: float
    reset: float | None


@dataclass(frozen=True)
class RecordingRetryPolicy(RetryPolicy):
    """The production :class:`RetryPolicy`, reporting each decision to the fake clock."""

    recorder: FakeClock | None = field(default=None, repr=False, compare=False)

    def decide(
        self, retry_number: int, attempt: Attempt, *, idempotent: bool, waited: float
    ) -> RetryDecision:
        now = self.clock()  # one reading: other workers may move the shared clock meanwhile
        frozen = replace(self, clock=lambda: now, recorder=None)
        decision = RetryPolicy.decide(frozen, retry_number, attempt, idempotent=idempotent, waited=waited)
        if self.recorder is not None:
            resets = [float(attempt.header(name)) / 1000 for name in RESET_HEADERS if attempt.header(name)]
            what = attempt.status if attempt.failure is None else attempt.failure.value
            self.recorder.record(
                Decision(what, decision.reason, decision.wait, now, max(resets, default=None))
            )
        return decision


def clocked_policy(clock: FakeClock, max_retries: int, max_wait: float) -> RetryPolicy:
    """The policy a hook builds from its connection, with the jitter stubbed and the fake clock."""
    return RecordingRetryPolicy(
        max_retries=max_retries, max_wait=max_wait, jitter=lambda: 0.0, clock=clock, recorder=clock
    )


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def clocked_emulator(launchdarkly_emulator_factory, clock, monkeypatch):
    """
    An emulator on the fake clock; ``launchdarkly_default`` points at it with the default retry budget.

    Afterwards every answer, and every request the API accepted, is validated against the OpenAPI subset.
    """
    server = launchdarkly_emulator_factory(clock=clock)
    monkeypatch.setenv("AIRFLOW_CONN_LAUNCHDARKLY_DEFAULT", connection_json(server.base_url, timeout=5))
    yield server
    for call in server.calls_to():
        if call.status is not None and call.status < 400:
            validate_request(unwrap_comment_envelope(call))
        validate_response(call)


@pytest.fixture
def clocked_hooks(clock, monkeypatch) -> FakeClock:
    """
    Make the hooks that operators, sensors and triggers build wait on the fake clock, jitter 0.

    Operators import ``LaunchDarklyHook`` when they first use their hook, the sensor at module import,
    the trigger builds ``LaunchDarklyAsyncHook`` in ``run()``; each of those names is replaced by a
    subclass that only changes the injectable ``sleep``, jitter and clock.
    """

    class ClockedHook(LaunchDarklyHook):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            kwargs.setdefault("sleep", clock.sleep)
            super().__init__(*args, **kwargs)
            clock.hooks.append(self)

        @cached_property
        def retry_policy(self) -> RetryPolicy:
            if self._retry_policy is not None:
                return self._retry_policy
            return clocked_policy(clock, self.settings.max_retries, self.settings.max_retry_wait)

    class ClockedAsyncHook(LaunchDarklyAsyncHook):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            clock.hooks.append(self)

        def retry_policy_for(self, settings):
            if self._retry_policy is None:
                self._retry_policy = clocked_policy(clock, settings.max_retries, settings.max_retry_wait)
            return self._retry_policy

    for cls in (ClockedHook, ClockedAsyncHook):
        parent = cls.__mro__[1]
        cls.__name__, cls.__qualname__, cls.__module__ = (
            parent.__name__,
            parent.__qualname__,
            parent.__module__,
        )
    monkeypatch.setattr(sync_hook_module, "LaunchDarklyHook", ClockedHook)
    monkeypatch.setattr(sensor_module, "LaunchDarklyHook", ClockedHook)
    monkeypatch.setattr(trigger_module, "LaunchDarklyAsyncHook", ClockedAsyncHook)
    return clock


def make_context() -> dict[str, Any]:
    """A fresh task context, as each task attempt gets."""
    return {"ti": FakeTI()}


def wait_for_calls(server, count: int, timeout: float = 5.0) -> None:
    """
    Wait until the emulator has recorded ``count`` API calls.

    A request the client gave up on (read timeout) is still being served; it is recorded when the
    server finishes it, which is exactly what a retried task attempt can race with.
    """
    deadline = time.monotonic() + timeout
    while len(server.calls_to()) < count:
        assert time.monotonic() < deadline, f"expected {count} calls, got {len(server.calls_to())}"
        time.sleep(0.01)
