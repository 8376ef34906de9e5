"""
Section 8: planning a destinations manifest at scale, against one operator per destination.

An account of 1,000 destinations (20 projects x 10 environments x 5 kinds) and a manifest of 500 entries
(the same 20 projects, 5 of their environments, 5 kinds; one entry in ten with a changed field). The plan
(``LaunchDarklyPlanDestinationsOperator``'s work: check the manifest, one inventory request, compare) is
measured for CPU, wall time and requests. The baseline is what a DAG with one task per destination does
to converge the same entries: ``LaunchDarklyCreateDestinationOperator(if_exists="update")`` per entry,
run in-process (no scheduler or task start-up, which would only add to the baseline). The baseline is
measured on a sample of entries and scaled to 500; the sample size is reported.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from typing import Any

from benchmarks._common import (
    CONN_ID,
    EmulatorProcess,
    cpu_seconds,
    median,
    ratio,
    set_connection,
    write_result,
)

PROJECTS = [f"proj-{index:02d}" for index in range(20)]
ENVIRONMENTS = [f"env-{index:02d}" for index in range(10)]
KINDS = ("google-pubsub", "kinesis", "segment", "mparticle", "azure-event-hubs")
MANAGED_ENVIRONMENTS = ENVIRONMENTS[:5]
BASELINE_SAMPLE = 50
REPEATS = 5


def _sample_configs() -> dict[str, dict[str, Any]]:
    from airflow_provider_ld.testing.emulator import sample_config

    return {kind: sample_config(kind) for kind in KINDS}


def _manifest(configs: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """500 entries; secrets as {from_env} references; every tenth project gets another topic/stream."""
    destinations = []
    for kind in KINDS:
        config = {
            key: {"from_env": f"BENCH_{kind}_{key}".upper().replace("-", "_")} if _secret(key) else value
            for key, value in configs[kind].items()
        }
        targets = []
        for index, project in enumerate(PROJECTS):
            target: dict[str, Any] = {"project": project, "environments": list(MANAGED_ENVIRONMENTS)}
            if index % 10 == 0 and kind == "google-pubsub":
                target["config"] = {"topic": "changed-topic"}
            targets.append(target)
        destinations.append({"name": f"{kind} export", "kind": kind, "config": config, "targets": targets})
    return {"destinations": destinations}


def _secret(key: str) -> bool:
    from airflow_provider_ld.models.secrets import is_secret_field

    return is_secret_field(key)


def _export_secrets(configs: dict[str, dict[str, Any]]) -> None:
    for kind, config in configs.items():
        for key, value in config.items():
            if _secret(key):
                os.environ[f"BENCH_{kind}_{key}".upper().replace("-", "_")] = value


def _plan_once(manifest_dict: dict[str, Any]) -> tuple[float, float, dict[str, int]]:
    from airflow_provider_ld.operators.fleet import LaunchDarklyPlanDestinationsOperator

    operator = LaunchDarklyPlanDestinationsOperator(
        task_id="plan", manifest=manifest_dict, launchdarkly_conn_id=CONN_ID
    )
    cpu, wall = cpu_seconds(), time.perf_counter()
    plan = operator.execute({})
    return cpu_seconds() - cpu, time.perf_counter() - wall, plan["summary"]


def _per_destination_once(
    manifest_dict: dict[str, Any], configs: dict[str, dict[str, Any]]
) -> tuple[float, float]:
    from airflow_provider_ld.fleet.manifest import load_manifest, resolve_config
    from airflow_provider_ld.operators.destinations import LaunchDarklyCreateDestinationOperator

    entries = load_manifest(manifest_dict).entries[:BASELINE_SAMPLE]
    cpu, wall = cpu_seconds(), time.perf_counter()
    for index, entry in enumerate(entries):
        LaunchDarklyCreateDestinationOperator(
            task_id=f"dest_{index}",
            project_key=entry.project_key,
            environment_key=entry.environment_key,
            kind=entry.kind,
            name=entry.name,
            on=entry.on,
            config=resolve_config(entry.config, entry.place),
            if_exists="update",
            launchdarkly_conn_id=CONN_ID,
        ).execute({"ti": _TI()})
    return cpu_seconds() - cpu, time.perf_counter() - wall


class _TI:
    def xcom_push(self, key: str, value: Any) -> None:
        pass


def run() -> dict[str, Any]:
    configs = _sample_configs()
    _export_secrets(configs)
    manifest_dict = _manifest(configs)
    with EmulatorProcess() as emulator:
        set_connection(emulator.base_url)
        seeds = [
            [[project, environment], {"kind": kind, "name": f"{kind} export", "config": configs[kind]}]
            for project in PROJECTS
            for environment in ENVIRONMENTS
            for kind in KINDS
        ]
        emulator.add_destinations(seeds)
        plan_cpu, plan_wall, summary, plan_requests = [], [], {}, 0
        for _ in range(REPEATS):
            emulator.clear_stats()
            cpu, wall, summary = _plan_once(manifest_dict)
            plan_requests = emulator.stats()["api_calls"]
            plan_cpu.append(cpu)
            plan_wall.append(wall)
        emulator.clear_stats()
        base_cpu, base_wall = _per_destination_once(manifest_dict, configs)
        base_requests = emulator.stats()["api_calls"]
    entries = sum(summary.values())
    scale = entries / BASELINE_SAMPLE
    fleet = {"cpu_s": median(plan_cpu), "wall_s": median(plan_wall), "requests": plan_requests}
    per_destination = {
        "cpu_s": base_cpu * scale,
        "wall_s": base_wall * scale,
        "requests": round(base_requests * scale),
        "sample": BASELINE_SAMPLE,
        "sample_requests": base_requests,
    }
    return {
        "account_destinations": len(PROJECTS) * len(ENVIRONMENTS) * len(KINDS),
        "manifest_entries": entries,
        "summary": summary,
        "fleet_plan": fleet,
        "one_operator_per_destination": per_destination,
        "ratios": {key: ratio(fleet[key], per_destination[key]) for key in ("cpu_s", "wall_s", "requests")},
        "repeats": REPEATS,
    }


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out")
    args = parser.parse_args()
    write_result(args.out, run())
    return 0


if __name__ == "__main__":
    sys.exit(main())
