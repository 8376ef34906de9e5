"""
Run the onboarding example DAG end to end against the bundled LaunchDarkly API emulator.

``make demo`` runs this: it creates a throw-away Airflow home with a SQLite database, starts the
emulator on a free loopback port (no LaunchDarkly account needed), points ``launchdarkly_default``
at it, runs ``airflow dags test example_launchdarkly_onboarding`` (the deferrable sensor included),
and prints what happened on the API side.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DAG_ID = "example_launchdarkly_onboarding"
TOKEN = "demo-token-0123456789"
WRITE_KEY = "demo-SECRET-segment-write-key"


def airflow_env(home: str, base_url: str) -> dict[str, str]:
    """The environment of the Airflow commands: a private home, the example DAGs, the emulator connection."""
    return {
        **os.environ,
        "AIRFLOW_HOME": home,
        "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "example_dags"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW_CONN_LAUNCHDARKLY_DEFAULT": json.dumps(
            {"conn_type": "launchdarkly", "host": base_url, "password": TOKEN}
        ),
        "AIRFLOW_VAR_LAUNCHDARKLY_SEGMENT_WRITE_KEY": WRITE_KEY,
    }


def run(args: list[str], env: dict[str, str], log: Path) -> int:
    with log.open("a") as handle:
        return subprocess.run(args, env=env, stdout=handle, stderr=subprocess.STDOUT, check=False).returncode


def provider_log_lines(text: str) -> list[str]:
    """The messages this provider's operators, sensor and trigger logged, without timestamps."""
    messages = []
    for line in text.splitlines():
        if "airflow_provider_ld." not in line or "] " not in line:
            continue
        message = line.split("] ", 1)[1].rsplit(" [", 1)[0].strip()
        if message and not message.startswith("loc="):
            messages.append(message.split(": http", 1)[0])
    return messages


def report(emulator, log: Path, returncode: int) -> None:
    calls = emulator.calls_to()
    text = log.read_text()
    print("\nWhat the tasks did:")
    for message in provider_log_lines(text):
        print(f"  {message}")
    print(f"\nairflow dags test {DAG_ID}: {'succeeded' if returncode == 0 else 'FAILED'} (log: {log})")
    print(f"\n{len(calls)} LaunchDarkly API calls:")
    counts: dict[tuple[str, str, int | None], int] = {}
    for call in calls:
        route = "/".join(call.path.split("/")[:4]) + ("/..." if call.path.count("/") > 3 else "")
        key = (call.method, route, call.status)
        counts[key] = counts.get(key, 0) + 1
    for (method, route, status), count in sorted(counts.items(), key=str):
        print(f"  {count:3d} x {method:<6} {route:<40} -> {status}")
    print("\nDestinations now in the emulator:")
    for destination in emulator.destinations:
        environment = destination["_links"]["self"]["href"].split("/")[5]
        print(
            f"  {environment:<11} {destination['kind']:<13} {destination['name']:<17} on={destination['on']}"
        )
    leaked = [secret for secret in (TOKEN, WRITE_KEY) if secret in text]
    print(
        f"\nSecrets in the task logs: {'LEAKED ' + ', '.join(leaked) if leaked else 'none (token and write key masked)'}"
    )


def main() -> int:
    sys.path.insert(0, str(ROOT))
    from airflow_provider_ld.testing import LaunchDarklyEmulator

    home = tempfile.mkdtemp(prefix="ld-demo-airflow-home-")
    log = Path(home) / "demo.log"
    airflow = str(Path(sys.executable).parent / "airflow")
    with LaunchDarklyEmulator(token=TOKEN, setup_delay=3.0) as emulator:
        print(f"LaunchDarkly API emulator at {emulator.base_url}; Airflow home {home}")
        env = airflow_env(home, emulator.base_url)
        print("Creating the Airflow metadata database ...")
        if run([airflow, "db", "migrate"], env, log) != 0:
            print(log.read_text()[-3000:])
            return 1
        print('Creating the "launchdarkly" pool the example DAGs use ...')
        if run([airflow, "pools", "set", "launchdarkly", "4", "LaunchDarkly API calls"], env, log) != 0:
            print(log.read_text()[-3000:])
            return 1
        # Airflow 3.0 and 3.1's `dags test` runs what the DAG processor stored: without it, the DAG's
        # assets are unknown there and the task declaring one fails.
        print("Serialising the example DAGs into the metadata database ...")
        if run([airflow, "dags", "reserialize"], env, log) != 0:
            print(log.read_text()[-3000:])
            return 1
        print(f"Running {DAG_ID} with airflow dags test (the sensor defers until the setup completes) ...")
        returncode = run([airflow, "dags", "test", DAG_ID], env, log)
        report(emulator, log, returncode)
    return returncode


if __name__ == "__main__":
    sys.exit(main())
