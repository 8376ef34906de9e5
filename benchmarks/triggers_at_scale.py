"""
Section 4: many deferred sensors waiting in one triggerer event loop.

``TRIGGERS`` ``LaunchDarklyDestinationConfiguredTrigger`` instances run in one asyncio loop, each consumed
as the triggerer does (``async for event in trigger.run()`` in its own task), against the emulator in
another process. The destinations exist but are off; each is switched on at a random moment 2-6 s after
the start, so every trigger polls several times (``POLL_INTERVAL``) before it fires. Waiters start spread
over the first poll interval, as tasks that defer at different moments would.

Three variants wait on the same destinations in the same run, each in a fresh process (so memory numbers do
not share a heap) after the same warm-up (one complete wait, which loads every module):

- ``ours``: the package as it is, unpatched. Its triggers share one ``httpx.AsyncClient`` per event loop and
  base URL, which keeps ``SHARED_POOL_SIZE`` connections alive and lets at most that many requests be in
  flight (``hooks/launchdarkly_async.py``).
- ``bare_bounded``: the like-for-like baseline. The same waiting written with bare ``httpx`` (one shared
  ``AsyncClient``, GET, ``json.loads``, check ``on``, sleep), its client built with the same
  ``Limits(max_connections=N, max_keepalive_connections=N)`` and the same cap of ``N`` requests in flight
  around ``send``, ``N`` being the package's ``SHARED_POOL_SIZE`` (reported by the ``ours`` run).
- ``bare``: the naive baseline. The same bare loop with httpx's default client settings (up to 100
  connections, 20 of them kept alive, no cap on requests in flight).

Measured per variant: memory per waiter (peak RSS during the wait minus RSS before the waiters were built,
divided by their number), CPU per poll (process CPU seconds over the GETs the emulator answered), the
event loop's worst lag (a ticker that sleeps 10 ms and records how late it wakes), and the TCP connections
the emulator accepted during the run (connection reuse: 1 shared pool should need few).

For ``ours`` and ``bare_bounded`` CPU per poll is also split in two: right after the run the same waiters run
again, now that every destination is on, so each polls once and fires; that CPU per waiter is the fixed cost
of a trigger's life (start, connection read, one poll, event). The marginal CPU of each further poll, what a
wait of hours adds poll after poll, is ``(run CPU - waiters x fixed) / (polls - waiters)``; it is reported
only when the run averaged at least two polls per waiter. (The unbounded ``bare`` variant saturates: its loop
lags by seconds and it polls far less often than asked, so the split would measure the saturation rather than
a poll; it is not measured there.)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks._common import (
    CONN_ID,
    ROOT,
    TOKEN,
    EmulatorProcess,
    connection_env,
    percentile,
    ratio,
    rss_kb,
    write_result,
)

TRIGGERS = 500
#: 500 waiters at 1 s offer 500 polls/s, a third of what the emulator serves on this kind of machine (see
#: section 6); at 0.2 s they would offer 2,500/s and measure the emulator instead of the trigger.
POLL_INTERVAL = 1.0
READY_AFTER = (2.0, 6.0)
DEADLINE = 20.0
TICK = 0.01
PROJECTS = 10
#: Variants whose CPU per poll is split into a fixed cost per trigger and the cost of each further poll.
SPLIT_VARIANTS = ("ours", "bare_bounded")
#: Prefix of the lines the measuring child writes for the parent on stdout.
MARKER = "@@bench@@ "


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


async def _wait_ours(targets: list[list[str]], end_time: float) -> list[dict[str, Any]]:
    from airflow_provider_ld.triggers.destinations import LaunchDarklyDestinationConfiguredTrigger

    triggers = [
        LaunchDarklyDestinationConfiguredTrigger(
            project_key=project,
            environment_key=environment,
            destination_id=destination_id,
            require_on=True,
            launchdarkly_conn_id=CONN_ID,
            poll_interval=POLL_INTERVAL,
            end_time=end_time,
        )
        for project, environment, destination_id in targets
    ]

    async def consume(trigger: Any, delay: float) -> dict[str, Any]:
        await asyncio.sleep(delay)
        async for event in trigger.run():
            return event.payload
        return {}

    delays = _start_delays(len(triggers))
    return list(await asyncio.gather(*(consume(trigger, delay) for trigger, delay in zip(triggers, delays))))


def _start_delays(count: int) -> list[float]:
    rng = random.Random(7)
    return [0.0] if count == 1 else [rng.uniform(0, POLL_INTERVAL) for _ in range(count)]


def _bounded_client_class(bound: int) -> type:
    """Return an ``httpx.AsyncClient`` subclass with ``bound`` connections, ``bound`` requests in flight."""
    import httpx

    class BoundedAsyncClient(httpx.AsyncClient):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            kwargs["limits"] = httpx.Limits(max_connections=bound, max_keepalive_connections=bound)
            super().__init__(*args, **kwargs)
            self._in_flight = asyncio.Semaphore(bound)

        async def send(self, request: httpx.Request, **kwargs: Any) -> httpx.Response:
            async with self._in_flight:
                return await super().send(request, **kwargs)

    return BoundedAsyncClient


async def _wait_bare(
    targets: list[list[str]], end_time: float, base_url: str, bound: int | None
) -> list[dict[str, Any]]:
    import httpx

    client_class = httpx.AsyncClient if bound is None else _bounded_client_class(bound)
    headers = {"Authorization": TOKEN, "LD-API-Version": "20240415", "Accept": "application/json"}
    async with client_class(base_url=base_url, headers=headers, trust_env=False, timeout=30) as client:

        async def wait(project: str, environment: str, destination_id: str, delay: float) -> dict[str, Any]:
            await asyncio.sleep(delay)
            while True:
                response = await client.get(f"/api/v2/destinations/{project}/{environment}/{destination_id}")
                if response.status_code == 200 and json.loads(response.content).get("on"):
                    return {"status": "success"}
                if time.time() >= end_time:
                    return {"status": "timeout"}
                await asyncio.sleep(POLL_INTERVAL)

        delays = _start_delays(len(targets))
        return list(await asyncio.gather(*(wait(*target, delay) for target, delay in zip(targets, delays))))


async def _wait(
    variant: str, targets: list[list[str]], end_time: float, base_url: str, bound: int | None
) -> list[dict[str, Any]]:
    if variant == "ours":
        return await _wait_ours(targets, end_time)
    return await _wait_bare(targets, end_time, base_url, bound if variant == "bare_bounded" else None)


async def _measure(
    variant: str, targets: list[list[str]], base_url: str, bound: int | None
) -> dict[str, Any]:
    warm, waiters = targets[0], targets[1:]
    # Warm-up: one complete wait on a destination that is already on loads every module and the TLS context.
    await _wait(variant, [warm], time.time() + DEADLINE, base_url, bound)
    import gc

    gc.collect()
    print(MARKER + "ready", flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)  # the emulator is armed
    rss_before = rss_kb()
    lags: list[float] = []
    rss_samples: list[int] = []
    stop = asyncio.Event()
    ticker = asyncio.create_task(_ticker(stop, lags, rss_samples))
    await asyncio.sleep(0.1)  # ticker baseline
    cpu_before, started = time.process_time(), time.perf_counter()
    end_time = time.time() + DEADLINE
    events = await _wait(variant, waiters, end_time, base_url, bound)
    cpu, elapsed = time.process_time() - cpu_before, time.perf_counter() - started
    rss_samples.append(rss_kb())
    stop.set()
    await ticker
    statuses: dict[str, int] = {}
    for event in events:
        statuses[event.get("status", "?")] = statuses.get(event.get("status", "?"), 0) + 1
    print(MARKER + "main-done", flush=True)
    # The parent reads its counters, then says whether to measure the fixed cost.
    command = await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
    fixed_cpu, again = float("nan"), []
    if command.strip() == "fixed":
        # The same waiters again; every destination is on now, so each polls once and fires.
        cpu_before = time.process_time()
        again = await _wait(variant, waiters, time.time() + DEADLINE, base_url, bound)
        fixed_cpu = time.process_time() - cpu_before
    pool_size = bound
    if variant == "ours":  # what the package's shared client is built with
        from airflow_provider_ld.hooks.launchdarkly_async import SHARED_POOL_SIZE as pool_size
    return {
        "shared_pool_size": pool_size,
        "fixed_run_cpu_s": fixed_cpu,
        "fixed_run_successes": sum(1 for event in again if event.get("status") == "success"),
        "waiters": len(waiters),
        "events": statuses,
        "elapsed_s": elapsed,
        "cpu_s": cpu,
        "rss_before_kb": rss_before,
        "rss_peak_kb": max(rss_samples),
        "kb_per_waiter": (max(rss_samples) - rss_before) / len(waiters),
        "loop_lag_max_ms": 1000 * max(lags),
        "loop_lag_p99_ms": 1000 * percentile(lags, 0.99),
        "loop_lag_median_ms": 1000 * percentile(lags, 0.5),
    }


def _variant_main(variant: str, base_url: str, bound: int | None) -> int:
    if variant == "bare_bounded" and not bound:
        raise SystemExit("the bare_bounded variant needs --bound")
    targets = json.loads(sys.stdin.readline())
    os.environ.update(connection_env(base_url, timeout=30))
    result = asyncio.run(_measure(variant, targets, base_url, bound))
    print(MARKER + json.dumps(result), flush=True)
    return 0


def _run_variant(emulator: EmulatorProcess, variant: str, bound: int | None = None) -> dict[str, Any]:
    emulator.reset()
    warm = emulator.add_destination("bench", "warm", kind="segment", name="warm", on=True)
    created = emulator.add_destinations(
        [
            [
                ["bench" if i % PROJECTS == 0 else f"proj-{i % PROJECTS}", f"env-{i}"],
                {"kind": "segment", "name": f"d{i}"},
            ]
            for i in range(TRIGGERS)
        ]
    )
    targets = [["bench", "warm", warm["_id"]]] + [
        [
            item["_links"]["self"]["href"].split("/")[4],
            item["_links"]["self"]["href"].split("/")[5],
            item["_id"],
        ]
        for item in created
    ]
    handle, log_name = tempfile.mkstemp(prefix=f"bench-triggers-{variant}-", suffix=".log")
    child = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "benchmarks.triggers_at_scale",
            "--variant",
            variant,
            "--base-url",
            emulator.base_url,
            *(["--bound", str(bound)] if bound else []),
        ],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=handle,
        text=True,
    )
    os.close(handle)  # the child has its own copy
    assert child.stdin is not None and child.stdout is not None

    log_lines = [0]

    def answer() -> str:
        # The triggers log to stdout (that cost is part of what is measured); marked lines are ours.
        while True:
            line = child.stdout.readline()
            if not line:
                child.wait(timeout=30)
                tail = Path(log_name).read_text(errors="replace")[-2000:]
                raise RuntimeError(f"{variant} variant failed (log {log_name}):\n{tail}")
            if line.startswith(MARKER):
                return line[len(MARKER) :]
            log_lines[0] += 1

    child.stdin.write(json.dumps(targets) + "\n")
    child.stdin.flush()
    if answer().strip() != "ready":
        child.kill()
        raise RuntimeError(f"{variant} variant did not start")
    rng = random.Random(4)
    now = time.time()
    schedule = [[now + 0.1 + rng.uniform(*READY_AFTER), *target] for target in targets[1:]]
    emulator.clear_stats()
    emulator.turn_on_at(schedule)
    child.stdin.write("go\n")
    child.stdin.flush()
    if answer().strip() != "main-done":
        child.kill()
        raise RuntimeError(f"{variant} variant did not finish its run")
    main_log_lines = log_lines[0]
    stats = emulator.stats()
    gets = emulator.call_counts("GET").get("GET 200", 0)
    child.stdin.write("fixed\n" if variant in SPLIT_VARIANTS else "skip\n")
    child.stdin.flush()
    result = json.loads(answer())
    child.wait(timeout=30)
    result["log_lines"] = main_log_lines
    os.unlink(log_name)
    waiters = result["waiters"]
    result["fixed_cpu_ms_per_trigger"] = 1000 * result["fixed_run_cpu_s"] / waiters
    extra_polls = gets - waiters
    result["marginal_cpu_ms_per_poll"] = (
        1000 * (result["cpu_s"] - result["fixed_run_cpu_s"]) / extra_polls
        if extra_polls >= waiters  # two polls per waiter on average, or the split means nothing
        else float("nan")
    )
    result["polls"] = gets
    result["polls_per_waiter"] = gets / result["waiters"]
    result["cpu_ms_per_poll"] = 1000 * result["cpu_s"] / max(gets, 1)
    result["offered_polls_per_s"] = result["waiters"] / POLL_INTERVAL
    result["achieved_polls_per_s"] = gets / result["elapsed_s"]
    result["tcp_connections_accepted"] = stats["accepted_connections"] - 1  # minus the turn-on PATCHer's
    result["emulator_cpu_s"] = stats["cpu_seconds_delta"]
    return result


def run() -> dict[str, Any]:
    with EmulatorProcess() as emulator:
        bare = _run_variant(emulator, "bare")
        ours = _run_variant(emulator, "ours")
        # The like-for-like baseline gets the pool size the package itself uses.
        bound = ours["shared_pool_size"]
        bare_bounded = _run_variant(emulator, "bare_bounded", bound=bound)
    keys = (
        "kb_per_waiter",
        "cpu_ms_per_poll",
        "fixed_cpu_ms_per_trigger",
        "marginal_cpu_ms_per_poll",
        "loop_lag_max_ms",
        "tcp_connections_accepted",
    )
    naive_keys = ("kb_per_waiter", "cpu_ms_per_poll", "loop_lag_max_ms", "tcp_connections_accepted")
    return {
        "triggers": TRIGGERS,
        "poll_interval_s": POLL_INTERVAL,
        "ready_after_s": list(READY_AFTER),
        "shared_pool_size": bound,
        "ours": ours,
        "bare_httpx_bounded": bare_bounded,
        "bare_httpx": bare,
        "ratios": {key: ratio(ours[key], bare_bounded[key]) for key in keys},
        "ratios_vs_naive": {key: ratio(ours[key], bare[key]) for key in naive_keys},
    }


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out")
    parser.add_argument("--variant", choices=("ours", "bare", "bare_bounded"))
    parser.add_argument("--base-url")
    parser.add_argument("--bound", type=int, help="bare_bounded's connections and requests in flight")
    args = parser.parse_args()
    if args.variant:
        return _variant_main(args.variant, args.base_url, args.bound)
    write_result(args.out, run())
    return 0


if __name__ == "__main__":
    sys.exit(main())
