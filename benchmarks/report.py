"""Render the benchmark results (``latest.json``) as the Markdown report (``latest.md``)."""

from __future__ import annotations

import math
from typing import Any


def _num(value: Any, digits: int = 2) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    if isinstance(value, int):
        return f"{value:,}"
    return f"{value:,.{digits}f}"


def _ms(seconds: float | None) -> str:
    return "n/a" if seconds is None else f"{_num(seconds * 1000, 1)} ms"


def _ms_of(milliseconds: float | None) -> str:
    return "n/a" if milliseconds is None else f"{_num(milliseconds, 1)} ms"


def _mb(kib: float) -> str:
    return f"{_num(kib / 1024, 1)} MB"


def _met(ok: bool | None) -> str:
    return "—" if ok is None else ("yes" if ok else "**no**")


class _Table:
    def __init__(self, *header: str) -> None:
        self.lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]

    def row(self, *cells: Any) -> None:
        self.lines.append("| " + " | ".join(str(cell) for cell in cells) + " |")

    def text(self) -> str:
        return "\n".join(self.lines)


def _machine(results: dict[str, Any]) -> str:
    info = results["machine"]
    versions = info["versions"]
    return (
        f"{info['nproc']} CPUs ({info['cpu_model']}), Python {info['python']}, Airflow {versions['apache-airflow']} "
        f"(task SDK {versions['apache-airflow-task-sdk']}), apache-airflow-providers-http "
        f"{versions['apache-airflow-providers-http']}, launchdarkly-api {versions['launchdarkly-api']}, requests "
        f"{versions['requests']}, httpx {versions['httpx']}, pydantic {versions['pydantic']}; {info['platform']}; "
        f"load average at start {' / '.join(str(value) for value in info['load_average_at_start'])}"
    )


def _import_rows(table: _Table, section: dict[str, Any]) -> None:
    dags = section["dags"]
    ours, http, base = dags["launchdarkly"], dags["http"], dags["python"]
    runs = ours["runs"]
    ratio = ours["ratio_vs_python"]
    table.row(
        1,
        f"parsing the DAG file (what the provider adds): median of {ours['parses']} parses, each in a child "
        "forked after `airflow.sdk` was imported, as the DAG processor does",
        _ms(ours["parse_s"]),
        f"{_ms(base['parse_s'])} (PythonOperator DAG)",
        _num(ratio["parse_s"]),
        "≤ 1.10",
        _met(ratio["parse_s"] <= 1.10),
    )
    table.row(
        1,
        "memory a parse adds (forked child)",
        _mb(ours["parse_rss_delta_kb"]),
        _mb(base["parse_rss_delta_kb"]),
        _num(ours["parse_rss_delta_kb"] / base["parse_rss_delta_kb"]),
        "≤ 1.10",
        _met(ours["parse_rss_delta_kb"] <= 1.10 * base["parse_rss_delta_kb"]),
    )
    table.row(
        1,
        f"whole fresh process (interpreter + Airflow + DAG file), wall time: median of {runs} (fastest run)",
        f"{_num(ours['process_wall_s'])} s ({_num(ours['process_wall_min_s'])} s)",
        f"{_num(base['process_wall_s'])} s ({_num(base['process_wall_min_s'])} s)",
        f"{_num(ratio['process_wall_s'])} ({_num(ours['process_wall_min_s'] / base['process_wall_min_s'])})",
        "≤ 1.10",
        _met(ratio["process_wall_s"] <= 1.10),
    )
    table.row(
        1,
        "whole fresh process, CPU time (steadier than wall time on a busy machine)",
        f"{_num(ours['process_cpu_s'])} s",
        f"{_num(base['process_cpu_s'])} s",
        _num(ratio["process_cpu_s"]),
        "≤ 1.10",
        _met(ratio["process_cpu_s"] <= 1.10),
    )
    table.row(
        1,
        "whole fresh process, peak RSS",
        _mb(ours["peak_rss_kb"]),
        _mb(base["peak_rss_kb"]),
        _num(ratio["peak_rss_kb"]),
        "≤ 1.10",
        _met(ratio["peak_rss_kb"] <= 1.10),
    )
    heavy = ours["heavy_added_by_import"]
    table.row(
        1,
        "heavy modules the DAG file imports (models, hooks, trigger, requests, httpx, jsonpatch, pydantic, ...)",
        ", ".join(heavy) or "none",
        "—",
        "—",
        "none",
        _met(not heavy),
    )
    attempts = ours["network_attempts"]
    table.row(
        1, "network connections attempted at parse time", len(attempts), "—", "—", "0", _met(not attempts)
    )
    table.row(
        1,
        "same DAG with `HttpOperator`/`HttpSensor`: parse / memory a parse adds / fresh-process peak RSS",
        f"{_ms(http['parse_s'])} / {_mb(http['parse_rss_delta_kb'])} / {_mb(http['peak_rss_kb'])}",
        "PythonOperator DAG",
        f"{_num(http['ratio_vs_python']['parse_s'])} / "
        f"{_num(http['parse_rss_delta_kb'] / base['parse_rss_delta_kb'])} / "
        f"{_num(http['ratio_vs_python']['peak_rss_kb'])}",
        "info",
        "—",
    )


def _call_rows(table: _Table, section: dict[str, Any], imports: dict[str, Any] | None) -> None:
    hook, bare = section["hook"], section["bare"]
    calls = section["calls_per_client_and_operation"]
    for op, label in (
        ("get_destination", "`get_destination`"),
        ("list_destinations", "`list_destinations` (20 in the account)"),
    ):
        ratio = hook["ratio_vs_bare"][op]
        table.row(
            2,
            f"{label}, wall time per call over loopback, median of {calls}",
            _ms_of(hook[op]["wall_ms_per_call"]),
            f"{_ms_of(bare[op]['wall_ms_per_call'])} (bare `requests.Session`)",
            _num(ratio["wall_ms_per_call"]),
            "≤ 1.15",
            _met(ratio["wall_ms_per_call"] <= 1.15),
        )
        table.row(
            2,
            f"{label}, client CPU per call",
            _ms_of(hook[op]["cpu_ms_per_call"]),
            _ms_of(bare[op]["cpu_ms_per_call"]),
            _num(ratio["cpu_ms_per_call"]),
            "—",
            "—",
        )
    ld_api = section.get("launchdarkly_api")
    if ld_api:
        table.row(
            2,
            "`launchdarkly-api` client, wall per call: get / list",
            f"{_ms_of(ld_api['get_destination']['wall_ms_per_call'])} / "
            f"{_ms_of(ld_api['list_destinations']['wall_ms_per_call'])}",
            "bare `requests.Session`",
            f"{_num(ld_api['ratio_vs_bare']['get_destination']['wall_ms_per_call'])} / "
            f"{_num(ld_api['ratio_vs_bare']['list_destinations']['wall_ms_per_call'])}",
            "info",
            "—",
        )
    elif section.get("launchdarkly_api_note"):
        table.row(2, section["launchdarkly_api_note"], "", "", "", "", "")
    if imports:
        clients = imports["client_import"]
        ld, ours = clients["launchdarkly_api"], clients["provider_hook"]
        table.row(
            2,
            "importing the client in a task process (after `airflow.sdk`): `launchdarkly-api` vs this hook + requests",
            f"{_ms(ld['import_s'])}, {_mb(ld['rss_delta_kb'])}, {_num(ld['new_module_count'], 0)} modules",
            f"{_ms(ours['import_s'])}, {_mb(ours['rss_delta_kb'])}, {_num(ours['new_module_count'], 0)} modules",
            f"{_num(ld['ratio_vs_provider_hook']['import_s'], 1)} / {_num(ld['ratio_vs_provider_hook']['rss_delta_kb'], 1)}",
            "info",
            "—",
        )


def _trigger_rows(table: _Table, section: dict[str, Any]) -> None:
    ours, fair, naive = section["ours"], section["bare_httpx_bounded"], section["bare_httpx"]
    ratio, vs_naive = section["ratios"], section["ratios_vs_naive"]
    bound = section["shared_pool_size"]
    where = f"{section['triggers']} triggers, poll every {_num(section['poll_interval_s'], 1)} s"
    fair_name = f"bare httpx loop, same `Limits({bound}, {bound})` and ≤ {bound} requests in flight"

    def cpu(variant: dict[str, Any]) -> str:
        return (
            f"{_ms_of(variant['marginal_cpu_ms_per_poll'])} / {_ms_of(variant['cpu_ms_per_poll'])} / "
            f"{_ms_of(variant['fixed_cpu_ms_per_trigger'])}"
        )

    def cpu_ratio(ratios: dict[str, float]) -> str:
        return (
            f"{_num(ratios['marginal_cpu_ms_per_poll'])} / {_num(ratios['cpu_ms_per_poll'])} / "
            f"{_num(ratios['fixed_cpu_ms_per_trigger'])}"
        )

    marginal = ours["marginal_cpu_ms_per_poll"]
    table.row(
        4,
        f"memory per waiting trigger ({where}, ready after 2-6 s; ours: shared client with "
        f"`Limits({bound}, {bound})`, ≤ {bound} requests in flight)",
        f"{_num(ours['kb_per_waiter'], 1)} KB",
        f"{_num(fair['kb_per_waiter'], 1)} KB ({fair_name})",
        _num(ratio["kb_per_waiter"]),
        "< 100 KB",
        _met(ours["kb_per_waiter"] < 100),
    )
    table.row(
        4,
        "CPU per poll: **each further poll (judged)** / overall "
        f"({ours['polls']} polls; the trigger logs one line per poll) / fixed per trigger (start, connection "
        "read, one poll, event)",
        cpu(ours),
        f"{cpu(fair)} ({fair['polls']} polls)",
        cpu_ratio(ratio),
        "< 2 ms per further poll",
        _met(None if marginal is None or math.isnan(marginal) else marginal < 2),
    )
    table.row(
        4,
        "event loop worst lag (p99)",
        f"{_ms_of(ours['loop_lag_max_ms'])} ({_ms_of(ours['loop_lag_p99_ms'])})",
        f"{_ms_of(fair['loop_lag_max_ms'])} ({_ms_of(fair['loop_lag_p99_ms'])})",
        _num(ratio["loop_lag_max_ms"]),
        "—",
        "—",
    )
    table.row(
        4,
        "TCP connections the emulator accepted / polls (one shared client per loop)",
        f"{ours['tcp_connections_accepted']} / {ours['polls']}",
        f"{fair['tcp_connections_accepted']} / {fair['polls']}",
        _num(ratio["tcp_connections_accepted"]),
        "reused (≤ 1 per 10 polls)",
        _met(ours["tcp_connections_accepted"] <= ours["polls"] / 10),
    )
    table.row(
        4,
        "naive baseline, bare httpx loop with default client settings (no cap on requests in flight): "
        "CPU per poll overall / worst lag / connections accepted / memory per trigger",
        f"{_ms_of(ours['cpu_ms_per_poll'])} / {_ms_of(ours['loop_lag_max_ms'])} / "
        f"{ours['tcp_connections_accepted']} / {_num(ours['kb_per_waiter'], 1)} KB",
        f"{_ms_of(naive['cpu_ms_per_poll'])} ({naive['polls']} polls) / {_ms_of(naive['loop_lag_max_ms'])} / "
        f"{naive['tcp_connections_accepted']} / {_num(naive['kb_per_waiter'], 1)} KB",
        f"{_num(vs_naive['cpu_ms_per_poll'])} / {_num(vs_naive['loop_lag_max_ms'])} / "
        f"{_num(vs_naive['tcp_connections_accepted'])} / {_num(vs_naive['kb_per_waiter'])}",
        "info",
        "—",
    )


def _rate_rows(table: _Table, section: dict[str, Any]) -> None:
    put, rec = section["throughput"], section["recovery"]
    window = section["window_s"]
    table.row(
        5,
        f"throughput: {put['tasks']} creates in 20 environments, {put['concurrent_tasks']} concurrent tasks "
        f"(4 processes x 4 threads), limit {section['limit']} per {_num(window, 1)} s window",
        f"{_num(put['accepted_per_window'], 1)} req/window ({put['windows_spanned']} windows)",
        f"{put['limit_per_window']} req/window (the limit; {put['ideal_windows']} windows at best)",
        _num(put["fraction_of_limit"]),
        "≥ 0.8",
        _met(put["fraction_of_limit"] >= 0.8),
    )
    table.row(
        5,
        f"failed tasks (429s absorbed by retries: {put['rejected_429']})",
        put["failures"],
        "—",
        "—",
        "0",
        _met(put["failures"] == 0),
    )
    table.row(
        5,
        f"recovery after a {_num(rec['storm_s'], 1)} s storm of 429s: first accepted request / back to ≥ 80 % "
        "of the limit",
        f"{_num(rec['first_success_after_storm_s'])} s / {_num(rec['back_to_80pct_rate_after_s'])} s",
        f"{_num(window, 1)} s (one window)",
        f"{_num(rec['first_success_after_storm_windows'])} / {_num(rec['back_to_80pct_rate_after_windows'])}",
        "—",
        "—",
    )
    table.row(5, "failed tasks in the storm run", rec["failures"], "—", "—", "0", _met(rec["failures"] == 0))


def _emulator_rows(table: _Table, section: dict[str, Any], triggers: dict[str, Any] | None) -> None:
    one, four = section["get_one_1_conn"], section["get_one_4_conn"]
    table.row(
        6,
        "emulator: GET one destination over 1 / 4 keep-alive connections",
        f"{_num(one['emulator_rps'], 0)} / {_num(four['emulator_rps'], 0)} req/s",
        f"{_num(one['bare_stdlib_rps'], 0)} / {_num(four['bare_stdlib_rps'], 0)} req/s (bare stdlib server)",
        f"{_num(one['ratio'])} / {_num(four['ratio'])}",
        "—",
        "—",
    )
    table.row(
        6,
        "emulator CPU per request (capacity on one core)",
        f"{_num(section['emulator_cpu_ms_per_get'], 2)} ms ({_num(section['emulator_capacity_get_rps_one_core'], 0)} "
        "req/s)",
        "—",
        "—",
        "—",
        "—",
    )
    if triggers:
        offered = triggers["triggers"] / triggers["poll_interval_s"]
        headroom = four["emulator_rps"] / offered
        table.row(
            6,
            "headroom over the busiest load a benchmark offers (section 4)",
            f"{_num(four['emulator_rps'], 0)} req/s",
            f"{_num(offered, 0)} req/s offered",
            _num(headroom),
            "> 1",
            _met(headroom > 1),
        )


def _shared_poll_rows(table: _Table, section: dict[str, Any]) -> None:
    shared, before, ratios = section["shared"], section["per_trigger"], section["ratios"]
    where = (
        f"{section['triggers']} triggers by id on one connection, poll every {_num(section['poll_interval_s'], 1)} s, "
        f"configured after {section['ready_after_s'][0]:.0f}-{section['ready_after_s'][1]:.0f} s"
    )
    rows = (
        ("requests per minute", "requests_per_minute", "", "—"),
        ("most requests in one poll interval", "max_requests_in_one_interval", "", "≤ 1 inventory request"),
        ("triggerer CPU per sensor per interval", "cpu_us_per_sensor_per_interval", " µs", "info"),
        ("memory per trigger", "kb_per_trigger", " KB", "info"),
        ("worst event-loop lag", "loop_lag_max_ms", " ms", "info"),
    )
    for label, key, unit, goal in rows:
        met = "—"
        if key == "max_requests_in_one_interval":
            met = _met(shared["inventory_requests"] <= shared["elapsed_s"] / section["poll_interval_s"] + 1)
        table.row(
            7,
            f"{label} ({where}; baseline: per-trigger polling)",
            f"{_num(shared[key], 1)}{unit}",
            f"{_num(before[key], 1)}{unit}",
            _num(ratios[key], 3),
            goal,
            met,
        )


def _fleet_rows(table: _Table, section: dict[str, Any]) -> None:
    fleet, base, ratios = section["fleet_plan"], section["one_operator_per_destination"], section["ratios"]
    where = f"{section['manifest_entries']} manifest entries, {section['account_destinations']} destinations"
    table.row(
        8,
        f"plan requests ({where}) vs one operator per destination",
        fleet["requests"],
        f"{base['requests']} (scaled from {base['sample']})",
        _num(ratios["requests"], 4),
        "1 request",
        _met(fleet["requests"] == 1),
    )
    table.row(
        8,
        "plan CPU vs one operator per destination",
        f"{_num(fleet['cpu_s'], 2)} s",
        f"{_num(base['cpu_s'], 2)} s (scaled from {base['sample']})",
        _num(ratios["cpu_s"], 3),
        "< 1",
        _met(ratios["cpu_s"] < 1),
    )


def render(results: dict[str, Any]) -> str:
    """Return the Markdown report for ``results`` (the content of ``latest.json``)."""
    sections = results["sections"]
    durations = results["durations_s"]
    parts = [
        "# Benchmarks",
        "",
        f"Generated {results['generated_at']} by `make bench` in {_num(durations.get('total', 0), 0)} s.",
        (
            "Performance numbers come only from these benchmarks. Medians over several runs; every ratio is "
            "against a baseline measured in the same run on the same machine (ratio = ours / baseline; lower is "
            "better except for throughput)."
        ),
        "",
        f"Machine: {_machine(results)}.",
        "",
        "## Summary",
        "",
    ]
    table = _Table("#", "measure", "ours", "baseline", "ratio", "goal", "met")
    if "import_cost" in sections:
        _import_rows(table, sections["import_cost"])
    if "call_overhead" in sections:
        _call_rows(table, sections["call_overhead"], sections.get("import_cost"))
    if "request_counts" in sections:
        rows = sections["request_counts"]["rows"]
        extra = sum(row["requests"] - row["minimum"] for row in rows)
        over = [row["operation"] for row in rows if row["requests"] > row["minimum"]]
        table.row(
            3,
            "requests per operation over the theoretical minimum (details below)",
            f"{len(over)} of {len(rows)} operations, +{extra} requests in all",
            "—",
            "—",
            "info",
            "—",
        )
    if "triggers_at_scale" in sections:
        _trigger_rows(table, sections["triggers_at_scale"])
    if "rate_limited_bulk" in sections:
        _rate_rows(table, sections["rate_limited_bulk"])
    if "fleet_plan" in sections:
        _fleet_rows(table, sections["fleet_plan"])
    if "emulator_throughput" in sections:
        _emulator_rows(table, sections["emulator_throughput"], sections.get("triggers_at_scale"))
    if "shared_polls" in sections:
        _shared_poll_rows(table, sections["shared_polls"])
    parts += [table.text(), ""]

    if "request_counts" in sections:
        counts = _Table("operation", "requests", "sent", "minimum", "why more")
        for row in sections["request_counts"]["rows"]:
            counts.row(
                row["operation"], row["requests"], ", ".join(row["calls"]), row["minimum"], row["note"] or ""
            )
        parts += ["## 3. Requests per operation (counted by the emulator)", "", counts.text(), ""]

    if "import_cost" in sections:
        dags = sections["import_cost"]["dags"]
        ours = dags["launchdarkly"]
        parts += [
            "## 1. What a DAG file imports at parse time",
            "",
            f"- This provider's modules: {', '.join(f'`{name}`' for name in ours['new_ours']) or 'none'}.",
            (
                f"- Heavy modules added by the DAG file: ours {', '.join(ours['heavy_added_by_import']) or 'none'}; "
                f"HTTP provider {', '.join(dags['http']['heavy_added_by_import']) or 'none'}; PythonOperator "
                f"{', '.join(dags['python']['heavy_added_by_import']) or 'none'}."
            ),
            (
                "- Already imported by Airflow itself before any DAG file: "
                f"{', '.join(ours['heavy_already_loaded_by_airflow']) or 'none'}."
            ),
            (
                f"- Top-level packages the DAG file adds: ours {', '.join(ours['new_top_level'])}; "
                f"HTTP provider {', '.join(dags['http']['new_top_level'])}."
            ),
            "",
        ]
    parts += [
        "## Run time per section",
        "",
        ", ".join(f"{name} {_num(value, 0)} s" for name, value in durations.items()) + ".",
        "",
    ]
    return "\n".join(parts)
