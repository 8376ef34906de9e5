"""What differs between supported Airflow releases is decided in ``_compat``, and its fallbacks work."""

from __future__ import annotations

import sys
import threading

import pytest
from packaging.version import Version

from airflow_provider_ld import _compat
from airflow_provider_ld.get_provider_info import CONN_FIELDS
from airflow_provider_ld.hooks.launchdarkly import LaunchDarklyHook


def test_the_release_flags_follow_the_installed_airflow():
    import airflow

    release = Version(Version(airflow.__version__).base_version)
    assert release >= Version("3.0.6"), "below the supported floor"
    assert _compat.AIRFLOW_V_3_1_PLUS is (release >= Version("3.1"))
    assert _compat.AIRFLOW_V_3_2_PLUS is (release >= Version("3.2"))
    assert _compat.AIRFLOW_V_3_3_PLUS is (release >= Version("3.3"))


def test_connection_form_widgets_carry_labels_defaults_and_help_without_flask_babel(monkeypatch):
    monkeypatch.setitem(sys.modules, "flask_babel", None)  # Airflow 3 does not install it
    widgets = LaunchDarklyHook.get_connection_form_widgets()
    assert set(widgets) == set(CONN_FIELDS)
    for name, spec in CONN_FIELDS.items():
        field = widgets[name]
        assert field.args[0] == spec["label"]
        assert field.kwargs["default"] == spec["schema"]["default"]
        assert field.kwargs["description"] == spec.get("description", "")
    assert widgets["max_retries"].field_class.__name__ == "IntegerField"
    assert widgets["api_version"].field_class.__name__ == "StringField"


def test_without_wtforms_the_form_falls_back_to_the_provider_info(monkeypatch):
    monkeypatch.setitem(sys.modules, "wtforms", None)
    assert LaunchDarklyHook.get_connection_form_widgets() == {}


@pytest.mark.asyncio
async def test_before_3_3_secrets_are_masked_through_the_sync_call_off_the_event_loop(monkeypatch):
    loop_thread = threading.get_ident()
    masked: list[tuple[str, int]] = []
    monkeypatch.setattr(_compat, "AIRFLOW_V_3_3_PLUS", False)
    monkeypatch.setattr(_compat, "mask_secret", lambda value: masked.append((value, threading.get_ident())))
    await _compat.amask_secret("api-secret-token")
    await _compat.amask_secret("")
    assert [value for value, _ in masked] == ["api-secret-token"]
    assert masked[0][1] != loop_thread, "the sync masker may block (it talks to the supervisor on 3.0)"
