"""
Nothing in the provider keeps state on one worker between tasks, so any executor can run it unchanged.

On the Celery and Kubernetes executors consecutive tasks (and a sensor's pokes, and a deferred task's
resumption) run on different machines. What a task needs from an earlier one must travel through
XCom, the trigger's serialised kwargs or the API itself, never through files or module globals.
These checks read the package's source: a new file write or process-wide cache fails them until it is
reviewed and listed here with the reason it is safe.
"""

from __future__ import annotations

import ast
from pathlib import Path

import airflow_provider_ld

PACKAGE = Path(airflow_provider_ld.__file__).parent
#: Module globals rebound at run time, and why each is safe on any executor.
PROCESS_CACHES = {
    # The CA bundle parsed once per process; it holds no task data.
    ("hooks/launchdarkly_async.py", "_SSL_CONTEXT"),
}
#: Calls that would write or keep files between tasks.
FILE_CALLS = {
    "open",
    "write_text",
    "write_bytes",
    "mkstemp",
    "mkdtemp",
    "NamedTemporaryFile",
    "TemporaryDirectory",
}


def provider_modules() -> list[Path]:
    """Every module that runs in Airflow (the emulator in ``testing/`` is a test tool, not run by tasks)."""
    return [
        path for path in sorted(PACKAGE.rglob("*.py")) if "testing" not in path.relative_to(PACKAGE).parts
    ]


def test_the_only_rebound_module_globals_are_reviewed_process_caches():
    rebound = {
        (path.relative_to(PACKAGE).as_posix(), name)
        for path in provider_modules()
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, (ast.Global, ast.Nonlocal))
        for name in node.names
    }
    assert rebound == PROCESS_CACHES


def test_no_module_writes_files():
    calls = [
        f"{path.relative_to(PACKAGE)}:{node.lineno}"
        for path in provider_modules()
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Call)
        and (getattr(node.func, "id", None) or getattr(node.func, "attr", None)) in FILE_CALLS
    ]
    assert calls == []


def test_the_shared_async_clients_are_keyed_by_event_loop():
    """The one mutable module-level registry lives and dies with a triggerer's event loop."""
    from airflow_provider_ld.hooks import launchdarkly_async

    assert type(launchdarkly_async._CLIENTS).__name__ == "WeakKeyDictionary"
