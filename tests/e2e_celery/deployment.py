"""
The end-to-end deployment with the CeleryExecutor: a private Redis broker and two named Celery workers.

:class:`CeleryDeployment` is :class:`~tests.e2e.deployment.AirflowDeployment` (api-server, scheduler,
dag-processor, triggerer on SQLite) with ``CeleryExecutor`` and two ``airflow celery worker`` processes,
``worker-a`` (queues ``default`` and ``handover``) and ``worker-b`` (queue ``default``). Each worker
records its own name as its tasks' hostname (:mod:`tests.e2e_celery.worker_identity`).
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.e2e.deployment import (
    AIRFLOW,
    AirflowDeployment,
    Component,
    DeploymentError,
    die_with_parent,
    free_port,
    poll,
)

ROOT = Path(__file__).resolve().parents[2]
#: Each worker's name, the queues it consumes and its Celery node name.
WORKERS = {"worker-a": ("default", "handover"), "worker-b": ("default",)}
WORKER_CONCURRENCY = 2


def node_name(worker: str) -> str:
    """The Celery node name of ``worker`` (what ``control`` commands address)."""
    return f"{worker}@e2e"


@dataclass
class RedisServer:
    """A private ``redis-server`` on a free port, no persistence, stopped with the test."""

    home: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        """The broker URL."""
        return f"redis://127.0.0.1:{self.port}"

    def start(self, *, timeout: float = 30.0) -> None:
        """Start the server and wait until it answers ``PING``."""
        binary = shutil.which("redis-server")
        if binary is None:
            raise DeploymentError(
                "redis-server is not installed; run scripts/install-redis.sh (make e2e-celery does)"
            )
        log = (self.home / "redis.log").open("ab")
        self.process = subprocess.Popen(
            die_with_parent(
                [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
            ),
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        import redis

        client = redis.Redis(port=self.port, socket_connect_timeout=1)

        def answers() -> bool:
            if self.process.poll() is not None:
                raise DeploymentError(f"redis-server exited with {self.process.returncode}")
            try:
                return bool(client.ping())
            except redis.RedisError:
                return False

        poll("redis-server to answer PING", answers, timeout=timeout, interval=0.2)
        client.close()

    def stop(self) -> None:
        """Stop the server."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)


@dataclass
class CeleryDeployment(AirflowDeployment):
    """
    :class:`AirflowDeployment` with the CeleryExecutor on ``broker_url`` and two Celery workers.

    :param broker_url: the Redis URL (database 0 is the broker, 1 the result backend).
    """

    broker_url: str = ""

    @property
    def env(self) -> dict[str, str]:
        """The LocalExecutor deployment's environment, switched to the CeleryExecutor."""
        env = super().env
        env.update(
            {
                "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
                "AIRFLOW__CELERY__BROKER_URL": f"{self.broker_url}/0",
                "AIRFLOW__CELERY__RESULT_BACKEND": f"{self.broker_url}/1",
                "AIRFLOW__CELERY__WORKER_CONCURRENCY": str(WORKER_CONCURRENCY),
                "AIRFLOW__OPERATORS__DEFAULT_QUEUE": "default",
                "AIRFLOW__CORE__HOSTNAME_CALLABLE": "tests.e2e_celery.worker_identity.hostname",
                "PYTHONPATH": str(ROOT),
            }
        )
        return env

    def start(self, *, timeout: float = 180.0) -> None:
        """Start the deployment, then the two workers; wait until both answer a Celery ping."""
        super().start(timeout=timeout)
        for worker, queues in WORKERS.items():
            self._spawn_worker(worker, queues)
        poll(
            "both Celery workers to answer a ping",
            lambda: set(self.celery_ping()) >= {node_name(w) for w in WORKERS},
            timeout=120,
            interval=1.0,
            describe=self.logs_tail,
            alive=self.check_alive,
        )

    def _spawn_worker(self, worker: str, queues: tuple[str, ...]) -> None:
        log_path = self.home / "component-logs" / f"{worker}.log"
        args = [
            AIRFLOW, "celery", "worker",
            "--celery-hostname", node_name(worker),
            "--queues", ",".join(queues),
            "--concurrency", str(WORKER_CONCURRENCY),
            "--skip-serve-logs",
        ]  # fmt: skip
        with log_path.open("ab") as log_file:
            process = subprocess.Popen(
                die_with_parent(args),
                env={**self.env, "E2E_WORKER_NAME": worker},
                cwd=self.home,
                stdin=subprocess.DEVNULL,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.components[worker] = Component(worker, process, log_path)

    @property
    def celery(self) -> Any:
        """A Celery client on the broker, for ``control`` commands."""
        from celery import Celery

        return Celery(broker=f"{self.broker_url}/0")

    def celery_ping(self) -> list[str]:
        """The node names of the workers that answer a ping."""
        replies = self.celery.control.ping(timeout=1.0) or []
        return [name for reply in replies for name in reply]

    def move_queue(self, queue: str, *, from_worker: str, to_worker: str) -> None:
        """Make ``to_worker`` consume ``queue`` and ``from_worker`` stop consuming it."""
        control = self.celery.control
        control.add_consumer(queue, destination=[node_name(to_worker)], reply=True, timeout=5)
        control.cancel_consumer(queue, destination=[node_name(from_worker)], reply=True, timeout=5)
