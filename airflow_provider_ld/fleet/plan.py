"""
Planning: compare a manifest with the account's destinations, from one inventory request.

Each (project, environment, kind, name) of the manifest becomes ``create``, ``update`` (with a field-level
diff), ``unchanged`` or ``conflict`` (several live destinations match); with ``prune``, live destinations
in the manifest's (project, environment) pairs that it does not name become ``delete``. Secrets are
compared as far as the API's obfuscated stand-ins allow (:func:`comparable_config`) and never printed.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypedDict

from airflow_provider_ld._compat import AirflowFailException
from airflow_provider_ld.api.patches import comparable_config
from airflow_provider_ld.exceptions import LaunchDarklyError
from airflow_provider_ld.fleet.manifest import LoadedManifest, ManifestEntry, resolve_config
from airflow_provider_ld.models.destinations import Destination, filter_destinations
from airflow_provider_ld.models.secrets import REDACTED, is_secret_field, reveal_secrets

ACTIONS = ("create", "update", "delete", "unchanged", "conflict")
#: The JSON plan's format version, checked when a plan is applied.
PLAN_FORMAT = 1


@dataclass
class Change:
    """
    One planned change of one destination.

    :param action: one of :data:`ACTIONS`.
    :param project_key: the project key.
    :param environment_key: the environment key.
    :param kind: the destination kind.
    :param name: the destination name.
    :param destination_id: the live destination's id (``None`` for a create or a conflict).
    :param version: the live destination's version when the plan was made (guards the apply).
    :param diff: field changes ``{"op", "path", "before", "after"}``; secret values shown as ``**********``.
    :param uncompared: secret fields the API shows obfuscated and that could not be compared.
    :param matches: for a conflict, the ids of every live destination that matches.
    :param place: where the entry is in the manifest (``None`` for a delete).
    :param desired: the desired ``on`` and ``config`` in clear (never serialised).
    """

    action: str
    project_key: str
    environment_key: str
    kind: str | None
    name: str | None
    destination_id: str | None = None
    version: int | float | None = None
    diff: list[dict[str, Any]] = field(default_factory=list)
    uncompared: list[str] = field(default_factory=list)
    matches: list[str] = field(default_factory=list)
    place: str | None = None
    desired: dict[str, Any] | None = field(default=None, repr=False)

    @property
    def identity(self) -> tuple[str, str, str | None, str | None]:
        """(project, environment, kind, name)."""
        return (self.project_key, self.environment_key, self.kind, self.name)

    def to_dict(self) -> dict[str, Any]:
        """The change as the JSON plan holds it (no secret values)."""
        data: dict[str, Any] = {
            "action": self.action,
            "project_key": self.project_key,
            "environment_key": self.environment_key,
            "kind": self.kind,
            "name": self.name,
            "destination_id": self.destination_id,
            "version": self.version,
            "diff": self.diff,
        }
        if self.uncompared:
            data["uncompared_secrets"] = self.uncompared
        if self.matches:
            data["matches"] = self.matches
        if self.place:
            data["place"] = self.place
        return data


class _EntryFields(TypedDict):
    """The fields of a :class:`Change` that come from its manifest entry."""

    project_key: str
    environment_key: str
    kind: str
    name: str
    place: str
    desired: dict[str, Any]


@dataclass
class Plan:
    """The changes a manifest needs, in manifest order, deletes last."""

    changes: list[Change]
    prune: bool = False

    @property
    def summary(self) -> dict[str, int]:
        """How many changes of each action."""
        counts = dict.fromkeys(ACTIONS, 0)
        for change in self.changes:
            counts[change.action] += 1
        return counts

    @property
    def has_changes(self) -> bool:
        """Whether applying would change anything (conflicts count: they need a human)."""
        return any(change.action != "unchanged" for change in self.changes)

    def to_dict(self) -> dict[str, Any]:
        """The JSON plan: ``{"changes": [...], "summary": {...}}`` plus the format and prune flag."""
        return {
            "format": PLAN_FORMAT,
            "prune": self.prune,
            "changes": [change.to_dict() for change in self.changes],
            "summary": self.summary,
        }


def make_plan(
    manifest: LoadedManifest,
    live: Iterable[Destination],
    *,
    prune: bool = False,
    variables: Callable[[str], Any] | None = None,
) -> Plan:
    """
    Compare the manifest with the live destinations (no I/O).

    :param manifest: the checked manifest.
    :param live: every destination of the account (``GET /api/v2/destinations``).
    :param prune: plan deletes of unnamed destinations inside the manifest's (project, environment) pairs.
    :param variables: reads Airflow Variables for ``from_variable`` references.
    """
    by_environment: dict[tuple[str | None, str | None], list[Destination]] = {}
    for destination in live:
        by_environment.setdefault((destination.project_key, destination.environment_key), []).append(
            destination
        )
    changes: list[Change] = []
    claimed: set[str] = set()
    for entry in manifest.entries:
        candidates = by_environment.get((entry.project_key, entry.environment_key), [])
        matches = filter_destinations(candidates, name=entry.name, kind=entry.kind)
        claimed.update(match.id for match in matches)
        desired = {"on": entry.on, "config": resolve_config(entry.config, entry.place, variables=variables)}
        changes.append(entry_change(entry, matches, desired))
    if prune:
        for project_key, environment_key in sorted(manifest.scope):
            for destination in by_environment.get((project_key, environment_key), []):
                if destination.id not in claimed:
                    changes.append(_delete_change(destination))
    return Plan(changes, prune=prune)


def entry_change(entry: ManifestEntry, matches: list[Destination], desired: dict[str, Any]) -> Change:
    """Plan one manifest entry against the live destinations that match it (by kind and name)."""
    base: _EntryFields = {
        "project_key": entry.project_key,
        "environment_key": entry.environment_key,
        "kind": entry.kind,
        "name": entry.name,
        "place": entry.place,
        "desired": desired,
    }
    if not matches:
        return Change("create", diff=field_diff({}, desired), **base)
    if len(matches) > 1:
        return Change("conflict", matches=sorted(match.id for match in matches), **base)
    current = matches[0]
    comparison = comparable_config(current.kind, current.config, desired["config"], rotate_secrets=False)
    wanted = dict(comparison.desired)
    for key in comparison.disagreeing:  # the visible characters prove the stored secret differs
        wanted[key] = desired["config"][key]
    before = {"on": current.on, "config": reveal_secrets(current.config or {})}
    diff = field_diff(before, {"on": desired["on"], "config": reveal_secrets(wanted)})
    uncompared = [key for key in comparison.uncompared if key not in comparison.disagreeing]
    action = "update" if diff else "unchanged"
    return Change(
        action, destination_id=current.id, version=current.version, diff=diff, uncompared=uncompared, **base
    )


def _delete_change(destination: Destination) -> Change:
    return Change(
        "delete",
        project_key=destination.project_key or "",
        environment_key=destination.environment_key or "",
        kind=destination.kind,
        name=destination.name,
        destination_id=destination.id,
        version=destination.version,
    )


def field_diff(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[dict[str, Any]]:
    """
    List the fields that differ between two ``{"on", "config"}`` documents, config key by config key.

    :return: ``{"op": "add"|"replace"|"remove", "path": "/config/topic", "before", "after"}`` entries;
        secret values are shown as ``**********``.
    """
    diff: list[dict[str, Any]] = []
    if "on" in after and before.get("on") != after["on"]:
        diff.append(
            _diff_entry("add" if "on" not in before else "replace", "on", before.get("on"), after["on"])
        )
    old, new = before.get("config") or {}, after.get("config") or {}
    for key in sorted(set(old) | set(new)):
        path = "config/" + str(key).replace("~", "~0").replace("/", "~1")
        if key not in new:
            diff.append(_diff_entry("remove", path, old[key], None))
        elif key not in old:
            diff.append(_diff_entry("add", path, None, new[key]))
        elif old[key] != new[key]:
            diff.append(_diff_entry("replace", path, old[key], new[key]))
    return diff


def _diff_entry(op: str, path: str, before: Any, after: Any) -> dict[str, Any]:
    secret = path.startswith("config/") and is_secret_field(path.split("/", 1)[1])
    entry: dict[str, Any] = {"op": op, "path": "/" + path}
    if op != "add":
        entry["before"] = REDACTED if secret and before is not None else before
    if op != "remove":
        entry["after"] = REDACTED if secret and after is not None else after
    if secret:
        entry["secret"] = True
    return entry


def format_plan_table(plan: Plan) -> str:
    """Render the plan as a readable table (one row per change, diffs indented), secrets hidden."""
    header = ("ACTION", "PROJECT", "ENVIRONMENT", "KIND", "NAME", "DESTINATION")
    rows = [
        (c.action, c.project_key, c.environment_key, c.kind or "", c.name or "", c.destination_id or "")
        for c in plan.changes
    ]
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]
    lines = ["  ".join(str(cell).ljust(width) for cell, width in zip(header, widths, strict=True)).rstrip()]
    for change, row in zip(plan.changes, rows, strict=True):
        lines.append(
            "  ".join(str(cell).ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        )
        for item in change.diff if change.action == "update" else []:
            lines.append(
                f"      {item['op']:<7} {item['path']}: {_show(item.get('before'))} -> {_show(item.get('after'))}"
            )
        if change.uncompared:
            lines.append(f"      (not comparable, stored obfuscated: {', '.join(change.uncompared)})")
        if change.matches:
            lines.append(f"      several destinations match: {', '.join(change.matches)}; resolve by hand")
    summary = plan.summary
    lines.append(
        "Plan: " + ", ".join(f"{summary[action]} to {action}" for action in ("create", "update", "delete"))
    )
    lines[-1] += f"; {summary['unchanged']} unchanged, {summary['conflict']} in conflict."
    return "\n".join(lines)


def _show(value: Any) -> str:
    return "-" if value is None else json.dumps(value, sort_keys=True)


class DestinationDriftError(LaunchDarklyError, AirflowFailException):
    """The account differs from the manifest (a drift check failed); retrying cannot fix it."""
