"""
The LaunchDarkly emulator in its own process, driven by JSON lines on stdin (see ``_common.EmulatorProcess``).

Besides the emulator's own methods (``add_destination``, ``set_rate_limit``, ``inject_fault``, ``reset``) it
answers what the benchmarks need to observe from the server side:

- ``stats``: TCP connections accepted, API calls by status, and this process's CPU seconds;
- ``timeline``: ``[time, method, path, status]`` of every API call (for throughput over time);
- ``turn_on_at``: switch destinations on at given epoch times (a PATCH to itself, like a user would);
- ``call_counts``: API calls by method and path prefix.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import sys
import threading
import time
from typing import Any

from airflow_provider_ld.testing import _handler, _recording
from airflow_provider_ld.testing.emulator import LaunchDarklyEmulator

_accepted = 0
#: Number of API calls recorded before the last ``clear_stats``; later counts start there.
_mark = 0
#: This process's CPU seconds at the last ``clear_stats``.
_cpu_mark = 0.0
_timeline: list[tuple[float, str, str, int | None, bool]] = []
_timeline_lock = threading.Lock()


def _cpu_seconds() -> float:
    times = os.times()
    return times.user + times.system


def _count_connections() -> None:
    original = _handler.EmulatorHTTPServer.process_request

    def process_request(self: Any, request: Any, client_address: Any) -> None:
        global _accepted
        _accepted += 1  # only the serving thread accepts connections
        original(self, request, client_address)

    _handler.EmulatorHTTPServer.process_request = process_request  # type: ignore[method-assign]


def _timestamp_calls() -> None:
    original = _recording.CallLog.append

    def append(self: Any, call: Any) -> None:
        with _timeline_lock:
            _timeline.append((time.time(), call.method, call.path, call.status, call.admin))
        original(self, call)

    _recording.CallLog.append = append  # type: ignore[method-assign]


def _turn_on_at(base_url: str, token: str, schedule: list[list[Any]]) -> None:
    """PATCH each ``[epoch, project, environment, id]`` destination to ``on: true`` at its time."""
    host, port = base_url.split("//", 1)[1].rsplit(":", 1)

    def run() -> None:
        conn = http.client.HTTPConnection(host, int(port), timeout=10)
        for when, project, environment, destination_id in sorted(schedule):
            delay = when - time.time()
            if delay > 0:
                time.sleep(delay)
            body = json.dumps([{"op": "replace", "path": "/on", "value": True}])
            headers = {
                "Authorization": token,
                "Content-Type": "application/json",
                "LD-API-Version": "20240415",
            }
            conn.request(
                "PATCH", f"/api/v2/destinations/{project}/{environment}/{destination_id}", body, headers
            )
            conn.getresponse().read()
        conn.close()

    threading.Thread(target=run, name="turn-on", daemon=True).start()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--token", required=True)
    parser.add_argument("--setup-delay", type=float, default=0.0)
    args = parser.parse_args()
    _count_connections()
    _timestamp_calls()
    emulator = LaunchDarklyEmulator(token=args.token, setup_delay=args.setup_delay).start()
    out = sys.stdout
    out.write(json.dumps({"base_url": emulator.base_url}) + "\n")
    out.flush()
    for line in sys.stdin:
        message = json.loads(line)
        op, op_args, op_kwargs = message["op"], message.get("args", []), message.get("kwargs", {})
        try:
            if op == "quit":
                out.write(json.dumps({"ok": None}) + "\n")
                out.flush()
                break
            result = _serve(emulator, args.token, op, op_args, op_kwargs)
            answer = {"ok": result}
        except Exception as err:  # report to the benchmark instead of dying
            answer = {"error": f"{type(err).__name__}: {err}"}
        out.write(json.dumps(answer, default=str) + "\n")
        out.flush()
    emulator.stop()
    return 0


def _serve(
    emulator: LaunchDarklyEmulator, token: str, op: str, args: list[Any], kwargs: dict[str, Any]
) -> Any:
    global _accepted, _mark, _cpu_mark
    if op == "stats":
        calls = emulator.calls_to()[_mark:]
        by_status: dict[str, int] = {}
        for call in calls:
            by_status[str(call.status)] = by_status.get(str(call.status), 0) + 1
        cpu = _cpu_seconds()
        return {
            "accepted_connections": _accepted,
            "api_calls": len(calls),
            "by_status": by_status,
            "cpu_seconds": cpu,
            "cpu_seconds_delta": cpu - _cpu_mark,
        }
    if op == "clear_stats":
        _accepted = 0
        _mark = len(emulator.calls_to())
        _cpu_mark = _cpu_seconds()
        with _timeline_lock:
            _timeline.clear()
        return None
    if op == "timeline":
        with _timeline_lock:
            return [list(item) for item in _timeline if not item[4]]
    if op == "call_counts":
        counts: dict[str, int] = {}
        method, prefix = (list(args) + [None, None])[:2]
        for call in emulator.calls_to()[_mark:]:
            if (method and call.method != method) or (prefix and not call.path.startswith(prefix)):
                continue
            counts[f"{call.method} {call.status}"] = counts.get(f"{call.method} {call.status}", 0) + 1
        return counts
    if op == "turn_on_at":
        _turn_on_at(emulator.base_url, token, *args)
        return None
    if op in ("add_destination", "set_rate_limit", "inject_fault", "reset"):
        return getattr(emulator, op)(*args, **kwargs)
    if op == "add_destinations":
        return [emulator.add_destination(*item_args, **item_kwargs) for item_args, item_kwargs in args[0]]
    raise ValueError(f"unknown op {op!r}")


if __name__ == "__main__":
    sys.exit(main())
