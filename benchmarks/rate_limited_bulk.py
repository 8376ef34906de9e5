"""
Section 5: bulk work under the API's rate limit, and recovery after a storm of 429s.

The emulator (own process) allows ``LIMIT`` requests per ``WINDOW`` seconds for the whole account, the
real API's 10-second window scaled down to ``WINDOW`` so the run is short. The retry waits the hook derives
from the rate-limit headers scale by themselves (they point at the window's end); the backoff jitter does not,
so each task's hook gets the default ``RetryPolicy`` with its delays scaled by ``WINDOW / 10`` (retry count
unchanged).

Phase 1 (throughput): ``TASKS`` ``LaunchDarklyCreateDestinationOperator`` tasks across ``ENVIRONMENTS``
environments run in ``PROCESSES`` worker processes (started once, like Celery workers) of ``THREADS``
threads (``PROCESSES * THREADS`` tasks at a time), each task with its own hook and session, as Airflow tasks
would; all workers start together at the beginning of a rate-limit window. Throughput is the accepted requests per
window as a fraction of ``LIMIT``, over the windows the work spanned (the first starts with the work, the last
holds the last accepted request), so a perfectly packed run scores 1.0; failures are tasks that raised.

Phase 2 (recovery): the same kind of load; after ``STORM_AFTER`` seconds the emulator refuses everything
(limit 0) for ``STORM`` seconds, then the limit is restored. Reported: time from the end of the storm to the first
accepted request, and to the first full window back at >= 80 % of the limit, both also as a fraction of the
window; and whether any task failed.
"""

from __future__ import annotations

import argparse
import math
import multiprocessing
import queue
import sys
import threading
import time
import traceback
from typing import Any

from benchmarks._common import CONN_ID, EmulatorProcess, set_connection, write_result

LIMIT = 40
WINDOW = 1.0
TASKS = 200
ENVIRONMENTS = 20
PROCESSES = 4
THREADS = 4
STORM_TASKS = 120
STORM_AFTER = 1.5
STORM = 2.0


def _worker_loop(conn: Any) -> None:
    """A worker process: import what tasks need, then run the batches the parent sends until told to stop."""
    from airflow_provider_ld.operators.destinations import LaunchDarklyCreateDestinationOperator  # noqa: F401

    conn.send("ready")
    while True:
        message = conn.recv()
        if message is None:
            return
        specs, scale, start_at = message
        conn.send(_run_tasks(specs, scale, start_at))


def _run_tasks(
    specs: list[tuple[str, str]], scale: float, start_at: float
) -> list[tuple[bool, float, float, str]]:
    """Run create tasks on ``THREADS`` threads from ``start_at``; return each ``(ok, started, ended, error)``."""
    from airflow_provider_ld.api.retries import RetryPolicy
    from airflow_provider_ld.hooks.launchdarkly import LaunchDarklyHook
    from airflow_provider_ld.operators.destinations import LaunchDarklyCreateDestinationOperator

    default = RetryPolicy()
    policy = RetryPolicy(
        max_retries=default.max_retries,
        max_wait=default.max_wait * scale,
        base_delay=default.base_delay * scale,
        max_delay=default.max_delay * scale,
    )
    todo: queue.Queue[tuple[str, str]] = queue.Queue()
    for spec in specs:
        todo.put(spec)
    results: list[tuple[bool, float, float, str]] = []

    def worker() -> None:
        while True:
            try:
                environment, name = todo.get_nowait()
            except queue.Empty:
                return
            started = time.time()
            operator = LaunchDarklyCreateDestinationOperator(
                task_id=f"create_{environment}_{name}",
                project_key="bench",
                environment_key=environment,
                kind="google-pubsub",
                name=name,
                config={"project": "gcp-project", "topic": name},
                launchdarkly_conn_id=CONN_ID,
            )
            operator.__dict__["hook"] = LaunchDarklyHook(CONN_ID, retry_policy=policy)  # scaled retry waits
            try:
                operator.execute({})
                results.append((True, started, time.time(), ""))
            except Exception as err:
                detail = f"{type(err).__name__}: {err}"[:300] or traceback.format_exc(limit=1)
                results.append((False, started, time.time(), detail))

    time.sleep(max(0.0, start_at - time.time()))
    threads = [threading.Thread(target=worker) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


class _Pool:
    """``PROCESSES`` long-lived worker processes (spawned, so each imports Airflow like a real worker)."""

    def __init__(self) -> None:
        context = multiprocessing.get_context("spawn")
        self._conns = []
        self._processes = []
        for _ in range(PROCESSES):
            parent, child = context.Pipe()
            process = context.Process(target=_worker_loop, args=(child,), daemon=True)
            process.start()
            self._conns.append(parent)
            self._processes.append(process)
        for conn in self._conns:
            if conn.recv() != "ready":
                raise RuntimeError("a worker process did not start")

    def run(
        self, specs: list[tuple[str, str]], during: Any = None
    ) -> tuple[list[tuple[bool, float, float, str]], float]:
        """Run ``specs`` from the next window start; ``during(started)`` runs meanwhile in this process."""
        now = time.time()
        start_at = math.ceil(now / WINDOW) * WINDOW + 0.01
        if start_at - now < 0.2:
            start_at += WINDOW
        for index, conn in enumerate(self._conns):
            conn.send((specs[index::PROCESSES], WINDOW / 10.0, start_at))
        if during is not None:
            during(start_at)
        outcomes = [outcome for conn in self._conns for outcome in conn.recv()]
        return outcomes, start_at

    def close(self) -> None:
        for conn in self._conns:
            conn.send(None)
        for process in self._processes:
            process.join(timeout=10)


def _accepted_per_window(timeline: list[list[Any]], since: float) -> dict[int, int]:
    counts: dict[int, int] = {}
    for when, _method, _path, status, _admin in timeline:
        if when >= since and status is not None and status < 400:
            window = math.floor(when / WINDOW)
            counts[window] = counts.get(window, 0) + 1
    return counts


def run() -> dict[str, Any]:
    with EmulatorProcess() as emulator:
        set_connection(emulator.base_url, timeout=30)  # before the workers start: they inherit it
        pool = _Pool()
        emulator.set_rate_limit(global_limit=LIMIT, window_seconds=WINDOW)

        # Phase 1: throughput under the limit.
        specs = [(f"env-{index % ENVIRONMENTS}", f"dest-{index}") for index in range(TASKS)]
        emulator.clear_stats()
        outcomes, started = pool.run(specs)
        ended = max(outcome[2] for outcome in outcomes)
        stats = emulator.stats()
        per_window = _accepted_per_window(emulator.timeline(), started)
        accepted = sum(per_window.values())
        windows = max(per_window) - math.floor(started / WINDOW) + 1
        elapsed = ended - started
        failures = [outcome[3] for outcome in outcomes if not outcome[0]]
        throughput = {
            "tasks": TASKS,
            "concurrent_tasks": PROCESSES * THREADS,
            "elapsed_s": elapsed,
            "accepted_requests": accepted,
            "rejected_429": stats["by_status"].get("429", 0),
            "windows_spanned": windows,
            "ideal_windows": math.ceil(accepted / LIMIT),
            "accepted_per_window": accepted / windows,
            "limit_per_window": LIMIT,
            "fraction_of_limit": accepted / windows / LIMIT,
            "accepted_per_window_each": [
                per_window.get(w, 0) for w in range(min(per_window), max(per_window) + 1)
            ],
            "failures": len(failures),
            "failure_examples": failures[:3],
            "destinations_created": stats["by_status"].get("201", 0),
        }

        # Phase 2: a storm of 429s in the middle of the same kind of load.
        emulator.reset()
        emulator.set_rate_limit(global_limit=LIMIT, window_seconds=WINDOW)
        emulator.clear_stats()
        marks: dict[str, float] = {}

        def storm(phase_started: float) -> None:
            time.sleep(
                max(0.0, phase_started + STORM_AFTER - time.time())
            )  # the workers start at phase_started
            marks["storm_start"] = time.time()
            emulator.set_rate_limit(global_limit=0, window_seconds=WINDOW)
            time.sleep(STORM)
            emulator.set_rate_limit(global_limit=LIMIT, window_seconds=WINDOW)
            marks["storm_end"] = time.time()

        storm_specs = [(f"storm-{index % ENVIRONMENTS}", f"dest-{index}") for index in range(STORM_TASKS)]
        storm_outcomes, _ = pool.run(storm_specs, during=storm)
        pool.close()
        timeline = emulator.timeline()
        after = sorted(
            when
            for when, _m, _p, status, _a in timeline
            if when >= marks["storm_end"] and status is not None and status < 400
        )
        first_success = after[0] - marks["storm_end"] if after else float("nan")
        windows = _accepted_per_window(timeline, marks["storm_end"])
        end_window = math.floor(marks["storm_end"] / WINDOW)
        full = [
            window
            for window, count in sorted(windows.items())
            if window > end_window and count >= 0.8 * LIMIT
        ]
        back_to_rate = (full[0] * WINDOW - marks["storm_end"]) if full else float("nan")
        storm_failures = [outcome[3] for outcome in storm_outcomes if not outcome[0]]
        refused_during = sum(
            1
            for when, _m, _p, status, _a in timeline
            if marks["storm_start"] <= when < marks["storm_end"] and status == 429
        )
        recovery = {
            "tasks": STORM_TASKS,
            "storm_s": STORM,
            "refused_during_storm": refused_during,
            "first_success_after_storm_s": first_success,
            "first_success_after_storm_windows": first_success / WINDOW,
            "back_to_80pct_rate_after_s": back_to_rate,
            "back_to_80pct_rate_after_windows": back_to_rate / WINDOW,
            "failures": len(storm_failures),
            "failure_examples": storm_failures[:3],
        }
    return {
        "limit": LIMIT,
        "window_s": WINDOW,
        "real_api_window_s": 10.0,
        "retry_delay_scale": WINDOW / 10.0,
        "throughput": throughput,
        "recovery": recovery,
    }


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out")
    args = parser.parse_args()
    write_result(args.out, run())
    return 0


if __name__ == "__main__":
    sys.exit(main())
