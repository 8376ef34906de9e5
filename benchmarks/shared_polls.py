"""
Section 7: a thousand deferred sensors on one connection, shared polls against per-trigger polling.

``TRIGGERS`` ``LaunchDarklyDestinationConfiguredTrigger`` instances wait by id in one asyncio loop, each
consumed as the triggerer does (``async for event in trigger.run()`` in its own task), against the emulator
in another process. Their destinations exist but are off; each is switched on at a random moment within
``READY_AFTER`` seconds of the start (destinations becoming configured over time), so most triggers are
checked several times before they fire. Two variants wait on the same destinations, each in a fresh process
after the same warm-up:

- ``shared``: the package as it is. The triggers of the loop share one poller for the connection: one
  ``GET /api/v2/destinations`` per round (``triggers/shared_polls.py``).
- ``per_trigger``: the behaviour before shared polls: the same trigger class, its ``run()`` replaced by the
  former per-trigger loop (one ``GET`` by id per trigger per interval, the same hook and readiness rules).

Measured per variant: requests per minute (API calls the emulator answered, over the run), the most
requests within one poll interval, triggerer CPU per sensor per interval (process CPU over the sum of every
trigger's waiting time divided by the interval), memory per trigger (peak RSS during the wait minus RSS
before the triggers were built, divided by their number), the event loop's worst lag (a ticker that sleeps
10 ms and records how late it wakes).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import subprocess
import sys
import time
from typing import Any

from benchmarks._common import (
    CONN_ID,
    ROOT,
    EmulatorProcess,
    connection_env,
    percentile,
    ratio,
    rss_kb,
    write_result,
)

TRIGGERS = 1000
POLL_INTERVAL = 5.0
READY_AFTER = (1.0, 25.0)
DEADLINE = 90.0
TICK = 0.01
PROJECTS = 10
MARKER = "@@bench@@ "


def _per_trigger_class() -> type:
    """The trigger with the per-trigger polling loop it had before shared polls."""
    from airflow.triggers.base import TriggerEvent

    from airflow_provider_ld.exceptions import LaunchDarklyNotFoundError
    from airflow_provider_ld.hooks.launchdarkly_async import LaunchDarklyAsyncHook
    from airflow_provider_ld.triggers.destinations import LaunchDarklyDestinationConfiguredTrigger

    class PerTriggerPolling(LaunchDarklyDestinationConfiguredTrigger):
        async def run(self):  # type: ignore[override]
            hook = LaunchDarklyAsyncHook(self.launchdarkly_conn_id)
            self._started, checks = time.time(), 0
            try:
                while True:
                    checks += 1
                    try:
                        try:
                            found = await hook.get_destination(
                                self.project_key, self.environment_key, str(self.destination_id)
                            )
                        except LaunchDarklyNotFoundError:
                            found = None
                        outcome = self._decide(found, checks)
                    except Exception as err:
                        outcome = self._fail(err, checks)
                    if isinstance(outcome, dict):
                        break
                    remaining = self.end_time - time.time()
                    if remaining <= 0:
                        outcome = self._timed_out(checks, outcome)
                        break
                    await asyncio.sleep(min(self.poll_interval, remaining))
            finally:
                await hook.aclose()
            yield TriggerEvent(outcome)

    return PerTriggerPolling


async def _ticker(stop: asyncio.Event, lags: list[float], rss: list[int]) -> None:
    loop = asyncio.get_running_loop()
    samples = 0
    while not stop.is_set():
        before = loop.time()
        await asyncio.sleep(TICK)
        lags.append(loop.time() - before - TICK)
        samples += 1
        if samples % 5 == 0:
            rss.append(rss_kb())


async def _wait(variant: str, targets: list[list[str]], end_time: float) -> list[tuple[str, float, str]]:
    """Run one trigger per target to its end; return each one's status and seconds waited."""
    from airflow_provider_ld.triggers.destinations import LaunchDarklyDestinationConfiguredTrigger

    cls = _per_trigger_class() if variant == "per_trigger" else LaunchDarklyDestinationConfiguredTrigger
    triggers = [
        cls(
            project_key=project,
            environment_key=environment,
            destination_id=destination_id,
            launchdarkly_conn_id=CONN_ID,
            poll_interval=POLL_INTERVAL,
            end_time=end_time,
        )
        for project, environment, destination_id in targets
    ]
    rng = random.Random(7)

    async def consume(trigger: Any, delay: float) -> tuple[str, float, str]:
        await asyncio.sleep(delay)  # deferred at different moments within the first interval
        started = time.perf_counter()
        async for event in trigger.run():
            return event.payload["status"], time.perf_counter() - started, event.payload["message"]
        return (
            "none",
            0.0,
        )

    delays = [0.0] if len(triggers) == 1 else [rng.uniform(0, POLL_INTERVAL) for _ in triggers]
    return list(await asyncio.gather(*(consume(t, d) for t, d in zip(triggers, delays))))


async def _measure(variant: str, targets: list[list[str]]) -> dict[str, Any]:
    await _wait(variant, targets[:1], time.time() + DEADLINE)  # warm-up: loads every module
    import gc

    gc.collect()
    print(MARKER + "ready", flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
    rss_before = rss_kb()
    lags: list[float] = []
    rss_samples: list[int] = []
    stop = asyncio.Event()
    ticker = asyncio.create_task(_ticker(stop, lags, rss_samples))
    await asyncio.sleep(0.1)
    cpu_before, started = time.process_time(), time.perf_counter()
    results = await _wait(variant, targets[1:], time.time() + DEADLINE)
    cpu, elapsed = time.process_time() - cpu_before, time.perf_counter() - started
    rss_samples.append(rss_kb())
    stop.set()
    await ticker
    statuses: dict[str, int] = {}
    for status, _, _ in results:
        statuses[status] = statuses.get(status, 0) + 1
    failures = sorted({message for status, _, message in results if status != "success"})[:3]
    sensor_intervals = sum(waited for _, waited, _ in results) / POLL_INTERVAL
    return {
        "triggers": len(results),
        "events": statuses,
        "failures": failures,
        "elapsed_s": elapsed,
        "cpu_s": cpu,
        "sensor_intervals": sensor_intervals,
        "cpu_us_per_sensor_per_interval": 1e6 * cpu / sensor_intervals,
        "kb_per_trigger": (max(rss_samples) - rss_before) / len(results),
        "loop_lag_max_ms": 1000 * max(lags),
        "loop_lag_p99_ms": 1000 * percentile(lags, 0.99),
    }


def _variant_main(variant: str, base_url: str) -> int:
    targets = json.loads(sys.stdin.readline())
    os.environ.update(connection_env(base_url, timeout=30))
    result = asyncio.run(_measure(variant, targets))
    print(MARKER + json.dumps(result), flush=True)
    return 0


def _run_variant(emulator: EmulatorProcess, variant: str) -> dict[str, Any]:
    emulator.reset()
    warm = emulator.add_destination("bench", "warm", kind="segment", name="warm", on=True)
    created = emulator.add_destinations(
        [
            [[f"proj-{i % PROJECTS}", f"env-{i}"], {"kind": "segment", "name": f"d{i}"}]
            for i in range(TRIGGERS)
        ]
    )
    targets = [["bench", "warm", warm["_id"]]] + [
        [*item["_links"]["self"]["href"].split("/")[4:6], item["_id"]] for item in created
    ]
    child = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "benchmarks.shared_polls",
            "--variant",
            variant,
            "--base-url",
            emulator.base_url,
        ],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert child.stdin is not None and child.stdout is not None

    def answer() -> str:
        while True:  # the triggers log to stdout (part of the measured cost); marked lines are ours
            line = child.stdout.readline()
            if not line:
                raise RuntimeError(f"{variant} variant exited early")
            if line.startswith(MARKER):
                return line[len(MARKER) :]

    child.stdin.write(json.dumps(targets) + "\n")
    child.stdin.flush()
    if answer().strip() != "ready":
        raise RuntimeError(f"{variant} variant did not start")
    rng = random.Random(4)
    now = time.time()
    emulator.clear_stats()
    emulator.turn_on_at([[now + rng.uniform(*READY_AFTER), *target] for target in targets[1:]])
    child.stdin.write("go\n")
    child.stdin.flush()
    result = json.loads(answer())
    child.wait(timeout=60)
    reads = [item for item in emulator.timeline() if item[1] == "GET"]
    result["requests"] = len(reads)
    result["inventory_requests"] = sum(1 for item in reads if item[2] == "/api/v2/destinations")
    result["requests_per_minute"] = 60 * len(reads) / result["elapsed_s"]
    result["max_requests_in_one_interval"] = _max_in_window([item[0] for item in reads], POLL_INTERVAL)
    return result


def _max_in_window(times: list[float], window: float) -> int:
    times, best, start = sorted(times), 0, 0
    for end, moment in enumerate(times):
        while moment - times[start] >= window:
            start += 1
        best = max(best, end - start + 1)
    return best


def run() -> dict[str, Any]:
    with EmulatorProcess() as emulator:
        per_trigger = _run_variant(emulator, "per_trigger")
        shared = _run_variant(emulator, "shared")
    keys = (
        "requests_per_minute",
        "max_requests_in_one_interval",
        "cpu_us_per_sensor_per_interval",
        "kb_per_trigger",
        "loop_lag_max_ms",
    )
    return {
        "triggers": TRIGGERS,
        "poll_interval_s": POLL_INTERVAL,
        "ready_after_s": list(READY_AFTER),
        "shared": shared,
        "per_trigger": per_trigger,
        "ratios": {key: ratio(shared[key], per_trigger[key]) for key in keys},
    }


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out")
    parser.add_argument("--variant", choices=("shared", "per_trigger"))
    parser.add_argument("--base-url")
    args = parser.parse_args()
    if args.variant:
        return _variant_main(args.variant, args.base_url)
    write_result(args.out, run())
    return 0


if __name__ == "__main__":
    sys.exit(main())
