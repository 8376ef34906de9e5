"""
Applying a plan: creates, version-guarded minimal patches and deletes, a few at a time.

Applying a reviewed plan applies exactly that plan. One inventory request (``GET /api/v2/destinations``)
re-reads the account first, so a change whose destination moved since the plan was made (another
version, or a create whose destination now exists) is refused rather than applied over someone's edit;
the PATCH itself tests ``/version`` too, for edits made in between. One failing change does not stop the
others; the report lists every change and :class:`FleetApplyError` is raised at the end if any failed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from airflow_provider_ld.exceptions import (
    LaunchDarklyConflictError,
    LaunchDarklyError,
    LaunchDarklyNotFoundError,
    LaunchDarklyValidationError,
)
from airflow_provider_ld.fleet.manifest import LoadedManifest, ManifestEntry, resolve_config
from airflow_provider_ld.fleet.plan import ACTIONS, PLAN_FORMAT, Change, Plan, entry_change
from airflow_provider_ld.models.destinations import Destination, filter_destinations

if TYPE_CHECKING:
    from airflow_provider_ld.hooks.launchdarkly import LaunchDarklyHook

#: How many changes run at once by default; the hook's retries absorb the API's 429 answers.
DEFAULT_CONCURRENCY = 4
FAILED_STATUSES = ("failed", "refused")


class FleetApplyError(LaunchDarklyError):
    """Some changes of a plan could not be applied; ``report`` holds every change's outcome."""

    def __init__(self, message: str, *, report: ApplyReport) -> None:
        super().__init__(message)
        self.report = report


@dataclass
class ChangeResult:
    """
    What happened to one change.

    :param change: the planned change.
    :param status: ``created``, ``updated``, ``deleted``, ``unchanged``, ``already applied``, ``refused``
        (the destination moved since the plan) or ``failed``.
    :param detail: why it was refused or failed, without secrets.
    :param destination_id: the destination's id after the change.
    """

    change: Change
    status: str
    detail: str = ""
    destination_id: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """The result as JSON (no secret values)."""
        return {
            "action": self.change.action,
            "project_key": self.change.project_key,
            "environment_key": self.change.environment_key,
            "kind": self.change.kind,
            "name": self.change.name,
            "destination_id": self.destination_id or self.change.destination_id,
            "status": self.status,
            "detail": self.detail,
        }


@dataclass
class ApplyReport:
    """The outcome of every change of a plan, in plan order."""

    results: list[ChangeResult]

    @property
    def failures(self) -> list[ChangeResult]:
        """The changes that were refused or failed."""
        return [result for result in self.results if result.status in FAILED_STATUSES]

    def to_dict(self) -> dict[str, Any]:
        """The report as JSON: one entry per change and a count per status."""
        counts: dict[str, int] = {}
        for result in self.results:
            counts[result.status] = counts.get(result.status, 0) + 1
        return {"results": [result.to_dict() for result in self.results], "summary": counts}

    def format_table(self) -> str:
        """Render the report as a readable table."""
        header = ("STATUS", "ACTION", "PROJECT", "ENVIRONMENT", "KIND", "NAME", "DESTINATION")
        rows = [
            (
                r.status,
                r.change.action,
                r.change.project_key,
                r.change.environment_key,
                r.change.kind or "",
                r.change.name or "",
                r.destination_id or r.change.destination_id or "",
            )
            for r in self.results
        ]
        widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]
        lines = ["  ".join(str(c).ljust(w) for c, w in zip(header, widths, strict=True)).rstrip()]
        for result, row in zip(self.results, rows, strict=True):
            lines.append("  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
            if result.detail:
                lines.append(f"      {result.detail}")
        return "\n".join(lines)


def plan_from_dict(
    data: Mapping[str, Any], manifest: LoadedManifest, *, variables: Callable[[str], Any] | None = None
) -> Plan:
    """
    Rebuild a reviewed JSON plan, taking the desired values (and secrets) from the manifest.

    :param data: the JSON plan (e.g. the plan operator's XCom).
    :param manifest: the manifest the plan was made from.
    :param variables: reads Airflow Variables for ``from_variable`` references.
    :raises LaunchDarklyValidationError: when the plan is malformed or names what the manifest does not.
    """
    if (
        not isinstance(data, Mapping)
        or data.get("format") != PLAN_FORMAT
        or not isinstance(data.get("changes"), list)
    ):
        raise LaunchDarklyValidationError(
            f"plan: must be a plan made by this release (format {PLAN_FORMAT}), with a 'changes' list",
            field="plan",
        )
    entries = {entry.identity: entry for entry in manifest.entries}
    changes: list[Change] = []
    for index, item in enumerate(data["changes"]):
        place = f"plan.changes[{index}]"
        if not isinstance(item, Mapping) or item.get("action") not in ACTIONS:
            raise LaunchDarklyValidationError(
                f"{place}.action: must be one of {', '.join(ACTIONS)}",
                field=f"{place}.action",
                allowed=ACTIONS,
            )
        change = Change(
            action=item["action"],
            project_key=str(item.get("project_key") or ""),
            environment_key=str(item.get("environment_key") or ""),
            kind=item.get("kind"),
            name=item.get("name"),
            destination_id=item.get("destination_id"),
            version=item.get("version"),
            diff=list(item.get("diff") or []),
            matches=list(item.get("matches") or []),
        )
        if change.action == "delete":
            if (
                change.project_key,
                change.environment_key,
            ) not in manifest.scope or not change.destination_id:
                raise LaunchDarklyValidationError(
                    f"{place}: deletes only inside the manifest's projects and environments", field=place
                )
        else:
            entry = entries.get(change.identity)  # type: ignore[arg-type]
            if entry is None:
                raise LaunchDarklyValidationError(
                    f"{place}: {change.kind} destination {change.name!r} in {change.project_key}/"
                    f"{change.environment_key} is not in the manifest (was the manifest changed after the plan?)",
                    field=place,
                )
            change.place = entry.place
            change.desired = {
                "on": entry.on,
                "config": resolve_config(entry.config, entry.place, variables=variables),
            }
        changes.append(change)
    return Plan(changes, prune=bool(data.get("prune")))


def apply_plan(
    hook: LaunchDarklyHook,
    plan: Plan,
    *,
    live: Iterable[Destination] | None = None,
    concurrency: int = DEFAULT_CONCURRENCY,
    log: Any = None,
) -> ApplyReport:
    """
    Execute a plan and return the per-change report (raises nothing for a failed change).

    :param hook: the hook to call the API with.
    :param plan: the plan to apply.
    :param live: the account's destinations as just read; when ``None`` they are listed once first.
    :param concurrency: how many changes run at once.
    :param log: a logger for progress lines.
    """
    if isinstance(concurrency, bool) or not isinstance(concurrency, int) or concurrency < 1:
        raise LaunchDarklyValidationError(
            f"concurrency: must be an integer >= 1, got {concurrency!r}", field="concurrency"
        )
    pending = [change for change in plan.changes if change.action != "unchanged"]
    if pending and live is None:
        live = hook.list_destinations()
    current = list(live or [])
    by_id = {destination.id: destination for destination in current}

    def run(change: Change) -> ChangeResult:
        try:
            result = _apply_one(hook, change, current, by_id)
        except LaunchDarklyError as err:
            result = ChangeResult(change, "failed", str(err))
        except Exception as err:  # noqa: BLE001 - one change's failure must not stop the others
            result = ChangeResult(change, "failed", f"{type(err).__name__}: {err}")
        if log is not None and result.status != "unchanged":
            log.info(
                "%s %s destination %r in %s/%s: %s%s",
                change.action,
                change.kind,
                change.name,
                change.project_key,
                change.environment_key,
                result.status,
                f" ({result.detail})" if result.detail else "",
            )
        return result

    with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="ld-apply") as pool:
        results = list(pool.map(run, plan.changes))
    return ApplyReport(results)


def raise_for_failures(report: ApplyReport) -> None:
    """Raise :class:`FleetApplyError` listing every refused or failed change, if any."""
    failures = report.failures
    if not failures:
        return
    lines = [
        f"{r.change.action} {r.change.kind} {r.change.name!r} in {r.change.project_key}/{r.change.environment_key}: "
        f"{r.status}: {r.detail}"
        for r in failures
    ]
    raise FleetApplyError(
        f"{len(failures)} of {len(report.results)} changes were not applied:\n" + "\n".join(lines),
        report=report,
    )


def _apply_one(
    hook: LaunchDarklyHook, change: Change, live: list[Destination], by_id: dict[str, Destination]
) -> ChangeResult:
    if change.action == "unchanged":
        return ChangeResult(change, "unchanged")
    if change.action == "conflict":
        return ChangeResult(
            change, "failed", f"several destinations match ({', '.join(change.matches)}); resolve by hand"
        )
    if change.action == "create":
        return _create(hook, change, live)
    if change.action == "update":
        return _update(hook, change, by_id.get(change.destination_id or ""))
    return _delete(hook, change, by_id.get(change.destination_id or ""))


def _create(hook: LaunchDarklyHook, change: Change, live: list[Destination]) -> ChangeResult:
    existing = filter_destinations(
        live,
        project_key=change.project_key,
        environment_key=change.environment_key,
        name=change.name,
        kind=change.kind,
    )
    if existing:
        return _already_or_refused(change, existing, "a destination with this kind and name now exists")
    desired = change.desired or {}
    created = hook.create_destination(
        change.project_key,
        change.environment_key,
        kind=change.kind or "",
        config=desired.get("config") or {},
        name=change.name,
        on=bool(desired.get("on")),
    )
    return ChangeResult(change, "created", destination_id=created.id)


def _update(hook: LaunchDarklyHook, change: Change, current: Destination | None) -> ChangeResult:
    if current is None:
        return ChangeResult(change, "refused", "the destination no longer exists")
    if current.version != change.version:
        return _already_or_refused(
            change,
            [current],
            f"the destination moved since the plan (version {change.version} -> {current.version})",
        )
    patch = [{"op": "test", "path": "/version", "value": change.version}]
    patch.extend(_operation(item, change.desired or {}) for item in change.diff)
    try:
        hook.patch_destination(change.project_key, change.environment_key, current.id, patch)
    except LaunchDarklyConflictError as err:
        return ChangeResult(change, "refused", f"the destination moved since the plan: {err}")
    return ChangeResult(change, "updated", destination_id=current.id)


def _operation(item: Mapping[str, Any], desired: Mapping[str, Any]) -> dict[str, Any]:
    """Turn one diff entry into a JSON Patch operation carrying the desired (clear) value."""
    path = str(item.get("path") or "")
    op = item.get("op")
    if op == "remove":
        return {"op": "remove", "path": path}
    if path == "/on":
        return {"op": op, "path": path, "value": desired.get("on")}
    key = path.removeprefix("/config/").replace("~1", "/").replace("~0", "~")
    return {"op": op, "path": path, "value": (desired.get("config") or {}).get(key)}


def _delete(hook: LaunchDarklyHook, change: Change, current: Destination | None) -> ChangeResult:
    if current is None:
        return ChangeResult(change, "already applied", "the destination was already gone")
    if current.version != change.version:
        return ChangeResult(
            change,
            "refused",
            f"the destination moved since the plan (version {change.version} -> {current.version})",
        )
    try:
        hook.delete_destination(change.project_key, change.environment_key, current.id)
    except LaunchDarklyNotFoundError:
        return ChangeResult(change, "already applied", "the destination was already gone")
    return ChangeResult(change, "deleted", destination_id=current.id)


def _already_or_refused(change: Change, existing: list[Destination], reason: str) -> ChangeResult:
    """A destination that moved is fine only if it already has exactly the planned state."""
    if change.desired is not None and len(existing) == 1:
        entry = ManifestEntry(
            change.project_key,
            change.environment_key,
            change.kind or "",
            change.name or "",
            bool(change.desired.get("on")),
            change.desired.get("config") or {},
            change.place or "",
        )
        if entry_change(entry, existing, change.desired).action == "unchanged":
            return ChangeResult(change, "already applied", destination_id=existing[0].id)
    return ChangeResult(change, "refused", reason)
