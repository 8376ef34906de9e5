"""Fixtures for the destinations-as-code tests: the emulator, a hook on it and a many-environment manifest."""

from __future__ import annotations

import pytest

from airflow_provider_ld.api.retries import RetryPolicy
from airflow_provider_ld.connection import ConnectionSettings
from airflow_provider_ld.fleet._hook import SettingsHook
from tests.hooks.conftest import emulator, ld_connection  # noqa: F401  (shared fixtures)

PROJECTS = ("web", "mobile", "backend")
ENVIRONMENTS = ("production", "staging", "test")
WRITE_KEY = "segment-write-key-0123456789"


@pytest.fixture
def hook(emulator, fake_sleep):  # noqa: F811
    """A hook on the emulator's token, built from settings as the command line builds it."""
    settings = ConnectionSettings(base_url=emulator.base_url, token=emulator.token)
    hook = SettingsHook(settings)
    hook._retry_policy = RetryPolicy(max_retries=3, max_wait=60.0, jitter=lambda: 0.0)
    hook._sleep = fake_sleep
    with hook:
        yield hook


@pytest.fixture
def segment_key(monkeypatch):
    """The Segment write key, in the environment variable the manifest names."""
    monkeypatch.setenv("SEGMENT_WRITE_KEY", WRITE_KEY)
    return WRITE_KEY


def fleet_manifest() -> dict:
    """Pub/Sub in every environment of three projects (mobile with its own topic), Segment in production."""
    return {
        "destinations": [
            {
                "name": "Product events",
                "kind": "google-pubsub",
                "on": True,
                "config": {"project": "gcp-analytics", "topic": "ld-events"},
                "targets": [
                    {"project": "web", "environments": list(ENVIRONMENTS)},
                    {"project": "backend", "environments": list(ENVIRONMENTS)},
                    {
                        "project": "mobile",
                        "environments": list(ENVIRONMENTS),
                        "config": {"topic": "ld-mobile"},
                    },
                ],
            },
            {
                "name": "Segment",
                "kind": "segment",
                "config": {"writeKey": {"from_env": "SEGMENT_WRITE_KEY"}},
                "targets": [{"project": project, "environments": ["production"]} for project in PROJECTS],
            },
        ]
    }
