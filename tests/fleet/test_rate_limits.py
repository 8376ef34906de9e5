"""Apply under the API's rate limit: every change lands once, 429 answers are waited out, nothing is duplicated."""

from __future__ import annotations

import threading
import time

from airflow_provider_ld.api.retries import RetryPolicy
from airflow_provider_ld.connection import ConnectionSettings
from airflow_provider_ld.fleet._hook import SettingsHook
from airflow_provider_ld.fleet.apply import apply_plan, raise_for_failures
from airflow_provider_ld.fleet.manifest import load_manifest
from airflow_provider_ld.fleet.plan import make_plan
from tests.fleet.conftest import fleet_manifest


class FakeClock:
    """The emulator's clock; the hook's ``sleep`` advances it, so rate-limit windows pass without waiting."""

    def __init__(self) -> None:
        self.now = time.time()  # the reset header is an epoch time the hook compares with its own clock
        self.slept: list[float] = []
        self._lock = threading.Lock()

    def __call__(self) -> float:
        with self._lock:
            return self.now

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.slept.append(seconds)
            self.now += seconds


def test_apply_waits_out_429s_and_creates_each_destination_once(launchdarkly_emulator_factory, segment_key):
    clock = FakeClock()
    emulator = launchdarkly_emulator_factory(clock=clock)
    emulator.set_rate_limit(global_limit=5, window_seconds=10.0)
    hook = SettingsHook(ConnectionSettings(base_url=emulator.base_url, token=emulator.token))
    hook._retry_policy = RetryPolicy(max_retries=10, max_wait=600.0, jitter=lambda: 0.0)
    hook._sleep = clock.sleep
    with hook:
        plan = make_plan(load_manifest(fleet_manifest()), hook.list_destinations())
        report = apply_plan(hook, plan, concurrency=4)
    raise_for_failures(report)
    posts = emulator.calls_to("POST")
    assert [c.status for c in posts].count(201) == 12
    assert 429 in {c.status for c in posts}, "the limit was hit"
    assert clock.slept, "429s were waited out"
    assert len(emulator.destinations) == 12, "no create was duplicated"
