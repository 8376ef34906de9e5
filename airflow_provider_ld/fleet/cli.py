"""
``ld-destinations``: plan, apply and export destinations manifests from the command line.

Exit codes follow Terraform's ``-detailed-exitcode``: ``plan`` exits 0 when nothing would change, 2 when
something would, 1 on error; ``apply`` and ``export`` exit 0 on success and 1 on error.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TextIO

from airflow_provider_ld.connection import ConnectionSettings, normalise_base_url
from airflow_provider_ld.exceptions import LaunchDarklyError, LaunchDarklyValidationError

if TYPE_CHECKING:
    from airflow_provider_ld.hooks.launchdarkly import LaunchDarklyHook

TOKEN_VARIABLE = "LAUNCHDARKLY_API_TOKEN"
EXIT_OK, EXIT_ERROR, EXIT_CHANGES = 0, 1, 2


class _Parser(argparse.ArgumentParser):
    """Usage errors exit 1, so 2 keeps meaning "the plan has changes"."""

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(EXIT_ERROR, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    """Return the command-line parser."""
    parser = _Parser(prog="ld-destinations", description="LaunchDarkly Data Export destinations as code.")
    common = _Parser(add_help=False)
    common.add_argument(
        "--base-url",
        default=None,
        help="API base URL (default https://app.launchdarkly.com; plain http only for loopback hosts)",
    )
    common.add_argument(
        "--conn-id", default=None, help=f"use this Airflow connection instead of ${TOKEN_VARIABLE}"
    )
    common.add_argument("--json", action="store_true", help="print JSON instead of a table")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    plan = commands.add_parser(
        "plan", parents=[common], help="show what apply would change (exit 2 if anything)"
    )
    plan.add_argument("manifest", help="the manifest file (YAML or JSON)")
    plan.add_argument(
        "--prune", action="store_true", help="plan deletes of destinations the manifest does not name"
    )
    apply = commands.add_parser("apply", parents=[common], help="apply the manifest (or a saved plan of it)")
    apply.add_argument("manifest", help="the manifest file (YAML or JSON)")
    apply.add_argument("--prune", action="store_true", help="delete destinations the manifest does not name")
    apply.add_argument("--plan", default=None, help="apply exactly this JSON plan (saved from plan --json)")
    apply.add_argument("--concurrency", type=int, default=4, help="changes applied at once (default 4)")
    export = commands.add_parser("export", parents=[common], help="write current destinations as a manifest")
    export.add_argument("--project", required=True, help="project key")
    export.add_argument("--environment", default=None, help="environment key (default: every environment)")
    commands.add_parser("schema", help="print the manifest's JSON Schema")
    return parser


def main(argv: list[str] | None = None, *, stdout: TextIO | None = None, stderr: TextIO | None = None) -> int:
    """
    Run the command line and return its exit code.

    :param argv: the arguments (default ``sys.argv[1:]``).
    :param stdout: where results go (default ``sys.stdout``).
    :param stderr: where errors go (default ``sys.stderr``).
    """
    out, err = stdout or sys.stdout, stderr or sys.stderr
    args = build_parser().parse_args(argv)
    try:
        return _COMMANDS[args.command](args, out)
    except LaunchDarklyError as error:
        print(f"error: {error}", file=err)
        return EXIT_ERROR


def _schema(args: argparse.Namespace, out: TextIO) -> int:
    from airflow_provider_ld.fleet.manifest import render_json_schema

    out.write(render_json_schema())
    return EXIT_OK


def _plan(args: argparse.Namespace, out: TextIO) -> int:
    from airflow_provider_ld.fleet.manifest import load_manifest
    from airflow_provider_ld.fleet.plan import format_plan_table, make_plan

    manifest = load_manifest(args.manifest)
    hook = _hook(args)
    plan = make_plan(manifest, hook.list_destinations(), prune=args.prune)
    document = plan.to_dict()
    out.write(json.dumps(document, indent=2) + "\n" if args.json else format_plan_table(plan) + "\n")
    return EXIT_CHANGES if plan.has_changes else EXIT_OK


def _apply(args: argparse.Namespace, out: TextIO) -> int:
    from airflow_provider_ld.fleet.apply import apply_plan, plan_from_dict, raise_for_failures
    from airflow_provider_ld.fleet.manifest import load_manifest
    from airflow_provider_ld.fleet.plan import make_plan

    manifest = load_manifest(args.manifest)
    hook = _hook(args)
    live = None
    if args.plan:
        plan = plan_from_dict(_read_json(args.plan), manifest)
    else:
        live = hook.list_destinations()
        plan = make_plan(manifest, live, prune=args.prune)
    report = apply_plan(hook, plan, live=live, concurrency=args.concurrency)
    out.write(json.dumps(report.to_dict(), indent=2) + "\n" if args.json else report.format_table() + "\n")
    raise_for_failures(report)
    return EXIT_OK


def _export(args: argparse.Namespace, out: TextIO) -> int:
    from airflow_provider_ld.fleet.export import dump_manifest, export_manifest

    hook = _hook(args)
    manifest = export_manifest(hook.list_destinations(args.project, args.environment))
    out.write(json.dumps(manifest, indent=2) + "\n" if args.json else dump_manifest(manifest))
    return EXIT_OK


_COMMANDS = {"plan": _plan, "apply": _apply, "export": _export, "schema": _schema}


def _read_json(path: str) -> Any:
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise LaunchDarklyValidationError(
            f"plan: cannot read a JSON plan from {path!r}: {error}", field="plan"
        ) from None


def _hook(args: argparse.Namespace) -> LaunchDarklyHook:
    """A hook on ``--conn-id``, or on ``$LAUNCHDARKLY_API_TOKEN`` and ``--base-url``."""
    from airflow_provider_ld.hooks.launchdarkly import LaunchDarklyHook

    if args.conn_id:
        if args.base_url:
            raise LaunchDarklyValidationError("--base-url: give it or --conn-id, not both", field="base_url")
        return LaunchDarklyHook(args.conn_id)
    token = os.environ.get(TOKEN_VARIABLE, "")
    if not token.strip():
        raise LaunchDarklyValidationError(
            f"token: set {TOKEN_VARIABLE} to an API access token, or pass --conn-id", field=TOKEN_VARIABLE
        )
    try:
        base_url = normalise_base_url(args.base_url)
    except LaunchDarklyValidationError as error:
        raise LaunchDarklyValidationError(
            "--base-url: " + error.message.removeprefix("host: "), field="base_url"
        ) from None
    from airflow_provider_ld.fleet._hook import SettingsHook

    return SettingsHook(ConnectionSettings(base_url=base_url, token=token))
