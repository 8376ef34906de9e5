"""
``[core] hostname_callable`` for the Celery workers of the end-to-end suite.

Both workers run on this machine, so the real host name cannot tell them apart; each worker's
environment names it (``E2E_WORKER_NAME``) and its tasks record that name as their hostname.
"""

from __future__ import annotations

import os
import socket


def hostname() -> str:
    """Return the worker's name from ``E2E_WORKER_NAME``, or the machine's name outside a worker."""
    return os.environ.get("E2E_WORKER_NAME") or socket.getfqdn()
