"""
Operators that plan and apply a destinations manifest (destinations as code) across projects and environments.

Importing this module (parsing a DAG) loads no manifest models, hook or HTTP library: everything is
imported inside ``execute``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from airflow_provider_ld.checks import validate_bool
from airflow_provider_ld.exceptions import LaunchDarklyValidationError
from airflow_provider_ld.task import LaunchDarklyTaskMixin

try:
    from airflow.sdk import BaseOperator
except ImportError:  # pragma: no cover - Airflow 3.0
    from airflow.models.baseoperator import BaseOperator  # type: ignore[no-redef,import-not-found,unused-ignore]

if TYPE_CHECKING:
    from airflow_provider_ld.fleet.manifest import LoadedManifest
    from airflow_provider_ld.fleet.plan import Plan
    from airflow_provider_ld.models import Destination

#: XCom key of the plan when the drift check fails (the return value is not pushed on failure).
PLAN_XCOM_KEY = "plan"
#: XCom key of the apply report, pushed before the task fails on a refused or failed change.
REPORT_XCOM_KEY = "report"


class _ManifestOperator(LaunchDarklyTaskMixin, BaseOperator):
    """
    Base of the manifest operators.

    :param manifest: the manifest: a path to a YAML file (relative to the DAG file's folder, or absolute)
        or the manifest as a dict (templated; Jinja inside a dict can supply secrets).
    :param prune: also delete destinations the manifest does not name, inside its (project, environment) pairs.
    :param launchdarkly_conn_id: the ``launchdarkly`` connection to use (templated).
    """

    template_fields: Sequence[str] = ("manifest", "launchdarkly_conn_id")

    def __init__(
        self,
        *,
        manifest: str | Mapping[str, Any],
        prune: bool = False,
        launchdarkly_conn_id: str = "launchdarkly_default",
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.manifest = manifest
        self.prune = prune
        self.launchdarkly_conn_id = launchdarkly_conn_id

    def rendered_secrets(self) -> Iterator[str]:
        """Yield every secret written into a dict manifest (registered with the secrets masker at render time)."""
        from airflow_provider_ld.models.secrets import secret_values

        if isinstance(self.manifest, Mapping):
            for destination in self.manifest.get("destinations") or []:
                yield from secret_values(destination)

    def load(self) -> LoadedManifest:
        """Check the manifest (before any request) and return it."""
        from airflow_provider_ld.fleet.manifest import load_manifest

        validate_bool("prune", self.prune)
        if isinstance(self.manifest, Mapping):
            return load_manifest(self.manifest)
        if not isinstance(self.manifest, (str, Path)) or not str(self.manifest).strip():
            raise LaunchDarklyValidationError(
                "manifest: must be a path to a YAML file or a dict with a 'destinations' list",
                field="manifest",
            )
        return load_manifest(self.manifest_path())

    def manifest_path(self) -> Path:
        """The manifest file: absolute, or relative to the folder of the DAG file."""
        path = Path(str(self.manifest).strip())
        if path.is_absolute():
            return path
        fileloc = getattr(self.dag, "fileloc", None) if self.has_dag() else None  # type: ignore[no-untyped-call]
        return (Path(fileloc).parent if fileloc else Path.cwd()) / path

    def make_plan(self, manifest: LoadedManifest) -> tuple[Plan, list[Destination]]:
        """Plan from one inventory request; return the plan and the destinations it was made from."""
        from airflow_provider_ld.fleet.manifest import airflow_variable
        from airflow_provider_ld.fleet.plan import make_plan

        live = self.hook.list_destinations()
        return make_plan(manifest, live, prune=self.prune, variables=airflow_variable), live


class LaunchDarklyPlanDestinationsOperator(_ManifestOperator):
    """
    Compare a destinations manifest with the account and return the JSON plan (one API request).

    The plan is logged as a table and returned to XCom as ``{"changes": [...], "summary": {...}}``;
    secrets are never in it. With ``fail_on_changes=True`` this is a drift check: the task fails
    (without retries) when the account left the manifest, after pushing the plan under XCom key ``plan``.

    :param manifest: a YAML path (relative to the DAG file's folder, or absolute) or a dict (templated).
    :param prune: plan deletes of destinations the manifest does not name, inside its scope.
    :param fail_on_changes: fail when the plan has changes (drift check).
    :param launchdarkly_conn_id: the ``launchdarkly`` connection to use (templated).
    """

    def __init__(self, *, fail_on_changes: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.fail_on_changes = fail_on_changes

    def execute(self, context: Any) -> dict[str, Any]:
        from airflow_provider_ld.fleet.plan import DestinationDriftError, format_plan_table

        validate_bool("fail_on_changes", self.fail_on_changes)
        manifest = self.load()
        with self.closing():
            plan, _ = self.make_plan(manifest)
        self.log.info("Destinations plan:\n%s", format_plan_table(plan))
        document: dict[str, Any] = plan.to_dict()
        if self.fail_on_changes and plan.has_changes:
            ti = context.get("ti") if hasattr(context, "get") else None
            if ti is not None:
                ti.xcom_push(key=PLAN_XCOM_KEY, value=document)
            summary = document["summary"]
            raise DestinationDriftError(
                "the account has drifted from the manifest: "
                + ", ".join(
                    f"{count} {action}"
                    for action, count in summary.items()
                    if count and action != "unchanged"
                )
            )
        return document


class LaunchDarklyApplyDestinationsOperator(_ManifestOperator):
    """
    Bring the account to a destinations manifest, or apply exactly a reviewed plan of it.

    Creates, version-guarded minimal patches and deletes run a few at a time; one failing change does
    not stop the others, and the task fails at the end with a per-change report (also pushed under XCom
    key ``report``). Changes whose destination moved since a reviewed plan was made are refused.

    :param manifest: a YAML path (relative to the DAG file's folder, or absolute) or a dict (templated).
    :param prune: delete destinations the manifest does not name, inside its scope (ignored with ``plan``:
        the plan says what to delete).
    :param plan: the plan operator's XCom (a dict or its JSON), to apply exactly what was reviewed;
        ``None`` plans and applies at once.
    :param concurrency: how many changes run at once.
    :param launchdarkly_conn_id: the ``launchdarkly`` connection to use (templated).
    """

    template_fields: Sequence[str] = (*_ManifestOperator.template_fields, "plan")

    def __init__(
        self, *, plan: Mapping[str, Any] | str | None = None, concurrency: int = 4, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.plan = plan
        self.concurrency = concurrency

    def execute(self, context: Any) -> dict[str, Any]:
        from airflow_provider_ld.fleet.apply import apply_plan, plan_from_dict, raise_for_failures
        from airflow_provider_ld.fleet.manifest import airflow_variable

        manifest = self.load()
        reviewed = self._reviewed_plan()
        with self.closing():
            if reviewed is None:
                plan, live = self.make_plan(manifest)
            else:
                plan, live = plan_from_dict(reviewed, manifest, variables=airflow_variable), None
            report = apply_plan(self.hook, plan, live=live, concurrency=self.concurrency, log=self.log)
        self.log.info("Destinations applied:\n%s", report.format_table())
        document = report.to_dict()
        failures = report.failures
        if failures:
            ti = context.get("ti") if hasattr(context, "get") else None
            if ti is not None:
                ti.xcom_push(key=REPORT_XCOM_KEY, value=document)
        raise_for_failures(report)
        return document

    def _reviewed_plan(self) -> Mapping[str, Any] | None:
        if self.plan is None or self.plan == "" or self.plan == "None":
            return None
        if isinstance(self.plan, str):
            try:
                reviewed: Mapping[str, Any] = json.loads(self.plan)
                return reviewed
            except ValueError:
                raise LaunchDarklyValidationError(
                    "plan: must be the plan operator's XCom (a dict or its JSON)", field="plan"
                ) from None
        return self.plan
