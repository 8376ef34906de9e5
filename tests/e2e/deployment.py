"""
A real Airflow 3 deployment for end-to-end tests: separate components on SQLite, driven over REST.

:class:`AirflowDeployment` migrates a fresh metadata database in a temporary ``AIRFLOW_HOME`` and
starts ``api-server``, ``scheduler``, ``dag-processor`` and ``triggerer`` as subprocesses (each in its
own process group, so the executor's and the API server's children stop with them). Nothing here
sleeps a fixed time: every wait polls the REST API against a deadline and fails with what it last saw
and the tail of the component logs.
"""

from __future__ import annotations

import base64
import contextlib
import os
import secrets
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import httpx

T = TypeVar("T")

COMPONENTS = ("api-server", "scheduler", "dag-processor", "triggerer")
AIRFLOW = str(Path(sys.executable).parent / "airflow")
SIMPLE_AUTH_MANAGER = "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager"
TERMINAL_RUN_STATES = {"success", "failed"}
#: Runs a command so that Linux sends it SIGTERM if the test process dies without cleaning up
#: (``PR_SET_PDEATHSIG`` survives the exec); used instead of ``preexec_fn``, which is unsafe with threads.
#: Arguments: the expected parent pid, then the command.
DIE_WITH_PARENT = """
import ctypes, os, signal, sys
ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # 1 = PR_SET_PDEATHSIG
if os.getppid() != int(sys.argv[1]):
    sys.exit("the test process is already gone")
os.execv(sys.argv[2], sys.argv[2:])
"""


def die_with_parent(command: list[str]) -> list[str]:
    """``command``, wrapped so that it is terminated when this process dies."""
    if not sys.platform.startswith("linux"):
        return command
    return [sys.executable, "-c", DIE_WITH_PARENT, str(os.getpid()), *command]


def render_log(entries: list[dict[str, Any]]) -> str:
    """Render structured task-log entries as ``timestamp level event`` lines, with their exceptions."""
    lines = []
    for entry in entries:
        line = " ".join(str(entry.get(key) or "") for key in ("timestamp", "level", "event")).strip()
        for error in entry.get("error_detail") or ():
            line += f"\n    {error.get('exc_type')}: {error.get('exc_value')}"
        lines.append(line)
    return "\n".join(lines)


class DeploymentError(AssertionError):
    """A component died or a wait ran out of time; the message carries the evidence."""


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def poll(
    what: str,
    check: Callable[[], T | None],
    *,
    timeout: float,
    interval: float = 0.5,
    describe: Callable[[], str] | None = None,
    alive: Callable[[], None] | None = None,
) -> T:
    """
    Call ``check`` until it returns something other than ``None``/``False``; return that.

    :param what: what is awaited, for the error message.
    :param check: returns the result, or ``None``/``False`` for "not yet".
    :param timeout: seconds before giving up with :class:`DeploymentError`.
    :param interval: seconds between checks.
    :param describe: adds the last observed state to the error message.
    :param alive: raises when a component died (checked every round, so a crash fails fast).
    """
    deadline = time.monotonic() + timeout
    while True:
        if alive is not None:
            alive()
        result = check()
        if result is not None and result is not False:
            return result
        if time.monotonic() >= deadline:
            detail = f"; last seen: {describe()}" if describe is not None else ""
            raise DeploymentError(f"timed out after {timeout:.0f} s waiting for {what}{detail}")
        time.sleep(interval)


@dataclass
class Component:
    """One running Airflow component."""

    name: str
    process: subprocess.Popen
    log_path: Path

    def tail(self, lines: int = 40) -> str:
        """The last lines of the component's output."""
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return "(no output)"
        return "\n".join(text.splitlines()[-lines:])


@dataclass
class AirflowDeployment:
    """
    An Airflow 3 deployment (LocalExecutor on SQLite) in ``home`` with ``dags_folder`` as its DAGs.

    :param home: an empty directory used as ``AIRFLOW_HOME``.
    :param dags_folder: the DAG files to serve.
    :param parallelism: ``[core] parallelism``: task processes the LocalExecutor runs at once.
    :param extra_env: more ``AIRFLOW__...`` settings.
    """

    home: Path
    dags_folder: Path
    parallelism: int = 4
    extra_env: Mapping[str, str] = field(default_factory=dict)
    port: int = field(default_factory=free_port)
    components: dict[str, Component] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    _client: httpx.Client | None = None

    @property
    def base_url(self) -> str:
        """Where the API server listens."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def db_path(self) -> Path:
        """The SQLite metadata database."""
        return self.home / "airflow.db"

    @property
    def env(self) -> dict[str, str]:
        """The environment of every component: the test process's, less its Airflow settings."""
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "_AIRFLOW"))}
        env.update(
            {
                "AIRFLOW_HOME": str(self.home),
                "AIRFLOW__CORE__DAGS_FOLDER": str(self.dags_folder),
                "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
                # Airflow 3 on SQLite: the LocalExecutor is the supported choice (SequentialExecutor is gone).
                "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
                "AIRFLOW__CORE__PARALLELISM": str(self.parallelism),
                "AIRFLOW__CORE__FERNET_KEY": self._fernet_key,
                "AIRFLOW__CORE__TEST_CONNECTION": "Enabled",
                "AIRFLOW__CORE__AUTH_MANAGER": SIMPLE_AUTH_MANAGER,
                "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
                "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{self.base_url}/execution/",
                "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{self.db_path}",
                "AIRFLOW__API__HOST": "127.0.0.1",
                "AIRFLOW__API__PORT": str(self.port),
                "AIRFLOW__API__BASE_URL": self.base_url,
                "AIRFLOW__API__WORKERS": "1",
                "AIRFLOW__API__SECRET_KEY": self._secret,
                "AIRFLOW__API_AUTH__JWT_SECRET": self._secret,
                "AIRFLOW__LOGGING__LOGGING_LEVEL": "INFO",
                # The scheduler's and triggerer's log servers default to fixed ports; take free ones.
                "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(self._log_ports[0]),
                "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(self._log_ports[1]),
                "PYTHONUNBUFFERED": "1",
            }
        )
        env.update(self.extra_env)
        return env

    def __post_init__(self) -> None:
        self._secret = secrets.token_urlsafe(32)
        self._fernet_key = base64.urlsafe_b64encode(os.urandom(32)).decode()
        self._log_ports = (free_port(), free_port())
        (self.home / "component-logs").mkdir(parents=True, exist_ok=True)

    # Lifecycle

    def start(self, *, timeout: float = 180.0) -> None:
        """Migrate the database, start every component and wait until all report healthy."""
        started = time.monotonic()
        migrate = subprocess.run(
            [AIRFLOW, "db", "migrate"],
            env=self.env,
            cwd=self.home,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if migrate.returncode != 0:
            raise DeploymentError(f"airflow db migrate failed:\n{migrate.stdout}\n{migrate.stderr}")
        self.timings["db migrate"] = time.monotonic() - started
        for name in COMPONENTS:
            self._spawn(name)
        remaining = max(30.0, timeout - (time.monotonic() - started))
        self.wait_healthy(timeout=remaining)
        self.timings["start"] = time.monotonic() - started

    def _spawn(self, name: str) -> None:
        log_path = self.home / "component-logs" / f"{name}.log"
        args = [AIRFLOW, name]
        if name == "api-server":
            args += ["--host", "127.0.0.1", "--port", str(self.port), "--workers", "1"]
        with log_path.open("ab") as log_file:
            process = subprocess.Popen(
                die_with_parent(args),
                env=self.env,
                cwd=self.home,
                stdin=subprocess.DEVNULL,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # one process group per component: stop() ends its children too
            )
        self.components[name] = Component(name, process, log_path)

    def stop(self, *, grace: float = 20.0) -> None:
        """Stop every component: SIGTERM to its process group, SIGKILL whatever is left after ``grace``."""
        for component in self.components.values():
            self._signal_group(component, signal.SIGTERM)
        deadline = time.monotonic() + grace
        for component in self.components.values():
            with contextlib.suppress(subprocess.TimeoutExpired):
                component.process.wait(timeout=max(0.1, deadline - time.monotonic()))
        for component in self.components.values():
            self._signal_group(component, signal.SIGKILL)  # stragglers of a group whose leader already exited
            if component.process.poll() is None:
                component.process.wait(timeout=10)
        if self._client is not None:
            self._client.close()
            self._client = None

    @staticmethod
    def _signal_group(component: Component, sig: int) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(component.process.pid, sig)  # the group we created with start_new_session

    def check_alive(self) -> None:
        """Raise with the component's last output when one of them exited."""
        for component in self.components.values():
            code = component.process.poll()
            if code is not None:
                raise DeploymentError(
                    f"airflow {component.name} exited with {code}; its last output:\n{component.tail()}"
                )

    def logs_tail(self, lines: int = 25) -> str:
        """The last lines of every component, for failure messages."""
        return "\n".join(f"--- {c.name} ---\n{c.tail(lines)}" for c in self.components.values())

    # REST API

    @property
    def client(self) -> httpx.Client:
        """An HTTP client for the API server, authenticated with a JWT from ``/auth/token``."""
        if self._client is None:
            client = httpx.Client(base_url=self.base_url, timeout=30.0)
            token = client.get("/auth/token").raise_for_status().json()["access_token"]
            client.headers["Authorization"] = f"Bearer {token}"
            self._client = client
        return self._client

    def api(self, method: str, path: str, *, expect: int | tuple[int, ...] = 200, **kwargs: Any) -> Any:
        """
        Call ``/api/v2{path}`` and return its JSON body; fail with the body when the status differs.

        :param expect: the accepted status code(s).
        """
        response = self.client.request(method, f"/api/v2{path}", **kwargs)
        accepted = (expect,) if isinstance(expect, int) else expect
        if response.status_code not in accepted:
            raise AssertionError(f"{method} /api/v2{path} -> {response.status_code}: {response.text}")
        return response.json() if response.content else None

    def wait_healthy(self, *, timeout: float) -> dict[str, Any]:
        """Wait until the metadatabase, scheduler, triggerer and DAG processor report healthy."""
        last: dict[str, Any] = {}

        def healthy() -> dict[str, Any] | None:
            nonlocal last
            try:
                last = httpx.get(f"{self.base_url}/api/v2/monitor/health", timeout=5).json()
            except (httpx.HTTPError, ValueError):
                return None
            wanted = ("metadatabase", "scheduler", "triggerer", "dag_processor")
            ok = all((last.get(key) or {}).get("status") == "healthy" for key in wanted)
            return last if ok else None

        return poll(
            "all components to report healthy",
            healthy,
            timeout=timeout,
            interval=1.0,
            describe=lambda: f"{last}\n{self.logs_tail()}",
            alive=self.check_alive,
        )

    def wait_dags_parsed(self, dag_ids: list[str], *, timeout: float = 120.0) -> None:
        """Wait until the DAG processor has serialised every DAG in ``dag_ids`` without import errors."""
        seen: set[str] = set()

        def parsed() -> bool:
            seen.clear()
            seen.update(d["dag_id"] for d in self.api("GET", "/dags", params={"limit": 100})["dags"])
            return set(dag_ids) <= seen

        def describe() -> str:
            errors = self.api("GET", "/importErrors")["import_errors"]
            return f"dags {sorted(seen)}, import errors {errors}"

        poll(
            f"DAGs {dag_ids} to be parsed", parsed, timeout=timeout, describe=describe, alive=self.check_alive
        )

    def trigger(self, dag_id: str, conf: Mapping[str, Any] | None = None) -> str:
        """Unpause ``dag_id``, trigger a run with ``conf`` and return its run id."""
        self.api("PATCH", f"/dags/{dag_id}", json={"is_paused": False})
        run = self.api(
            "POST",
            f"/dags/{dag_id}/dagRuns",
            json={"logical_date": None, "conf": dict(conf or {})},
        )
        return run["dag_run_id"]

    def run_state(self, dag_id: str, run_id: str) -> str:
        """The state of one DAG run."""
        return self.api("GET", f"/dags/{dag_id}/dagRuns/{run_id}")["state"]

    def task_instances(self, dag_id: str, run_id: str) -> list[dict[str, Any]]:
        """Every task instance of a run (mapped ones included)."""
        return self.api("GET", f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances", params={"limit": 100})[
            "task_instances"
        ]

    def wait_for_run(
        self,
        dag_id: str,
        run_id: str,
        *,
        timeout: float,
        observe: Callable[[list[dict[str, Any]]], None] | None = None,
    ) -> str:
        """
        Poll a run until it finishes; return its final state.

        :param observe: called with the task instances at every poll (to catch transient states).
        """
        last: list[dict[str, Any]] = []

        def finished() -> str | None:
            nonlocal last
            last = self.task_instances(dag_id, run_id)
            if observe is not None:
                observe(last)
            state = self.run_state(dag_id, run_id)
            return state if state in TERMINAL_RUN_STATES else None

        def describe() -> str:
            states = sorted((t["task_id"], t["map_index"], t["state"]) for t in last)
            return f"task states {states}\n{self.logs_tail()}"

        return poll(
            f"run {dag_id}/{run_id} to finish",
            finished,
            timeout=timeout,
            describe=describe,
            alive=self.check_alive,
        )

    def task_log(
        self, dag_id: str, run_id: str, task_id: str, *, try_number: int = 1, map_index: int = -1
    ) -> list[dict[str, Any]]:
        """
        One try's log as the UI reads it: structured entries, the triggerer's lines merged in.

        :return: entries with ``timestamp``, ``level``, ``event`` and, for failures, ``error_detail``.
        """
        body = self.api(
            "GET",
            f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}/logs/{try_number}",
            params={"full_content": True, "map_index": map_index},
            headers={"Accept": "application/json"},
        )
        content = body["content"]
        if isinstance(content, str):  # older log readers answer with one string
            return [{"event": line} for line in content.splitlines()]
        return [entry if isinstance(entry, dict) else {"event": str(entry)} for entry in content]

    def task_log_text(self, *args: Any, **kwargs: Any) -> str:
        """:meth:`task_log` as text: one line per entry, exceptions as ``Type: message``."""
        return render_log(self.task_log(*args, **kwargs))

    # Metadata database (read-only; the REST API has no view of these tables)

    @contextlib.contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        conn = sqlite3.connect(f"file:{self.db_path}?mode=ro", uri=True, timeout=10)
        try:
            yield conn
        finally:
            conn.close()

    def query(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        """Run a read-only query against the metadata database."""
        with self._db() as conn:
            return conn.execute(sql, params).fetchall()
