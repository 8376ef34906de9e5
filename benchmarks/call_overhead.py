"""
Section 2: what one ``LaunchDarklyHook`` call costs on top of the HTTP request it sends.

The emulator runs in another process (loopback, keep-alive). Three clients make the same calls, each with
one reused connection pool:

- ``hook``: ``LaunchDarklyHook.get_destination`` / ``list_destinations`` (request building, checks, retry
  policy, pydantic models);
- ``bare``: the baseline, a ``requests.Session`` sending the same headers, ``raise_for_status()`` and
  ``.json()``;
- ``launchdarkly_api``: the official generated client (urllib3 + pydantic models), same calls.

The clients take turns call by call (the order rotating), ``CALLS`` calls each per operation, and every call
is timed on its own, so a burst of load from elsewhere on the machine hits all clients alike; reported are
the medians of the per-call wall time and of this process's CPU time per call (the client-side cost alone,
without the emulator's).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from typing import Any

from benchmarks._common import CONN_ID, TOKEN, EmulatorProcess, median, ratio, set_connection, write_result

CALLS = 600
LISTED = 20


def _timed(call: Callable[[], Any]) -> tuple[float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    call()
    return time.perf_counter() - wall, time.process_time() - cpu


def run() -> dict[str, Any]:
    import requests

    from airflow_provider_ld.api.calls import USER_AGENT
    from airflow_provider_ld.hooks.launchdarkly import LaunchDarklyHook

    with EmulatorProcess() as emulator:
        created = emulator.add_destination("bench", "production", kind="segment", name="events")
        emulator.add_destinations(
            [[["bench", f"env-{i}"], {"kind": "google-pubsub", "name": f"d{i}"}] for i in range(LISTED - 1)]
        )
        destination_id = created["_id"]
        set_connection(emulator.base_url)
        base = emulator.base_url

        hook = LaunchDarklyHook(CONN_ID)
        session = requests.Session()
        session.trust_env = False
        session.headers.update(
            {
                "Authorization": TOKEN,
                "LD-API-Version": "20240415",
                "User-Agent": USER_AGENT,
                "Accept": "application/json",
            }
        )
        one_url = f"{base}/api/v2/destinations/bench/production/{destination_id}"
        list_url = f"{base}/api/v2/destinations"

        def bare_get(url: str) -> Any:
            response = session.get(url, timeout=30, allow_redirects=False)
            response.raise_for_status()
            return response.json()

        clients: dict[str, dict[str, Callable[[], Any]]] = {
            "hook": {
                "get_destination": lambda: hook.get_destination("bench", "production", destination_id),
                "list_destinations": lambda: hook.list_destinations(),
            },
            "bare": {
                "get_destination": lambda: bare_get(one_url),
                "list_destinations": lambda: bare_get(list_url),
            },
        }
        ld_api_note = None
        try:
            import launchdarkly_api
            from launchdarkly_api.api.data_export_destinations_api import DataExportDestinationsApi

            configuration = launchdarkly_api.Configuration(host=base)
            configuration.api_key["ApiKey"] = TOKEN
            api = DataExportDestinationsApi(launchdarkly_api.ApiClient(configuration))
            api.get_destination("bench", "production", destination_id)
            clients["launchdarkly_api"] = {
                "get_destination": lambda: api.get_destination("bench", "production", destination_id),
                "list_destinations": lambda: api.get_destinations(),
            }
            api.get_destinations()
        except Exception as err:  # not installed, or it cannot read the emulator's answers
            ld_api_note = f"launchdarkly-api not measured: {type(err).__name__}: {err}"[:300]
            clients.pop("launchdarkly_api", None)

        for calls in clients.values():  # warm-up: connections, lazy imports, caches
            for call in calls.values():
                for _ in range(20):
                    call()

        samples: dict[str, dict[str, list[tuple[float, float]]]] = {
            name: {op: [] for op in calls} for name, calls in clients.items()
        }
        names = list(clients)
        for op in ("get_destination", "list_destinations"):
            for index in range(CALLS):
                shift = index % len(names)
                for name in names[shift:] + names[:shift]:
                    samples[name][op].append(_timed(clients[name][op]))
        hook.close()
        session.close()

    results: dict[str, Any] = {"calls_per_client_and_operation": CALLS, "listed_destinations": LISTED}
    for name, ops in samples.items():
        results[name] = {
            op: {
                "wall_ms_per_call": 1000 * median([wall for wall, _ in timings]),
                "cpu_ms_per_call": 1000 * median([cpu for _, cpu in timings]),
            }
            for op, timings in ops.items()
        }
    for name in clients:
        if name == "bare":
            continue
        results[name]["ratio_vs_bare"] = {
            op: {
                key: ratio(results[name][op][key], results["bare"][op][key])
                for key in ("wall_ms_per_call", "cpu_ms_per_call")
            }
            for op in ("get_destination", "list_destinations")
        }
    if ld_api_note:
        results["launchdarkly_api_note"] = ld_api_note
    return results


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out")
    args = parser.parse_args()
    write_result(args.out, run())
    return 0


if __name__ == "__main__":
    sys.exit(main())
