"""
Testing utilities: a local LaunchDarkly REST API emulator and its pytest plugin.

Importing this package is cheap; :class:`LaunchDarklyEmulator` and :class:`RecordedCall` are
loaded on first access.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from airflow_provider_ld.testing._fidelity import ApiFidelity
    from airflow_provider_ld.testing._recording import RecordedCall
    from airflow_provider_ld.testing.emulator import LaunchDarklyEmulator

__all__ = ["ApiFidelity", "LaunchDarklyEmulator", "RecordedCall"]


def __getattr__(name: str) -> Any:
    """
    Import the public names lazily.

    :param name: attribute requested.
    """
    if name == "LaunchDarklyEmulator":
        from airflow_provider_ld.testing.emulator import LaunchDarklyEmulator

        return LaunchDarklyEmulator
    if name == "ApiFidelity":
        from airflow_provider_ld.testing._fidelity import ApiFidelity

        return ApiFidelity
    if name == "RecordedCall":
        from airflow_provider_ld.testing._recording import RecordedCall

        return RecordedCall
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
