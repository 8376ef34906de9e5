"""
Section 3: how many API requests each operation sends, counted from the emulator's recorded calls.

Every case runs the real operator (``execute``) or sensor (``poke``) against a fresh emulator state and
counts the API calls the emulator recorded. Beside each count is the theoretical minimum: the fewest
requests the LaunchDarkly API allows for that outcome given only the task's arguments, and a note where the
provider sends more (and why).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import Any

from benchmarks._common import CONN_ID, TOKEN, set_connection, write_result

KEYS = {"project_key": "bench", "environment_key": "production", "launchdarkly_conn_id": CONN_ID}
SEGMENT = {"writeKey": "bench-write-key"}


class _TI:
    """Just enough of a task instance for ``xcom_push`` (the link URL)."""

    def xcom_push(self, key: str, value: Any) -> None:
        pass


def _cases(emulator: Any) -> list[tuple[str, Callable[[], Any], Callable[[], Any], int, str]]:
    from airflow_provider_ld.operators.destinations import (
        LaunchDarklyCompleteWarehouseSetupOperator,
        LaunchDarklyCreateDestinationOperator,
        LaunchDarklyDeleteDestinationOperator,
        LaunchDarklyToggleDestinationOperator,
        LaunchDarklyUpdateDestinationOperator,
        LaunchDarklyWarehouseSetupOperator,
    )
    from airflow_provider_ld.sensors.destinations import LaunchDarklyDestinationConfiguredSensor

    context = {"ti": _TI()}
    state: dict[str, Any] = {}

    def seed(on: bool = False) -> None:
        state["id"] = emulator.add_destination(
            "bench", "production", kind="segment", name="events", config=SEGMENT, on=on
        )["_id"]

    def nothing() -> None:
        pass

    def create() -> Any:
        return LaunchDarklyCreateDestinationOperator(
            task_id="create", kind="segment", name="events", config=SEGMENT, **KEYS
        ).execute(context)

    def update(config: dict[str, str]) -> Callable[[], Any]:
        return lambda: LaunchDarklyUpdateDestinationOperator(
            task_id="update", destination_id=state["id"], config=config, kind="segment", **KEYS
        ).execute(context)

    def toggle_by_id(on: bool) -> Callable[[], Any]:
        return lambda: LaunchDarklyToggleDestinationOperator(
            task_id="toggle", destination_id=state["id"], on=on, **KEYS
        ).execute(context)

    def toggle_by_name() -> Any:
        return LaunchDarklyToggleDestinationOperator(
            task_id="toggle", name="events", kind="segment", on=True, **KEYS
        ).execute(context)

    def delete_by_id() -> Any:
        return LaunchDarklyDeleteDestinationOperator(
            task_id="delete", destination_id=state["id"], **KEYS
        ).execute(context)

    def poke_by_id() -> Any:
        return LaunchDarklyDestinationConfiguredSensor(
            task_id="wait", destination_id=state["id"], require_on=False, **KEYS
        ).poke(context)

    def poke_by_name() -> Any:
        return LaunchDarklyDestinationConfiguredSensor(
            task_id="wait", name="events", kind="segment", require_on=False, **KEYS
        ).poke(context)

    def onboarding() -> Any:
        started = LaunchDarklyWarehouseSetupOperator(
            task_id="setup", kind="snowflake-v2", setup={"name": "warehouse"}, **KEYS
        ).execute(context)
        LaunchDarklyCompleteWarehouseSetupOperator(
            task_id="complete",
            kind="snowflake-v2",
            name="warehouse",
            public_key=started["setup"]["publicKey"],
            **KEYS,
        ).execute(context)
        done = LaunchDarklyDestinationConfiguredSensor(
            task_id="wait", name="warehouse", kind="snowflake-v2", require_on=False, **KEYS
        ).poke(context)
        assert done.is_done, "the completed destination is visible at once (setup_delay=0)"
        return LaunchDarklyToggleDestinationOperator(
            task_id="turn_on", name="warehouse", kind="snowflake-v2", on=True, **KEYS
        ).execute(context)

    lookup = "a lookup by name (GET list) first, so a retried task adopts instead of creating a duplicate"
    return [
        (
            "create (fresh)",
            nothing,
            create,
            1,
            (
                f"{lookup}; the API has no create-if-absent, so a second lookup after the POST settles a race "
                "with another creator"
            ),
        ),
        ("create (already exists)", seed, create, 1, ""),
        (
            "update by id (changed)",
            seed,
            update({"writeKey": "rotated"}),
            1,
            "reads first to send the minimal, version-guarded patch (no lost update); a blind PATCH needs 1",
        ),
        ("update by id (unchanged)", seed, update(SEGMENT), 1, ""),
        (
            "toggle by id (changed)",
            seed,
            toggle_by_id(True),
            1,
            "reads first so an unchanged state sends no PATCH; a blind version-less PATCH needs 1",
        ),
        ("toggle by id (unchanged)", lambda: seed(on=True), toggle_by_id(True), 1, ""),
        ("toggle by name (changed)", seed, toggle_by_name, 2, ""),
        (
            "delete by id",
            seed,
            delete_by_id,
            1,
            "reads first to report what was deleted; a bare DELETE (404 = already gone) needs 1",
        ),
        ("sensor poke by id", seed, poke_by_id, 1, ""),
        ("sensor poke by name", seed, poke_by_name, 1, ""),
        (
            "onboarding one environment (setup, complete, sensor, toggle)",
            nothing,
            onboarding,
            4,
            (
                "setup looks up an existing destination first (re-runs adopt), and the toggle finds the "
                "destination by name instead of taking the id from complete's XCom"
            ),
        ),
    ]


def run() -> dict[str, Any]:
    from airflow_provider_ld.testing import LaunchDarklyEmulator

    rows = []
    with LaunchDarklyEmulator(token=TOKEN, setup_delay=0) as emulator:
        set_connection(emulator.base_url)
        for name, prepare, action, minimum, note in _cases(emulator):
            emulator.reset()
            prepare()
            action()
            calls = emulator.calls_to()
            rows.append(
                {
                    "operation": name,
                    "requests": len(calls),
                    "minimum": minimum,
                    "calls": [f"{call.method} {call.status}" for call in calls],
                    "note": note if len(calls) != minimum else "",
                }
            )
    return {"rows": rows}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out")
    args = parser.parse_args()
    write_result(args.out, run())
    return 0


if __name__ == "__main__":
    sys.exit(main())
