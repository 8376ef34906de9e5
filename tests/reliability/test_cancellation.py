"""
Cancellation leaves nothing behind: a killed operator or sensor stops its request and closes its
connections at once, and a cancelled trigger closes its connections (counted at the server).
"""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from airflow_provider_ld.exceptions import LaunchDarklyConnectionError
from airflow_provider_ld.hooks import launchdarkly_async
from airflow_provider_ld.operators.destinations import LaunchDarklyToggleDestinationOperator
from airflow_provider_ld.sensors.destinations import LaunchDarklyDestinationConfiguredSensor
from airflow_provider_ld.triggers.destinations import LaunchDarklyDestinationConfiguredTrigger
from tests.hooks.conftest import connection_json
from tests.reliability.conftest import make_context
from tests.reliability.hostile_server import HostileServer, hang

KEYS = {"project_key": "proj", "environment_key": "prod"}
#: The connections' ``timeout`` in these tests: far longer than any test runs, so no read timeout or attempt
#: deadline can end a request here; only the cancellation under test can.
NEVER = 600
#: How long to wait for something that follows at once from a cancellation (a thread ending, a socket
#: closing). It only turns a broken cancellation into a failure instead of a hang; a correct one never
#: comes near it, however loaded the machine, so it cannot flake.
SAFETY_SECONDS = 60.0


def _until(condition, timeout: float = SAFETY_SECONDS) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.01)


@pytest.mark.parametrize("kind", ["toggle", "sensor"])
def test_on_kill_stops_the_request_in_flight_and_closes_the_connection(monkeypatch, kind):
    with HostileServer(hang()) as server:
        monkeypatch.setenv(
            "AIRFLOW_CONN_LAUNCHDARKLY_DEFAULT", connection_json(server.base_url, token="tok", timeout=NEVER)
        )
        if kind == "toggle":
            task = LaunchDarklyToggleDestinationOperator(
                task_id="t", name="events", kind="segment", on=False, **KEYS
            )
        else:
            task = LaunchDarklyDestinationConfiguredSensor(
                task_id="s", name="events", kind="segment", mode="poke", timeout=600, **KEYS
            )
        outcome: list[BaseException] = []

        def run() -> None:
            try:
                task.execute(make_context())
            except BaseException as err:  # noqa: BLE001 - recorded for the assertion
                outcome.append(err)

        worker = threading.Thread(target=run, daemon=True)
        worker.start()
        _until(lambda: server.requests and server.open_connections == 1)
        # The server never answers and the read timeout is NEVER: the request can only end through on_kill.
        task.on_kill()
        worker.join(timeout=SAFETY_SECONDS)
        assert not worker.is_alive(), "the task kept waiting for the server after on_kill"
        _until(lambda: server.open_connections == 0)
        assert server.accepted == 1, "no new request after the kill"
    (error,) = outcome
    assert isinstance(error, LaunchDarklyConnectionError)
    assert "stopped: the task was killed" in str(error)


@pytest.mark.asyncio
async def test_a_cancelled_trigger_closes_its_connections(monkeypatch):
    with HostileServer(hang()) as server:
        monkeypatch.setenv(
            "AIRFLOW_CONN_LAUNCHDARKLY_DEFAULT", connection_json(server.base_url, token="tok", timeout=NEVER)
        )
        triggers = [
            LaunchDarklyDestinationConfiguredTrigger(
                destination_id=f"d{i}", end_time=time.time() + 600, **KEYS
            )
            for i in range(3)
        ]
        tasks = [asyncio.create_task(anext(trigger.run())) for trigger in triggers]
        loop = asyncio.get_running_loop()
        deadline = loop.time() + SAFETY_SECONDS
        while server.open_connections < 1:
            assert loop.time() < deadline, f"{server.open_connections} connections open"
            await asyncio.sleep(0.01)
        assert server.accepted == 1, "the three triggers share one poll (one inventory request)"
        for task in tasks:
            task.cancel()
        for task in tasks:
            with pytest.raises(asyncio.CancelledError):
                await task
        assert launchdarkly_async._CLIENTS.get(loop, {}) == {}, "the shared client was released and closed"
        deadline = loop.time() + SAFETY_SECONDS
        while server.open_connections:
            assert loop.time() < deadline, f"{server.open_connections} connections still open"
            await asyncio.sleep(0.01)
