"""Plan and apply against the emulator over real HTTP, with many projects and environments."""

from __future__ import annotations

import json

import pytest

from airflow_provider_ld.fleet.apply import FleetApplyError, apply_plan, plan_from_dict, raise_for_failures
from airflow_provider_ld.fleet.manifest import load_manifest
from airflow_provider_ld.fleet.plan import format_plan_table, make_plan
from tests.fleet.conftest import ENVIRONMENTS, PROJECTS, WRITE_KEY, fleet_manifest


def plan_now(hook, emulator, manifest, **kwargs):
    """Make a plan and assert it cost exactly one request: the account-wide listing."""
    before = len(emulator.calls_to())
    plan = make_plan(manifest, hook.list_destinations(), **kwargs)
    calls = emulator.calls_to()[before:]
    assert [(c.method, c.path) for c in calls] == [("GET", "/api/v2/destinations")]
    return plan


def writes(emulator, since=0):
    return [(c.method, c.path) for c in emulator.calls_to()[since:] if c.method != "GET"]


def test_plan_apply_plan_shows_nothing_and_second_apply_is_a_no_op(hook, emulator, segment_key):
    manifest = load_manifest(fleet_manifest())
    plan = plan_now(hook, emulator, manifest)
    assert plan.summary == {"create": 12, "update": 0, "delete": 0, "unchanged": 0, "conflict": 0}
    report = apply_plan(hook, plan)
    raise_for_failures(report)
    assert [r.status for r in report.results] == ["created"] * 12
    assert len(emulator.calls_to("POST")) == 12
    stored = {
        (d["_links"]["self"]["href"].split("/")[4], d["_links"]["self"]["href"].split("/")[5], d["kind"]): d
        for d in emulator.stored_destinations
    }
    assert stored[("mobile", "staging", "google-pubsub")]["config"] == {
        "project": "gcp-analytics",
        "topic": "ld-mobile",
    }
    assert stored[("web", "staging", "google-pubsub")]["on"] is True
    assert stored[("backend", "production", "segment")]["config"] == {"writeKey": WRITE_KEY}

    again = plan_now(hook, emulator, manifest)
    assert again.summary == {"create": 0, "update": 0, "delete": 0, "unchanged": 12, "conflict": 0}
    assert not again.has_changes
    segment = [c for c in again.changes if c.kind == "segment"]
    assert all(c.uncompared == ["writeKey"] for c in segment), "stand-ins are reported as not comparable"
    mark = len(emulator.calls_to())
    report = apply_plan(hook, again)
    assert {r.status for r in report.results} == {"unchanged"}
    assert len(emulator.calls_to()) == mark, "nothing to change: not even the inventory is read"


def test_an_out_of_band_change_is_one_minimal_version_guarded_update(hook, emulator, segment_key):
    manifest = load_manifest(fleet_manifest())
    raise_for_failures(apply_plan(hook, make_plan(manifest, hook.list_destinations())))
    target = next(d for d in emulator.destinations if "/mobile/test/" in d["_links"]["self"]["href"])
    hook.patch_destination(
        "mobile",
        "test",
        target["_id"],
        [
            {"op": "replace", "path": "/config/topic", "value": "oops"},
            {"op": "replace", "path": "/on", "value": False},
        ],
    )
    plan = plan_now(hook, emulator, manifest)
    assert plan.summary["update"] == 1 and plan.summary["unchanged"] == 11
    (update,) = [c for c in plan.changes if c.action == "update"]
    assert (update.project_key, update.environment_key, update.destination_id) == (
        "mobile",
        "test",
        target["_id"],
    )
    assert update.diff == [
        {"op": "replace", "path": "/on", "before": False, "after": True},
        {"op": "replace", "path": "/config/topic", "before": "oops", "after": "ld-mobile"},
    ]
    mark = len(emulator.calls_to())
    report = apply_plan(hook, plan)
    raise_for_failures(report)
    assert writes(emulator, mark) == [("PATCH", f"/api/v2/destinations/mobile/test/{target['_id']}")]
    assert emulator.calls_to("PATCH")[-1].json() == [
        {"op": "test", "path": "/version", "value": update.version},
        {"op": "replace", "path": "/on", "value": True},
        {"op": "replace", "path": "/config/topic", "value": "ld-mobile"},
    ]
    assert not plan_now(hook, emulator, manifest).has_changes


def test_a_secret_rotated_outside_shows_as_a_hidden_update_and_is_pushed(hook, emulator, segment_key):
    manifest = load_manifest(fleet_manifest())
    raise_for_failures(apply_plan(hook, make_plan(manifest, hook.list_destinations())))
    web = next(
        d for d in emulator.destinations if d["kind"] == "segment" and "/web/" in d["_links"]["self"]["href"]
    )
    hook.patch_destination(
        "web",
        "production",
        web["_id"],
        [{"op": "replace", "path": "/config/writeKey", "value": "rotated-elsewhere-999"}],
    )
    plan = plan_now(hook, emulator, manifest)
    (update,) = [c for c in plan.changes if c.action == "update"]
    assert update.diff == [
        {
            "op": "replace",
            "path": "/config/writeKey",
            "before": "**********",
            "after": "**********",
            "secret": True,
        }
    ]
    text = json.dumps(plan.to_dict()) + format_plan_table(plan)
    assert WRITE_KEY not in text and "rotated-elsewhere-999" not in text
    raise_for_failures(apply_plan(hook, plan))
    stored = next(d for d in emulator.stored_destinations if d["_id"] == web["_id"])
    assert stored["config"]["writeKey"] == WRITE_KEY


def test_prune_off_never_deletes_and_prune_on_deletes_only_inside_scope(hook, emulator, segment_key):
    manifest = load_manifest(fleet_manifest())
    raise_for_failures(apply_plan(hook, make_plan(manifest, hook.list_destinations())))
    stray = emulator.add_destination("web", "staging", kind="kinesis", name="Old stream")
    outside_env = emulator.add_destination("web", "dev", kind="kinesis", name="Old stream")
    outside_project = emulator.add_destination("billing", "production", kind="kinesis", name="Old stream")
    plan = plan_now(hook, emulator, manifest)
    assert plan.summary["delete"] == 0 and not plan.has_changes
    mark = len(emulator.calls_to())
    apply_plan(hook, plan)
    assert writes(emulator, mark) == []

    pruning = plan_now(hook, emulator, manifest, prune=True)
    deletes = [c for c in pruning.changes if c.action == "delete"]
    assert [(c.project_key, c.environment_key, c.destination_id) for c in deletes] == [
        ("web", "staging", stray["_id"])
    ]
    mark = len(emulator.calls_to())
    raise_for_failures(apply_plan(hook, pruning))
    assert writes(emulator, mark) == [("DELETE", f"/api/v2/destinations/web/staging/{stray['_id']}")]
    remaining = {d["_id"] for d in emulator.destinations}
    assert {outside_env["_id"], outside_project["_id"]} <= remaining and stray["_id"] not in remaining


def test_conflicts_are_reported_never_guessed_and_fail_the_apply_without_stopping_others(
    hook, emulator, segment_key
):
    first = emulator.add_destination(
        "web", "production", kind="segment", name="Segment", config={"writeKey": "a" * 20}
    )
    second = emulator.add_destination(
        "web", "production", kind="segment", name="Segment", config={"writeKey": "b" * 20}
    )
    manifest = load_manifest(fleet_manifest())
    plan = plan_now(hook, emulator, manifest)
    (conflict,) = [c for c in plan.changes if c.action == "conflict"]
    assert conflict.matches == sorted([first["_id"], second["_id"]])
    assert plan.to_dict()["summary"] == {
        "create": 11,
        "update": 0,
        "delete": 0,
        "unchanged": 0,
        "conflict": 1,
    }
    report = apply_plan(hook, plan)
    assert sorted(r.status for r in report.results) == ["created"] * 11 + ["failed"]
    with pytest.raises(
        FleetApplyError,
        match=r"1 of 12 changes were not applied:\nconflict segment 'Segment' in web/production: failed: several destinations match",
    ):
        raise_for_failures(report)
    assert len(emulator.destinations) == 13


def test_one_failing_change_does_not_stop_the_others(hook, emulator, segment_key):
    manifest = load_manifest(fleet_manifest())
    plan = make_plan(manifest, hook.list_destinations())
    emulator.inject_fault("POST", "/api/v2/destinations/backend/staging", status=400)
    report = apply_plan(hook, plan, concurrency=3)
    failed = report.failures
    assert [(r.change.project_key, r.change.environment_key, r.status) for r in failed] == [
        ("backend", "staging", "failed")
    ]
    assert "400" in failed[0].detail
    assert len(emulator.destinations) == 11
    assert report.to_dict()["summary"] == {"created": 11, "failed": 1}


def test_a_reviewed_plan_applies_exactly_and_refuses_moved_destinations(hook, emulator, segment_key):
    manifest = load_manifest(fleet_manifest())
    raise_for_failures(apply_plan(hook, make_plan(manifest, hook.list_destinations())))
    ids = {
        d["_links"]["self"]["href"].split("/", 4)[-1].rsplit("/", 1)[0] + "/" + d["kind"]: d["_id"]
        for d in emulator.destinations
    }
    for project in ("web", "backend"):
        hook.patch_destination(
            project,
            "test",
            ids[f"{project}/test/google-pubsub"],
            [{"op": "replace", "path": "/on", "value": False}],
        )
    reviewed = json.loads(
        json.dumps(make_plan(manifest, hook.list_destinations()).to_dict())
    )  # as through XCom
    assert reviewed["summary"]["update"] == 2
    # someone edits one of them after the review
    hook.patch_destination(
        "web",
        "test",
        ids["web/test/google-pubsub"],
        [{"op": "replace", "path": "/config/topic", "value": "edited"}],
    )
    mark = len(emulator.calls_to())
    report = apply_plan(hook, plan_from_dict(reviewed, manifest))
    statuses = {
        (r.change.project_key, r.change.environment_key): r.status
        for r in report.results
        if r.change.action == "update"
    }
    assert statuses == {("web", "test"): "refused", ("backend", "test"): "updated"}
    assert writes(emulator, mark) == [
        ("PATCH", f"/api/v2/destinations/backend/test/{ids['backend/test/google-pubsub']}")
    ]
    assert "moved since the plan" in report.failures[0].detail
    # the same reviewed plan again: the applied change is recognised, nothing is sent twice
    mark = len(emulator.calls_to())
    again = apply_plan(hook, plan_from_dict(reviewed, manifest))
    assert {(r.change.project_key, r.status) for r in again.results if r.change.action == "update"} == {
        ("web", "refused"),
        ("backend", "already applied"),
    }
    assert writes(emulator, mark) == []


def test_a_reviewed_create_is_not_repeated(hook, emulator, segment_key):
    manifest = load_manifest(fleet_manifest())
    reviewed = make_plan(manifest, hook.list_destinations()).to_dict()
    raise_for_failures(apply_plan(hook, plan_from_dict(reviewed, manifest)))
    posts = len(emulator.calls_to("POST"))
    report = apply_plan(hook, plan_from_dict(reviewed, manifest))
    assert {r.status for r in report.results} == {"already applied"}
    assert len(emulator.calls_to("POST")) == posts


def test_a_plan_naming_what_the_manifest_does_not_is_refused_before_any_request(hook, emulator, segment_key):
    from airflow_provider_ld.exceptions import LaunchDarklyValidationError

    manifest = load_manifest(fleet_manifest())
    plan = make_plan(manifest, []).to_dict()
    plan["changes"][0]["name"] = "Renamed"
    with pytest.raises(
        LaunchDarklyValidationError,
        match=r"plan.changes\[0\]: google-pubsub destination 'Renamed' in web/production is not in the manifest",
    ):
        plan_from_dict(plan, manifest)
    outside = {
        "format": 1,
        "changes": [
            {
                "action": "delete",
                "project_key": "billing",
                "environment_key": "production",
                "destination_id": "x",
            }
        ],
    }
    with pytest.raises(LaunchDarklyValidationError, match="deletes only inside the manifest"):
        plan_from_dict(outside, manifest)
    with pytest.raises(LaunchDarklyValidationError, match="plan: must be a plan made by this release"):
        plan_from_dict({"changes": []}, manifest)
    assert emulator.calls_to() == []


def test_plan_table_is_readable_and_hides_secrets(hook, emulator, segment_key):
    plan = make_plan(load_manifest(fleet_manifest()), hook.list_destinations())
    table = format_plan_table(plan)
    assert table.splitlines()[0].split() == [
        "ACTION",
        "PROJECT",
        "ENVIRONMENT",
        "KIND",
        "NAME",
        "DESTINATION",
    ]
    assert (
        table.splitlines()[-1] == "Plan: 12 to create, 0 to update, 0 to delete; 0 unchanged, 0 in conflict."
    )
    assert WRITE_KEY not in table and WRITE_KEY not in json.dumps(plan.to_dict())
    assert len(PROJECTS) * len(ENVIRONMENTS) + len(PROJECTS) == len(plan.changes)
