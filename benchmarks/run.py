"""
Run every benchmark section, each in a fresh process; write ``results/latest.md`` and ``results/latest.json``.

``make bench`` runs this in ``.venv-bench``. Only progress lines and the report are printed; each section's
full output (Airflow's and the provider's log lines included) goes to a log file in a temporary directory,
named at the end.
Every number is reported beside a baseline measured in the same run, as a ratio.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchmarks._common import ROOT, json_safe, machine
from benchmarks.report import render

SECTIONS = (
    ("import_cost", "1. Import cost at DAG parse time"),
    ("call_overhead", "2. Per-call overhead"),
    ("request_counts", "3. Requests per operation"),
    ("triggers_at_scale", "4. Deferrable waiting at scale"),
    ("rate_limited_bulk", "5. Rate-limited bulk work"),
    ("emulator_throughput", "6. Emulator throughput"),
    ("shared_polls", "7. Shared polls: 1,000 deferred sensors on one connection"),
    ("fleet_plan", "8. Destinations as code at scale"),
)
RESULTS = ROOT / "benchmarks" / "results"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.strip().splitlines()[0])
    parser.add_argument("--only", help="comma-separated section names, e.g. import_cost,call_overhead")
    args = parser.parse_args(argv)
    wanted = [name for name, _ in SECTIONS if not args.only or name in args.only.split(",")]

    work = Path(tempfile.mkdtemp(prefix="ld-provider-bench-"))
    env = {
        **os.environ,
        "AIRFLOW_HOME": str(work / "airflow-home"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "PYTHONPATH": str(ROOT),
    }
    env.pop("AIRFLOW_CONN_LAUNCHDARKLY_DEFAULT", None)
    results: dict[str, Any] = {
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "sections": {},
        "durations_s": {},
    }
    started = time.perf_counter()
    failed = []
    for name, title in SECTIONS:
        if name not in wanted:
            continue
        print(f"[bench] {title} ...", file=sys.stderr, flush=True)
        out, log = work / f"{name}.json", work / f"{name}.log"
        section_started = time.perf_counter()
        with log.open("w") as handle:
            code = subprocess.run(
                [sys.executable, "-m", f"benchmarks.{name}", "--out", str(out)],
                cwd=ROOT,
                env=env,
                stdout=handle,
                stderr=subprocess.STDOUT,
                check=False,
            ).returncode
        duration = time.perf_counter() - section_started
        results["durations_s"][name] = round(duration, 1)
        if code != 0 or not out.exists():
            failed.append(name)
            tail = log.read_text(errors="replace")[-1500:]
            print(
                f"[bench] {name} FAILED after {duration:.0f} s (log {log}):\n{tail}",
                file=sys.stderr,
                flush=True,
            )
            continue
        results["sections"][name] = json.loads(out.read_text())
        print(f"[bench]   done in {duration:.0f} s", file=sys.stderr, flush=True)
    results["durations_s"]["total"] = round(time.perf_counter() - started, 1)

    markdown = render(results)
    RESULTS.mkdir(parents=True, exist_ok=True)
    if not args.only:
        (RESULTS / "latest.json").write_text(
            json.dumps(json_safe(results), indent=2, default=str, allow_nan=False) + "\n"
        )
        (RESULTS / "latest.md").write_text(markdown)
    print(markdown)
    where = "" if args.only else f"written to {RESULTS / 'latest.md'} and latest.json; "
    print(f"[bench] {where}section logs in {work}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
