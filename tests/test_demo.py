"""The README's demo command works and keeps secrets out of its output."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

DEMO = Path(__file__).resolve().parents[1] / "scripts" / "demo.py"


def test_demo_runs_end_to_end_without_leaking_secrets():
    result = subprocess.run([sys.executable, str(DEMO)], capture_output=True, text=True, timeout=180)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "Connected to http://127.0.0.1:" in out
    assert "changed=True on=True version=2" in out
    assert "again: changed=False (no request sent)" in out
    assert "kind=snowflake-v2" in out
    assert "1 destination(s) left" in out
    for secret in ("demo-write-key", "demo-token-0123456789"):
        assert secret not in out + result.stderr
