"""
Import one DAG file (or module) in this fresh process and report time, memory, new modules and network use.

Run by ``import_cost.py`` as ``python -m benchmarks._import_probe (--dag FILE | --module NAME | --fork-dag
FILE ...)``; prints one JSON line. ``airflow.sdk``'s ``DAG`` is imported first (every DAG file and task process
has it), then the target is imported with connections refused and recorded, so a parse-time network call
would show. With ``--fork-dag`` each parse happens in a child forked from this process after that preload, as
Airflow's DAG processor parses files, so many parses cost one Airflow import.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import json
import os
import resource
import socket
import sys
import time

#: When this process got here (the interpreter and the standard-library imports above took a few ms).
_STARTED = time.perf_counter()

#: Third-party modules that would make parsing slow or that a DAG file should not need.
HEAVY = ("requests", "httpx", "jsonpatch", "pydantic", "urllib3", "aiohttp", "launchdarkly_api")
#: This provider's modules that hold models, HTTP clients or the trigger: needed only when a task runs.
OURS_RUNTIME = (
    "airflow_provider_ld.models",
    "airflow_provider_ld.api",
    "airflow_provider_ld.hooks.launchdarkly",
    "airflow_provider_ld.hooks.launchdarkly_async",
    "airflow_provider_ld.triggers.destinations",
    "airflow_provider_ld.readiness",
)


def _rss_kb() -> int:
    with open("/proc/self/status") as handle:
        for line in handle:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def _measure(dag: str | None, modules: list[str] | None) -> dict[str, object]:
    """Import the DAG file (or modules) now, with connections refused; return what it cost and loaded."""
    before = set(sys.modules)
    rss_before = _rss_kb()
    attempts: list[str] = []

    def refuse(*call_args: object, **call_kwargs: object) -> None:
        attempts.append(repr(call_args[:2])[:200])
        raise OSError("network access at DAG parse time")

    real_connect, real_create = socket.socket.connect, socket.create_connection
    socket.socket.connect = refuse  # type: ignore[method-assign]
    socket.create_connection = refuse  # type: ignore[assignment]
    started = time.perf_counter()
    try:
        if dag:
            spec = importlib.util.spec_from_file_location("bench_dag_under_test", dag)
            assert spec is not None and spec.loader is not None
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
            dags = [value for value in vars(module).values() if type(value).__name__ == "DAG"]
            tasks = sum(len(item.tasks) for item in dags)
        else:
            for name in modules or []:
                importlib.import_module(name)
            tasks = 0
    finally:
        socket.socket.connect, socket.create_connection = real_connect, real_create  # type: ignore[method-assign]
    finished = time.perf_counter()
    new = sorted(set(sys.modules) - before)
    return {
        "import_s": finished - started,
        "finished_at": finished,
        "rss_delta_kb": _rss_kb() - rss_before,
        "tasks": tasks,
        "new_module_count": len(new),
        "new_ours": [name for name in new if name.startswith("airflow_provider_ld")],
        "new_top_level": sorted({name.split(".")[0] for name in new}),
        "heavy_loaded": {name: name in sys.modules for name in HEAVY + OURS_RUNTIME},
        "heavy_loaded_by_airflow_first": {name: name in before for name in HEAVY + OURS_RUNTIME},
        "network_attempts": attempts,
    }


def _forked(dag: str) -> dict[str, object]:
    """Parse ``dag`` in a child forked from this process, as Airflow's DAG processor does; return its result."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: parse, report, leave without running any exit handler
        os.close(read_end)
        try:
            payload = json.dumps(_measure(dag, None)).encode()
        except BaseException as err:  # report instead of dying silently
            payload = json.dumps({"error": f"{type(err).__name__}: {err}"}).encode()
        with os.fdopen(write_end, "wb") as out:
            out.write(payload)
        os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as source:
        data = source.read()
    os.waitpid(pid, 0)
    result = json.loads(data)
    if "error" in result:
        raise RuntimeError(f"parsing {dag} in a forked child failed: {result['error']}")
    return result


def main() -> int:
    parser = argparse.ArgumentParser()
    target = parser.add_mutually_exclusive_group(required=True)
    target.add_argument("--dag", help="import this DAG file once, in this fresh process")
    target.add_argument("--module", action="append", help="import these modules once, in this fresh process")
    target.add_argument(
        "--fork-dag",
        action="append",
        help="parse these DAG files in forked children, round-robin (repeatable)",
    )
    parser.add_argument("--rounds", type=int, default=10, help="with --fork-dag: parses of each file")
    args = parser.parse_args()

    from airflow.sdk import DAG  # noqa: F401 - what every DAG file imports first

    preloaded = time.perf_counter()
    if args.fork_dag:
        samples: dict[str, list[dict[str, object]]] = {dag: [] for dag in args.fork_dag}
        for index in range(args.rounds):
            shift = index % len(args.fork_dag)
            for dag in args.fork_dag[shift:] + args.fork_dag[:shift]:
                samples[dag].append(_forked(dag))
        print(json.dumps({"preload_s": preloaded - _STARTED, "samples": samples}))
        return 0
    result = _measure(args.dag, args.module)
    result["preload_s"] = preloaded - _STARTED
    result["in_process_total_s"] = float(result.pop("finished_at")) - _STARTED  # type: ignore[arg-type]
    result["peak_rss_kb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
