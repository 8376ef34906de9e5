"""
When a Data Export destination counts as configured, as pure functions of what the API returned.

The API has no status or health field for destinations, so "configured" is read from what it does show:
the destination exists, its ``config`` holds every field its kind requires, a guided Redshift setup left
its ``completedArtifacts``, and (unless told otherwise) export is ``on``. The sensor and the trigger both
decide with these functions, so poke, reschedule and deferrable modes agree.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from airflow_provider_ld.models import Destination, missing_config_fields

#: Warehouse kinds whose completed guided setup is visible as ``completedArtifacts``.
KINDS_WITH_COMPLETED_ARTIFACTS: frozenset[str] = frozenset({"redshift"})


@dataclass(frozen=True)
class Readiness:
    """
    Whether a destination is configured, and why (or why not), for logs and messages.

    :param ready: the destination is configured.
    :param reason: a short explanation without secrets.
    """

    ready: bool
    reason: str


def evaluate_readiness(destination: Destination | None, *, require_on: bool = True) -> Readiness:
    """
    Decide whether a destination is configured.

    :param destination: the destination as the API returned it; ``None`` when it does not exist (yet).
    :param require_on: also require export to be switched on (``on: true``).
    """
    if destination is None:
        return Readiness(False, "destination does not exist yet")
    missing = missing_config_fields(destination.kind, destination.config)
    if missing:
        return Readiness(False, f"config lacks {', '.join(missing)}, required for kind {destination.kind!r}")
    if destination.kind in KINDS_WITH_COMPLETED_ARTIFACTS and not _setup_completed(destination):
        return Readiness(False, "warehouse setup not complete (no completedArtifacts)")
    if require_on and not destination.on:
        return Readiness(False, "destination is off")
    state = "on" if destination.on else "off"
    return Readiness(True, f"destination {destination.id} ({destination.kind}) is configured and {state}")


def _setup_completed(destination: Destination) -> bool:
    artifacts = destination.completed_artifacts
    return artifacts is not None and bool(artifacts.sql_setup_script or artifacts.s3_bucket_name)


def destination_summary(
    destination: Destination, *, project_key: str | None = None, environment_key: str | None = None
) -> dict[str, Any]:
    """
    Return the JSON-serialisable summary the sensor returns (its XCom), with every secret redacted.

    :param destination: the configured destination.
    :param project_key: used when the destination's ``self`` link does not name its project.
    :param environment_key: used when the destination's ``self`` link does not name its environment.
    """
    return {
        "destination_id": destination.id,
        "project_key": destination.project_key or project_key,
        "environment_key": destination.environment_key or environment_key,
        "kind": destination.kind,
        "name": destination.name,
        "on": destination.on,
        "version": destination.version,
        "destination": destination.to_dict(),
    }


__all__ = [
    "KINDS_WITH_COMPLETED_ARTIFACTS",
    "Readiness",
    "destination_summary",
    "evaluate_readiness",
]
