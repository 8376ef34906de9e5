"""A hook on settings given directly (a token from the environment), not on an Airflow connection."""

from __future__ import annotations

from functools import cached_property

from airflow_provider_ld.connection import ConnectionSettings
from airflow_provider_ld.hooks.launchdarkly import LaunchDarklyHook


class SettingsHook(LaunchDarklyHook):
    """
    A :class:`LaunchDarklyHook` whose settings are given rather than read from a connection.

    :param settings: the checked base URL and token.
    """

    def __init__(self, settings: ConnectionSettings) -> None:
        super().__init__()
        self._given_settings = settings

    @cached_property
    def settings(self) -> ConnectionSettings:
        """The settings given at construction."""
        return self._given_settings
