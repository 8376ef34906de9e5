"""
Secrets (the API token and every secret config field) stay out of everything Airflow keeps or shows.

The example DAGs and a DAG covering the remaining secret fields run with ``dag.test()`` against an
emulator that only accepts a recognisable token; every secret contains one marker (``MARKER``), so even
a partial leak is caught. Scanned: stdout/stderr (file descriptors) and every log record, every
file under ``AIRFLOW_HOME`` (``dag.test()`` writes no task log files; the metadata database itself is
scanned byte for byte), the runs' XCom rows, their rendered template fields, exception messages,
reprs of hooks, operators, settings and models, and the emulator's own logs and records.

Also: the token is never sent to another host (no redirect is followed, sync or async, any 3xx) and
never over plain HTTP to a host that is not loopback.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import socket
import tempfile
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_ld.exceptions import (
    LaunchDarklyAuthError,
    LaunchDarklyError,
    LaunchDarklyValidationError,
)
from airflow_provider_ld.hooks.launchdarkly import LaunchDarklyHook
from airflow_provider_ld.hooks.launchdarkly_async import LaunchDarklyAsyncHook
from airflow_provider_ld.operators.destinations import (
    LaunchDarklyCreateDestinationOperator,
    LaunchDarklyToggleDestinationOperator,
    LaunchDarklyUpdateDestinationOperator,
    LaunchDarklyWarehouseSetupOperator,
)
from airflow_provider_ld.sensors.destinations import LaunchDarklyDestinationConfiguredSensor
from airflow_provider_ld.triggers.destinations import LaunchDarklyDestinationConfiguredTrigger
from tests.airflow_compat import dagbag_module, sync_to_db
from tests.openapi_contract import validate_call
from tests.reliability.conftest import connection_json, unwrap_comment_envelope

#: Built at run time: this file is the DAG file of ``reliability_secrets``, and Airflow stores DAG sources.
MARKER = "-".join(("RELIABILITY", "SECRET"))  # noqa: FLY002 - no literal of the marker in this file
TOKEN = f"api-{MARKER}-token-7f3a91c2"
WRONG_TOKEN = f"api-{MARKER}-wrong-token-0b44"
#: Variables (set through ``AIRFLOW_VAR_*``) holding one secret per secret field.
VARIABLES = {
    "launchdarkly_segment_write_key": f"wk-{MARKER}-segment-55c1",  # read by the onboarding example DAG
    "ld_segment_write_key_rotated": f"wk-{MARKER}-rotated-9d2e",
    "ld_azure_policy_key": f"pk-{MARKER}-azure-31aa",
    "ld_mparticle_api_key": f"ak-{MARKER}-mparticle-77f0",
    "ld_mparticle_secret": f"ms-{MARKER}-mparticle-c0de",
    "ld_clickhouse_password": f"ch-{MARKER}-password-e5e5",
}
SECRETS = [TOKEN, WRONG_TOKEN, *VARIABLES.values()]


def leaks(artefacts: dict[str, str | bytes]) -> list[str]:
    """Name every artefact that contains the marker (so any secret, or any part of one)."""
    found = []
    for name, content in artefacts.items():
        text = content.decode("utf-8", "replace") if isinstance(content, bytes) else content
        if MARKER in text or MARKER.lower() in text.lower():
            found.append(name)
    return found


@pytest.fixture
def secret_emulator(launchdarkly_emulator_factory, monkeypatch):
    """An emulator accepting only ``TOKEN``; connections and Variables come from the environment."""
    emulator = launchdarkly_emulator_factory(token=TOKEN, setup_delay=0)
    monkeypatch.setenv(
        "AIRFLOW_CONN_LAUNCHDARKLY_DEFAULT", connection_json(emulator.base_url, token=TOKEN, timeout=5)
    )
    monkeypatch.setenv(
        "AIRFLOW_CONN_LD_WRONG_TOKEN", connection_json(emulator.base_url, token=WRONG_TOKEN, timeout=5)
    )
    for name, value in VARIABLES.items():
        monkeypatch.setenv(f"AIRFLOW_VAR_{name.upper()}", value)
    yield emulator
    for call in emulator.calls_to():
        if call.status != 401:
            validate_call(unwrap_comment_envelope(call))


def secrets_dag():
    """Every secret field the example DAGs do not use: Azure, mParticle, ClickHouse, a rotated write key."""
    from airflow.sdk import DAG

    var = "{{{{ var.value.{} }}}}".format
    keys = {"project_key": "secret-project", "environment_key": "production"}
    with DAG("reliability_secrets", start_date=datetime(2026, 1, 1), schedule=None, catchup=False) as dag:
        azure = LaunchDarklyCreateDestinationOperator(
            task_id="create_azure",
            kind="azure-event-hubs",
            name="hub",
            **keys,
            config={
                "namespace": "ns",
                "name": "hub",
                "policyName": "send",
                "policyKey": var("ld_azure_policy_key"),
            },
        )
        LaunchDarklyCreateDestinationOperator(
            task_id="create_mparticle",
            kind="mparticle",
            name="mp",
            on=True,
            **keys,
            config={
                "apiKey": var("ld_mparticle_api_key"),
                "secret": var("ld_mparticle_secret"),
                "environment": "production",
                "userIdentity": "customer_id",
            },
        )
        LaunchDarklyWarehouseSetupOperator(
            task_id="setup_clickhouse",
            kind="clickhouse",
            **keys,
            setup={
                "name": "ch",
                "endpoint": "https://ch.example.com:8443",
                "clickHouseUserName": "ld",
                "clickHousePassword": var("ld_clickhouse_password"),
            },
        )
        segment = LaunchDarklyCreateDestinationOperator(
            task_id="create_segment",
            kind="segment",
            name="events",
            **keys,
            config={"writeKey": var("launchdarkly_segment_write_key")},
        )
        rotate = LaunchDarklyUpdateDestinationOperator(
            task_id="rotate_segment_key",
            name="events",
            kind="segment",
            comment="rotate",
            rotate_secrets=True,
            **keys,
            config={"writeKey": var("ld_segment_write_key_rotated")},
        )
        turn_on = LaunchDarklyToggleDestinationOperator(
            task_id="turn_on_azure", name="hub", kind="azure-event-hubs", on=True, **keys
        )
        configured = LaunchDarklyDestinationConfiguredSensor(
            task_id="wait_for_azure", name="hub", kind="azure-event-hubs", poke_interval=1, timeout=30, **keys
        )
        LaunchDarklyToggleDestinationOperator(  # fails: the token is refused
            task_id="wrong_token",
            name="events",
            kind="segment",
            on=True,
            launchdarkly_conn_id="ld_wrong_token",
            retries=0,
            **keys,
        )
        segment >> rotate
        azure >> turn_on >> configured
    return dag


def register(dag) -> None:
    """Serialise a DAG defined here into the metadata database, so ``dag.test()`` can run it."""
    bag = dagbag_module().DagBag(tempfile.mkdtemp(prefix="reliability-dags-"))
    bag.bag_dag(dag)
    sync_to_db(bag)


def run_rows(runs) -> dict[str, Any]:
    """XCom values, rendered fields and task states of the given runs, read from the metadata database."""
    from airflow.models.renderedtifields import RenderedTaskInstanceFields
    from airflow.models.taskinstance import TaskInstance
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session
    from sqlalchemy import select

    rows: dict[str, Any] = {"xcom": {}, "rendered": {}, "states": {}}
    with create_session() as session:
        for run in runs:
            for row in session.scalars(
                select(XComModel).where(XComModel.run_id == run.run_id, XComModel.dag_id == run.dag_id)
            ):
                rows["xcom"][f"{run.dag_id}.{row.task_id}[{row.map_index}].{row.key}"] = (
                    XComModel.deserialize_value(row)
                )
            for row in session.scalars(
                select(RenderedTaskInstanceFields).where(
                    RenderedTaskInstanceFields.run_id == run.run_id,
                    RenderedTaskInstanceFields.dag_id == run.dag_id,
                )
            ):
                rows["rendered"][f"{run.dag_id}.{row.task_id}[{row.map_index}]"] = row.rendered_fields
            for ti in session.scalars(
                select(TaskInstance).where(
                    TaskInstance.run_id == run.run_id, TaskInstance.dag_id == run.dag_id
                )
            ):
                rows["states"][f"{run.dag_id}.{ti.task_id}[{ti.map_index}]"] = ti.state
    return rows


def airflow_home_files() -> dict[str, bytes]:
    """Every file under AIRFLOW_HOME: task logs if any were written, and the metadata database."""
    home = Path(os.environ["AIRFLOW_HOME"])
    return {str(path.relative_to(home)): path.read_bytes() for path in home.rglob("*") if path.is_file()}


def test_dag_runs_keep_every_secret_out_of_logs_xcom_rendered_fields_and_the_database(
    airflow_db, dagbag, secret_emulator, capfd, caplog
):
    emulator = secret_emulator
    caplog.set_level(logging.DEBUG)
    emulator.add_destination(
        "demo-project",
        "production",
        kind="segment",
        name="segment-events",
        config={"writeKey": VARIABLES["launchdarkly_segment_write_key"]},
        on=True,
    )
    custom = secrets_dag()
    register(custom)
    onboarding = dagbag.get_dag("example_launchdarkly_onboarding")
    toggle = dagbag.get_dag("example_launchdarkly_scheduled_toggle")
    runs = [onboarding.test(), toggle.test(run_conf={"window_minutes": 0}), custom.test()]
    captured = capfd.readouterr()

    # The secrets really travelled: the emulator holds them, so the scan below is not vacuous.
    stored = json.dumps(emulator.stored_destinations)
    for name in (
        "ld_azure_policy_key",
        "ld_mparticle_api_key",
        "ld_mparticle_secret",
        "ld_segment_write_key_rotated",
    ):
        assert VARIABLES[name] in stored
    setup_call = next(c for c in emulator.calls_to("POST") if c.path.endswith("/kinds/clickhouse/setup"))
    assert setup_call.json()["clickHousePassword"] == VARIABLES["ld_clickhouse_password"]
    assert any(c.status == 401 for c in emulator.calls_to()), (
        "the wrong token reached the API and was refused"
    )

    rows = run_rows(runs)
    assert [run.state for run in runs] == ["success", "success", "failed"]
    failed = {task for task, state in rows["states"].items() if state != "success"}
    assert failed == {"reliability_secrets.wrong_token[-1]"}
    assert "LaunchDarklyAuthError" in captured.out + captured.err + caplog.text, "the failure was logged"

    rendered = rows["rendered"]
    assert rendered["reliability_secrets.create_azure[-1]"]["config"]["policyKey"] == "***"
    assert rendered["reliability_secrets.setup_clickhouse[-1]"]["setup"]["clickHousePassword"] == "***"
    assert rendered["example_launchdarkly_onboarding.create_segment_destination[-1]"]["config"] == {
        "writeKey": "***"
    }
    assert rows["xcom"]["reliability_secrets.create_mparticle[-1].return_value"]["destination"]["config"][
        "apiKey"
    ] == ("**********")

    artefacts: dict[str, str | bytes] = {
        "stdout": captured.out,
        "stderr": captured.err,
        "log records": "\n".join(f"{r.name} {r.getMessage()} {r.exc_text or ''}" for r in caplog.records),
        **{f"xcom {key}": json.dumps(value, default=str) for key, value in rows["xcom"].items()},
        **{f"rendered {key}": json.dumps(value, default=str) for key, value in rendered.items()},
        **{f"file {name}": content for name, content in airflow_home_files().items()},
        **{
            f"repr {dag.dag_id}.{task.task_id}": repr(task) + repr(vars(task))
            for dag in (onboarding, toggle, custom)
            for task in dag.tasks
        },
    }
    assert len(rows["xcom"]) > 40 and len(rendered) >= 20
    assert leaks(artefacts) == []


def test_exceptions_reprs_and_models_never_show_a_secret(secret_emulator, monkeypatch):
    emulator = secret_emulator
    with LaunchDarklyHook() as hook:
        created = hook.create_destination(
            "p",
            "e",
            kind="mparticle",
            name="mp",
            config={
                "apiKey": VARIABLES["ld_mparticle_api_key"],
                "secret": VARIABLES["ld_mparticle_secret"],
                "environment": "production",
                "userIdentity": "id",
            },
        )
        listed = hook.list_destinations()
        shown = [
            repr(hook),
            repr(vars(hook)),
            repr(hook.settings),
            str(hook.settings),
            repr(created),
            str(created),
            json.dumps(created.to_dict()),
            repr(listed),
            repr(hook.retry_policy),
        ]

    errors: list[LaunchDarklyError] = []
    with pytest.raises(LaunchDarklyAuthError) as info:
        LaunchDarklyHook("ld_wrong_token").get_caller_identity()
    errors.append(info.value)
    for config in (
        {"writeKey": 12345, "writekey": VARIABLES["launchdarkly_segment_write_key"]},  # misspelt secret field
        {"writeKey": [VARIABLES["launchdarkly_segment_write_key"]]},  # mistyped secret
    ):
        with pytest.raises(LaunchDarklyValidationError) as info:
            LaunchDarklyHook().create_destination("p", "e", kind="segment", config=config)
        errors.append(info.value)
    monkeypatch.setenv(
        "AIRFLOW_CONN_LD_BAD_HOST", connection_json(f"http://user:{TOKEN}@127.0.0.1:1", token=TOKEN)
    )
    with pytest.raises(LaunchDarklyValidationError) as info:
        LaunchDarklyHook("ld_bad_host").get_caller_identity()
    errors.append(info.value)
    shown += [str(error) + repr(error) + repr(error.__reduce__()) for error in errors]

    trigger = LaunchDarklyDestinationConfiguredTrigger(
        project_key="p", environment_key="e", destination_id=created.id, require_on=False, end_time=4e9
    )

    async def events():
        return [event async for event in trigger.run()]

    (event,) = asyncio.run(events())
    assert event.payload["status"] == "success"
    shown += [
        repr(trigger),
        json.dumps(trigger.serialize()),
        json.dumps(event.payload),
        repr(LaunchDarklyAsyncHook()),
    ]
    assert leaks({f"shown {index}": text for index, text in enumerate(shown)}) == []
    assert len(emulator.destinations) == 1


def test_the_emulator_logs_and_records_no_token(secret_emulator, caplog):
    emulator = secret_emulator
    caplog.set_level(logging.DEBUG, logger="airflow_provider_ld.testing.emulator")
    with LaunchDarklyHook() as hook:
        hook.get_caller_identity()
        hook.create_destination(
            "p", "e", kind="segment", config={"writeKey": VARIABLES["launchdarkly_segment_write_key"]}
        )
    with pytest.raises(LaunchDarklyAuthError):
        LaunchDarklyHook("ld_wrong_token").list_destinations()
    calls = emulator.calls_to()
    assert [call.status for call in calls] == [200, 201, 401]
    assert all(call.headers["authorization"] == "<redacted>" for call in calls)
    emulator_logs = [
        r.getMessage() for r in caplog.records if r.name.startswith("airflow_provider_ld.testing")
    ]
    assert emulator_logs, "the emulator logged each request line at DEBUG"
    artefacts = {
        "emulator logs": "\n".join(emulator_logs),
        "call summaries": json.dumps([call.summary() for call in calls]),
        "call headers": json.dumps([call.headers for call in calls]),
        "emulator repr": repr(emulator),
    }
    assert leaks(artefacts) == []


# The token goes only to the configured base URL, and only over HTTPS unless the host is loopback.


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
@pytest.mark.parametrize("method", ["GET", "POST"])
def test_no_redirect_is_followed_to_another_host(
    status, method, secret_emulator, launchdarkly_emulator_factory
):
    emulator = secret_emulator
    elsewhere = launchdarkly_emulator_factory(token=TOKEN)  # another origin that would accept the token
    path = "/api/v2/caller-identity" if method == "GET" else "/api/v2/destinations/p/e"
    location = f"{elsewhere.base_url}{path}"
    emulator.inject_fault(method, path, status=status, headers={"Location": location}, times=2)

    def sync_call():
        with LaunchDarklyHook() as hook:
            if method == "GET":
                return hook.get_caller_identity()
            return hook.create_destination("p", "e", kind="segment", config={"writeKey": "wk-1234567"})

    async def async_call():
        async with LaunchDarklyAsyncHook() as hook:
            return await hook.get_caller_identity()

    calls = [sync_call] + ([lambda: asyncio.run(async_call())] if method == "GET" else [])
    for call in calls:
        with pytest.raises(LaunchDarklyError) as info:
            call()
        assert info.value.status_code == status
        assert MARKER not in str(info.value)
    assert elsewhere.calls_to() == [], "the other host never saw a request, so never the token"
    assert len(emulator.calls_to()) == len(calls), "one request each, not retried"


@pytest.mark.parametrize(
    "host",
    [
        "http://localhost.evil.example:8765",
        "http://127.0.0.1.nip.io:8765",
        "http://0.0.0.0:8765",
        "http://[::]:8765",
        "http://192.168.1.10",
        "http://127.0.0.1@evil.example",
    ],
)
@pytest.mark.parametrize("client", ["sync", "async"])
def test_plain_http_is_refused_for_any_host_that_is_not_loopback(host, client, monkeypatch):
    monkeypatch.setenv("AIRFLOW_CONN_LAUNCHDARKLY_DEFAULT", connection_json(host, token=TOKEN))

    def refuse(*args, **kwargs):
        raise AssertionError("a connection was attempted")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)

    async def async_call():
        async with LaunchDarklyAsyncHook() as hook:
            await hook.get_caller_identity()

    with pytest.raises(LaunchDarklyValidationError) as info:
        LaunchDarklyHook().get_caller_identity() if client == "sync" else asyncio.run(async_call())
    assert info.value.field == "host"
    assert MARKER not in str(info.value)
