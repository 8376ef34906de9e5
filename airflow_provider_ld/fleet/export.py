"""Export: the account's current destinations as a manifest, so existing setups are adopted, not recreated."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any

from airflow_provider_ld.models.destinations import Destination
from airflow_provider_ld.models.secrets import is_secret_field, reveal_secrets


def export_manifest(destinations: Iterable[Destination]) -> dict[str, Any]:
    """
    Build a manifest holding the given destinations.

    Destinations with the same kind, name, state and (non-secret) config are one manifest entry with
    several targets. Secret values cannot be read back (the API obfuscates them), so each becomes a
    ``{from_env: NAME}`` placeholder to fill in.

    :param destinations: live destinations, e.g. those of one project.
    :return: the manifest as a dict (see :func:`dump_manifest` for YAML).
    """
    groups: dict[str, dict[str, Any]] = {}
    for destination in sorted(destinations, key=_sort_key):
        config = _placeholders(destination)
        key = json.dumps([destination.kind, destination.name, destination.on, config], sort_keys=True)
        group = groups.setdefault(
            key,
            {
                "name": destination.name,
                "kind": destination.kind,
                "on": destination.on,
                "config": config,
                "targets": {},
            },
        )
        group["targets"].setdefault(destination.project_key, []).append(destination.environment_key)
    entries = []
    for group in groups.values():
        targets = [{"project": project, "environments": envs} for project, envs in group["targets"].items()]
        entries.append({**group, "targets": targets})
    return {"destinations": entries}


def _sort_key(destination: Destination) -> tuple[str, ...]:
    return (
        destination.kind or "",
        destination.name or "",
        destination.project_key or "",
        destination.environment_key or "",
    )


def _placeholders(destination: Destination) -> dict[str, Any]:
    config = reveal_secrets(destination.config or {})
    return {
        key: {"from_env": env_name(destination.kind or "", destination.name or "", key)}
        if is_secret_field(key)
        else value
        for key, value in sorted(config.items())
    }


def env_name(kind: str, name: str, field: str) -> str:
    """The environment variable an exported secret is read from, e.g. ``LD_SEGMENT_PRODUCT_EVENTS_WRITEKEY``."""
    return re.sub(r"[^A-Z0-9]+", "_", f"LD_{kind}_{name}_{field}".upper()).strip("_")


def dump_manifest(manifest: dict[str, Any]) -> str:
    """Render a manifest as YAML (block style, keys in manifest order)."""
    import yaml

    return yaml.safe_dump(manifest, sort_keys=False, default_flow_style=False, allow_unicode=True)
