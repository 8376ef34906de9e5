"""
End-to-end walkthrough against the bundled LaunchDarkly API emulator (no account needed).

Run with ``make demo``. It starts the emulator on a free loopback port, points the
``launchdarkly_default`` connection at it through ``AIRFLOW_CONN_LAUNCHDARKLY_DEFAULT``, and drives
every kind of call the provider makes, printing what happened.
"""

from __future__ import annotations

import json
import os
import tempfile

os.environ.setdefault("AIRFLOW_HOME", tempfile.mkdtemp(prefix="ld-demo-airflow-home-"))
os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")

from airflow_provider_ld.hooks.launchdarkly import LaunchDarklyHook  # noqa: E402
from airflow_provider_ld.testing import LaunchDarklyEmulator  # noqa: E402

TOKEN = "demo-token-0123456789"
PROJECT, ENVIRONMENT = "demo-project", "production"


def step(text: str) -> None:
    print(f"\n== {text}")


def main() -> None:
    with LaunchDarklyEmulator(token=TOKEN) as emulator:
        os.environ["AIRFLOW_CONN_LAUNCHDARKLY_DEFAULT"] = json.dumps(
            {"conn_type": "launchdarkly", "host": emulator.base_url, "password": TOKEN}
        )
        print(f"LaunchDarkly API emulator at {emulator.base_url}")
        with LaunchDarklyHook() as hook:
            step("Check the connection")
            print(hook.test_connection()[1])

            step("Create a Segment destination (the write key never shows in output)")
            segment = hook.create_destination(
                PROJECT, ENVIRONMENT, kind="segment", name="Segment events", config={"writeKey": "demo-write-key"}
            )
            print(json.dumps(segment.to_dict(), indent=2))

            step("Turn it on with a minimal, version-guarded JSON Patch")
            segment, changed = hook.update_destination(PROJECT, ENVIRONMENT, segment.id, on=True)
            print(f"changed={changed} on={segment.on} version={segment.version}")
            segment, changed = hook.update_destination(PROJECT, ENVIRONMENT, segment.id, on=True)
            print(f"again: changed={changed} (no request sent)")

            step("Guided Snowflake setup: script to run in the warehouse, then complete")
            script = hook.generate_warehouse_setup_script(
                PROJECT, ENVIRONMENT, "snowflake-v2", {"snowflakeHostAddress": "acme.snowflakecomputing.com"}
            )
            print("\n".join(script.script.splitlines()[:6]) + "\n...")
            snowflake = hook.complete_warehouse_setup(PROJECT, ENVIRONMENT, "snowflake-v2", script.public_key)
            print(f"completed destination {snowflake.id} kind={snowflake.kind} on={snowflake.on}")

            step("Destinations in the environment")
            for destination in hook.list_destinations(PROJECT, ENVIRONMENT):
                print(f"- {destination.id} {destination.kind:<13} on={destination.on} name={destination.name!r}")

            step("Delete the Segment destination")
            hook.delete_destination(PROJECT, ENVIRONMENT, segment.id)
            print(f"{len(hook.list_destinations(PROJECT, ENVIRONMENT))} destination(s) left")

        calls = emulator.calls_to()
        print(f"\n{len(calls)} API calls made; token sent raw in Authorization, never printed.")


if __name__ == "__main__":
    main()
