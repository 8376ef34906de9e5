"""
Helpers shared by the benchmark sections: statistics, memory, the machine, and an emulator in its own process.

Nothing here imports Airflow, so the emulator process and the import probes stay light.
"""

from __future__ import annotations

import json
import math
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Self

ROOT = Path(__file__).resolve().parents[1]
TOKEN = "bench-token-7d3f0c1a"
CONN_ID = "launchdarkly_bench"


def median(values: Sequence[float]) -> float:
    """Median of ``values`` (``nan`` when empty)."""
    return statistics.median(values) if values else float("nan")


def percentile(values: Sequence[float], fraction: float) -> float:
    """The ``fraction`` quantile (nearest rank) of ``values``."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


def ratio(value: float, baseline: float) -> float:
    """``value / baseline``, or ``nan`` when the baseline is zero."""
    return value / baseline if baseline else float("nan")


def rss_kb() -> int:
    """Current resident set size of this process, in KiB (Linux ``/proc``)."""
    with open("/proc/self/status") as handle:
        for line in handle:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def peak_rss_kb() -> int:
    """Peak resident set size of this process so far, in KiB."""
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def cpu_seconds() -> float:
    """CPU time (user + system, all threads) this process used so far."""
    return time.process_time()


def machine() -> dict[str, Any]:
    """The machine the numbers come from."""
    model = platform.processor() or ""
    try:
        with open("/proc/cpuinfo") as handle:
            for line in handle:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    versions: dict[str, str] = {}
    from importlib.metadata import PackageNotFoundError, version

    for dist in (
        "apache-airflow",
        "apache-airflow-task-sdk",
        "apache-airflow-providers-http",
        "launchdarkly-api",
        "airflow-provider-launchdarkly",
        "requests",
        "httpx",
        "pydantic",
    ):
        try:
            versions[dist] = version(dist)
        except PackageNotFoundError:
            versions[dist] = "not installed"
    try:
        load = os.getloadavg()
    except OSError:
        load = (float("nan"),) * 3
    return {
        "nproc": os.cpu_count(),
        "cpu_model": model,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "load_average_at_start": [round(value, 2) for value in load],
        "versions": versions,
    }


def connection_env(base_url: str, **extra: Any) -> dict[str, str]:
    """Environment variables that define the ``launchdarkly_bench`` Airflow connection."""
    conn = {"conn_type": "launchdarkly", "host": base_url, "password": TOKEN, "extra": extra}
    return {f"AIRFLOW_CONN_{CONN_ID.upper()}": json.dumps(conn)}


def set_connection(base_url: str, **extra: Any) -> None:
    """Point the ``launchdarkly_bench`` connection at ``base_url`` in this process."""
    os.environ.update(connection_env(base_url, **extra))


class EmulatorProcess:
    """
    The LaunchDarkly emulator in a child process, so its CPU is not charged to the process being measured.

    Controlled over the child's stdin/stdout with one JSON object per line (see ``_emulator_server``).

    :param setup_delay: seconds before completed warehouse setups become visible.
    """

    def __init__(self, setup_delay: float = 0.0) -> None:
        self._proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "benchmarks._emulator_server",
                "--token",
                TOKEN,
                "--setup-delay",
                str(setup_delay),
            ],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            bufsize=1,
        )
        hello = json.loads(self._read_line())
        self.base_url: str = hello["base_url"]
        self.pid: int = self._proc.pid

    def _read_line(self) -> str:
        assert self._proc.stdout is not None
        line = self._proc.stdout.readline()
        if not line:
            raise RuntimeError("the emulator process exited")
        return line

    def request(self, op: str, *args: Any, **kwargs: Any) -> Any:
        """Run ``op`` in the emulator process and return its JSON result."""
        assert self._proc.stdin is not None
        self._proc.stdin.write(json.dumps({"op": op, "args": args, "kwargs": kwargs}) + "\n")
        answer = json.loads(self._read_line())
        if "error" in answer:
            raise RuntimeError(f"emulator {op}: {answer['error']}")
        return answer["ok"]

    def __getattr__(self, op: str) -> Any:
        if op.startswith("_"):
            raise AttributeError(op)
        return lambda *args, **kwargs: self.request(op, *args, **kwargs)

    def close(self) -> None:
        """Stop the emulator process."""
        if self._proc.poll() is None:
            try:
                self.request("quit")
            except (RuntimeError, OSError, ValueError):
                pass
            try:
                self._proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def json_safe(value: Any) -> Any:
    """``value`` with every NaN (a quantity that could not be measured) replaced by ``None``, for strict JSON."""
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, dict):
        return {key: json_safe(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(item) for item in value]
    return value


def write_result(path: str | None, result: dict[str, Any]) -> None:
    """Write a section's result as JSON to ``path`` (the runner's temp file), or print it."""
    text = json.dumps(json_safe(result), indent=2, default=str, allow_nan=False)
    if path:
        Path(path).write_text(text)
    else:
        print(text)
