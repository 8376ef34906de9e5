"""
Section 6: how many requests per second the emulator sustains over keep-alive connections.

Baseline, measured in the same run with the same client: a bare standard-library ``ThreadingHTTPServer``
(HTTP/1.1, keep-alive) that answers every GET with the same fixed JSON body. Both servers run in their own
process; the client drives them from this process with ``http.client`` (one keep-alive connection per
thread). Also reported: the emulator's own CPU seconds per request (its capacity on one core is about
``1 / cpu_per_request``), which does not depend on how fast the client is.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from benchmarks._common import ROOT, TOKEN, EmulatorProcess, median, ratio, write_result

DURATION = 1.0
ROUNDS = 3


def _drive(base_url: str, path: str, connections: int, duration: float) -> float:
    """Send GETs over ``connections`` keep-alive connections for ``duration`` seconds; return requests/s."""
    host, port = base_url.split("//", 1)[1].rsplit(":", 1)
    headers = {"Authorization": TOKEN, "LD-API-Version": "20240415", "Accept": "application/json"}
    counts = [0] * connections
    errors: list[str] = []
    start_gate = threading.Barrier(connections + 1)
    deadline = [0.0]

    def worker(index: int) -> None:
        conn = http.client.HTTPConnection(host, int(port), timeout=10)
        conn.connect()
        start_gate.wait()
        done = 0
        while time.perf_counter() < deadline[0]:
            conn.request("GET", path, headers=headers)
            response = conn.getresponse()
            response.read()
            if response.status != 200:
                errors.append(str(response.status))
                break
            done += 1
        counts[index] = done
        conn.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(connections)]
    for thread in threads:
        thread.start()
    deadline[0] = time.perf_counter() + duration
    started = time.perf_counter()
    start_gate.wait()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    if errors:
        raise RuntimeError(f"unexpected answers: {errors[:3]}")
    return sum(counts) / elapsed


class _FixedHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    body = b"{}"

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


def serve_bare(body_file: str) -> int:
    """Serve the fixed body until stdin closes (run in a child process)."""
    _FixedHandler.body = Path(body_file).read_bytes()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _FixedHandler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    print(json.dumps({"base_url": f"http://127.0.0.1:{server.server_address[1]}"}), flush=True)
    sys.stdin.read()
    server.shutdown()
    return 0


def run() -> dict[str, Any]:
    results: dict[str, Any] = {"duration_s": DURATION, "rounds": ROUNDS}
    with EmulatorProcess() as emulator:
        created = emulator.add_destination("bench", "production", kind="segment", name="events")
        one = f"/api/v2/destinations/bench/production/{created['_id']}"
        emulator.add_destinations(
            [[["bench", f"env-{i}"], {"kind": "segment", "name": f"events-{i}"}] for i in range(19)]
        )
        host, port = emulator.base_url.split("//", 1)[1].rsplit(":", 1)
        conn = http.client.HTTPConnection(host, int(port))
        conn.request("GET", one, headers={"Authorization": TOKEN})
        body = conn.getresponse().read()
        conn.close()
        handle, name = tempfile.mkstemp(prefix="bench-fixed-body-", suffix=".json")
        os.close(handle)
        body_file = Path(name)
        body_file.write_bytes(body)
        bare = subprocess.Popen(
            [sys.executable, "-m", "benchmarks.emulator_throughput", "--serve-bare", str(body_file)],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            assert bare.stdout is not None
            bare_url = json.loads(bare.stdout.readline())["base_url"]
            cpu_seconds, served = 0.0, 0
            for connections in (1, 4):
                emu_rates, bare_rates = [], []
                for _ in range(ROUNDS):  # interleaved, so drift in machine load hits both alike
                    emulator.clear_stats()
                    emu_rates.append(_drive(emulator.base_url, one, connections, DURATION))
                    stats = emulator.stats()
                    cpu_seconds, served = (
                        cpu_seconds + stats["cpu_seconds_delta"],
                        served + stats["api_calls"],
                    )
                    bare_rates.append(_drive(bare_url, one, connections, DURATION))
                results[f"get_one_{connections}_conn"] = {
                    "emulator_rps": median(emu_rates),
                    "bare_stdlib_rps": median(bare_rates),
                    "ratio": ratio(median(emu_rates), median(bare_rates)),
                }
            results["emulator_cpu_ms_per_get"] = 1000 * cpu_seconds / max(served, 1)
            results["emulator_capacity_get_rps_one_core"] = 1000 / results["emulator_cpu_ms_per_get"]
            results["list_20_destinations_4_conn_rps"] = _drive(
                emulator.base_url, "/api/v2/destinations", 4, DURATION
            )
        finally:
            if bare.stdin is not None:
                bare.stdin.close()
            bare.wait(timeout=10)
            body_file.unlink(missing_ok=True)
    return results


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out")
    parser.add_argument("--serve-bare")
    args = parser.parse_args()
    if args.serve_bare:
        return serve_bare(args.serve_bare)
    write_result(args.out, run())
    return 0


if __name__ == "__main__":
    sys.exit(main())
