"""
Hardening against hostile or broken peers and inputs: secrets in every accepted form, bounded waits and
bodies, no shared cookies, no echoed hosts or tokens, contained error bodies and strict path checks.
"""

from __future__ import annotations

import json

import pytest

from airflow_provider_ld.operators import _base as base_module
from airflow_provider_ld.operators.destinations import LaunchDarklyCreateDestinationOperator
from airflow_provider_ld.operators.warehouse import LaunchDarklyWarehouseSetupOperator

KEYS = {"project_key": "proj", "environment_key": "prod"}


# 1. Secrets in a config or setup given as a JSON string are masked at render time


@pytest.fixture
def masked(monkeypatch) -> list[str]:
    registered: list[str] = []
    monkeypatch.setattr(base_module, "mask_secret", registered.append)
    return registered


@pytest.mark.parametrize(
    "config",
    [
        {"writeKey": "{{ params.key }}"},
        '{"writeKey": "{{ params.key }}"}',
        '  {"writeKey": "{{ params.key }}", "nested": [{"apiToken": "tok-{{ params.key }}"}]}',
    ],
    ids=["dict", "json-string", "json-string-nested"],
)
def test_config_secrets_are_masked_whatever_form_the_config_takes(masked, config):
    operator = LaunchDarklyCreateDestinationOperator(
        task_id="create", kind="segment", name="events", config=config, **KEYS
    )
    operator.render_template_fields({"params": {"key": "wk-SECRET-1"}})
    assert "wk-SECRET-1" in masked


def test_setup_secrets_are_masked_when_setup_is_a_json_string(masked):
    operator = LaunchDarklyWarehouseSetupOperator(
        task_id="setup",
        kind="clickhouse",
        setup=json.dumps({"name": "wh", "clickHousePassword": "{{ params.pw }}"}),
        **KEYS,
    )
    operator.render_template_fields({"params": {"pw": "ch-SECRET-2"}})
    assert masked == ["ch-SECRET-2"]
