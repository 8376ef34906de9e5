"""Fixtures for sensor tests: the hook tests' validated emulator and connection."""

from __future__ import annotations

from tests.hooks.conftest import emulator, ld_connection  # noqa: F401 - re-exported fixtures
