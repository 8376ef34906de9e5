"""
Fixtures for sensor tests: the hook tests' validated emulator and connection, and a fake sensor clock.

Airflow's sensor loop (``BaseSensorOperator.execute`` in poke mode) measures its run with
``time.monotonic()`` and waits with ``time.sleep()``. Every sensor test runs that loop on a fake clock
that only moves when the loop waits, so a sensor that should fail at once but starts waiting instead
reaches its timeout after a few instant pokes: the test fails fast and never blocks on the real clock.
"""

from __future__ import annotations

import sys
from collections.abc import Callable

import pytest

from tests.hooks.conftest import emulator, ld_connection  # noqa: F401 - re-exported fixtures


class SensorClock:
    """
    ``time.monotonic`` and ``time.sleep`` for the sensor loop; ``sleeps`` lists every wait in order.

    ``on_sleep``, when set, is called after each wait (to change the world while the sensor waits).
    """

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []
        self.on_sleep: Callable[[], None] | None = None

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
        if self.on_sleep is not None:
            self.on_sleep()


@pytest.fixture(autouse=True)
def sensor_clock(monkeypatch) -> SensorClock:
    """Run Airflow's sensor loop on a :class:`SensorClock` (only that module's ``time`` is replaced)."""
    from airflow_provider_ld.sensors.destinations import BaseSensorOperator

    clock = SensorClock()
    monkeypatch.setattr(sys.modules[BaseSensorOperator.__module__], "time", clock)
    return clock
