"""
Section 1: what a DAG using this provider costs at parse time, against the same DAG with other operators.

Three DAG files with the same 7 tasks (``benchmarks/dags/``): this provider's operators and sensor, the HTTP
provider's ``HttpOperator``/``HttpSensor``, and plain ``PythonOperator``s (the baseline). Two measurements,
the variants interleaved in both so drift in machine load hits all alike; reported as medians:

- what the DAG file itself costs: one process imports ``airflow.sdk``, then parses each file ``PARSES`` times,
  each parse in a freshly forked child, as Airflow's DAG processor does: import time, memory added, modules
  added, network connections attempted (refused and recorded);
- the whole fresh process (interpreter, Airflow, DAG file), ``RUNS`` times per variant: wall time, CPU time
  (steadier than wall time on a busy machine) and peak RSS. Airflow's own import dominates these, so on a
  loaded machine their ratios carry its noise.

Also measured here, for section 2, with the same probe: importing this provider's hook (plus ``requests``,
which it imports on first call) against importing the official ``launchdarkly-api`` client's destinations API.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from typing import Any

from benchmarks._common import ROOT, median, ratio, write_result

RUNS = 5
PARSES = 15
MODULE_RUNS = 2
DAGS = {
    "launchdarkly": "benchmarks/dags/dag_launchdarkly.py",
    "http": "benchmarks/dags/dag_http.py",
    "python": "benchmarks/dags/dag_python.py",
}
MODULES = {
    "provider_hook": ["airflow_provider_ld.hooks.launchdarkly", "requests"],
    "launchdarkly_api": ["launchdarkly_api", "launchdarkly_api.api.data_export_destinations_api"],
}


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _probe(args: list[str]) -> dict[str, Any]:
    cpu, started = _children_cpu(), time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks._import_probe", *args],
        cwd=ROOT,
        capture_output=True,
        check=False,
        text=True,
        env={**os.environ, "PYTHONDONTWRITEBYTECODE": "0"},
    )
    wall, cpu = time.perf_counter() - started, _children_cpu() - cpu
    if done.returncode != 0:
        raise RuntimeError(f"import probe {args} failed:\n{done.stderr[-3000:]}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    result["process_wall_s"] = wall
    result["process_cpu_s"] = cpu
    return result


def _summary(runs: list[dict[str, Any]]) -> dict[str, Any]:
    last = runs[-1]
    added_heavy = sorted(
        name
        for name, loaded in last["heavy_loaded"].items()
        if loaded and not last["heavy_loaded_by_airflow_first"][name]
    )
    return {
        "runs": len(runs),
        "process_wall_s": median([run["process_wall_s"] for run in runs]),
        "process_wall_min_s": min(run["process_wall_s"] for run in runs),
        "process_wall_samples_s": [round(run["process_wall_s"], 3) for run in runs],
        "process_cpu_samples_s": [round(run["process_cpu_s"], 3) for run in runs],
        "process_cpu_s": median([run["process_cpu_s"] for run in runs]),
        "import_s": median([run["import_s"] for run in runs]),
        "rss_delta_kb": median([run["rss_delta_kb"] for run in runs]),
        "peak_rss_kb": median([run["peak_rss_kb"] for run in runs]),
        "tasks": last["tasks"],
        "new_module_count": median([run["new_module_count"] for run in runs]),
        "new_ours": last["new_ours"],
        "new_top_level": last["new_top_level"],
        "heavy_added_by_import": added_heavy,
        "heavy_already_loaded_by_airflow": sorted(
            name for name, loaded in last["heavy_loaded_by_airflow_first"].items() if loaded
        ),
        "network_attempts": sorted({attempt for run in runs for attempt in run["network_attempts"]}),
    }


def _parse_summary(parses: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "parses": len(parses),
        "parse_s": median([item["import_s"] for item in parses]),
        "parse_rss_delta_kb": median([item["rss_delta_kb"] for item in parses]),
        "parse_samples_ms": [round(1000 * item["import_s"], 1) for item in parses],
    }


def run(runs: int = RUNS, module_runs: int = MODULE_RUNS, parses: int = PARSES) -> dict[str, Any]:
    # One untimed import of each first, so every timed run finds the same warm bytecode and page cache.
    for path in DAGS.values():
        _probe(["--dag", path])
    forked = _probe(
        [arg for path in DAGS.values() for arg in ("--fork-dag", path)] + ["--rounds", str(parses)]
    )
    samples: dict[str, list[dict[str, Any]]] = {name: [] for name in DAGS}
    for index in range(runs):
        order = list(DAGS) if index % 2 == 0 else list(reversed(DAGS))
        for name in order:
            samples[name].append(_probe(["--dag", DAGS[name]]))
    dags = {name: _summary(items) for name, items in samples.items()}
    for name, path in DAGS.items():
        dags[name].update(_parse_summary(forked["samples"][path]))
    base = dags["python"]
    for name, summary in dags.items():
        summary["ratio_vs_python"] = {
            key: ratio(summary[key], base[key])
            for key in ("parse_s", "process_wall_s", "process_cpu_s", "import_s", "peak_rss_kb")
        }
        summary["rss_delta_kb_over_python"] = summary["rss_delta_kb"] - base["rss_delta_kb"]

    module_samples: dict[str, list[dict[str, Any]]] = {name: [] for name in MODULES}
    for index in range(module_runs):
        order = list(MODULES) if index % 2 == 0 else list(reversed(MODULES))
        for name in order:
            modules = MODULES[name]
            module_samples[name].append(_probe([arg for module in modules for arg in ("--module", module)]))
    clients = {
        name: {
            "modules": MODULES[name],
            "runs": len(items),
            "import_s": median([item["import_s"] for item in items]),
            "rss_delta_kb": median([item["rss_delta_kb"] for item in items]),
            "new_module_count": median([item["new_module_count"] for item in items]),
        }
        for name, items in module_samples.items()
    }
    clients["launchdarkly_api"]["ratio_vs_provider_hook"] = {
        key: ratio(clients["launchdarkly_api"][key], clients["provider_hook"][key])
        for key in ("import_s", "rss_delta_kb", "new_module_count")
    }
    return {"dags": dags, "client_import": clients}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out")
    parser.add_argument("--runs", type=int, default=RUNS)
    parser.add_argument("--module-runs", type=int, default=MODULE_RUNS)
    parser.add_argument("--parses", type=int, default=PARSES)
    args = parser.parse_args()
    write_result(args.out, run(args.runs, args.module_runs, args.parses))
    return 0


if __name__ == "__main__":
    sys.exit(main())
