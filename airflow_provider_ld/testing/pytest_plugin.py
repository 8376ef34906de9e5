"""
pytest plugin (entry point ``launchdarkly``) providing a LaunchDarkly API emulator fixture.

The emulator module is imported only when a fixture is used.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from airflow_provider_ld.testing.emulator import LaunchDarklyEmulator

EMULATOR_TOKEN = "test-token"


@pytest.fixture
def launchdarkly_emulator_factory() -> Iterator[Callable[..., LaunchDarklyEmulator]]:
    """
    Start emulators with custom arguments (e.g. ``clock`` or ``setup_delay``); all are stopped after the test.

    Call it with :class:`LaunchDarklyEmulator` keyword arguments; ``token`` defaults to ``"test-token"``.
    """
    from airflow_provider_ld.testing.emulator import LaunchDarklyEmulator

    started: list[LaunchDarklyEmulator] = []

    def _start(**kwargs: Any) -> LaunchDarklyEmulator:
        kwargs.setdefault("token", EMULATOR_TOKEN)
        emulator = LaunchDarklyEmulator(**kwargs).start()
        started.append(emulator)
        return emulator

    try:
        yield _start
    finally:
        for emulator in started:
            emulator.stop()


@pytest.fixture
def launchdarkly_emulator(
    launchdarkly_emulator_factory: Callable[..., LaunchDarklyEmulator],
) -> LaunchDarklyEmulator:
    """A started emulator on a free loopback port accepting token ``"test-token"``; stopped after the test."""
    return launchdarkly_emulator_factory()
