"""Fixtures shared by the operator tests: the emulator, its connection and a task context."""

from __future__ import annotations

import pytest

from tests.hooks.conftest import emulator, ld_connection  # noqa: F401  (shared fixtures)


class FakeTI:
    """The part of a task instance the operators use: ``xcom_push``."""

    def __init__(self) -> None:
        self.xcom: dict[str, object] = {}

    def xcom_push(self, key: str, value: object) -> None:
        self.xcom[key] = value


@pytest.fixture
def context():
    """A fresh task context, as each task attempt gets."""
    return {"ti": FakeTI()}
