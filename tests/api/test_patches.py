from __future__ import annotations

import copy

import jsonpatch
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from airflow_provider_ld.api.patches import is_version_guarded, make_patch, patch_body, validate_json_patch
from airflow_provider_ld.exceptions import LaunchDarklyValidationError


@pytest.mark.parametrize(
    ("patch", "field"),
    [
        ([], "patch"),
        ("replace", "patch"),
        ({"op": "replace"}, "patch"),
        ([{"op": "bogus", "path": "/on"}], "patch[0].op"),
        ([{"path": "/on", "value": 1}], "patch[0].op"),
        ([{"op": "replace", "path": "on", "value": 1}], "patch[0].path"),
        ([{"op": "replace", "path": 3, "value": 1}], "patch[0].path"),
        ([{"op": "replace", "path": "/on"}], "patch[0].value"),
        ([{"op": "move", "path": "/a"}], "patch[0].from"),
        (["not-an-object"], "patch[0]"),
        ([{"op": "test", "path": "/version", "value": 1}, {"op": "add", "path": "/a~9", "value": 1}], "patch"),
    ],
)
def test_invalid_patch_names_the_operation(patch, field):
    with pytest.raises(LaunchDarklyValidationError) as info:
        validate_json_patch(patch)
    assert info.value.field == field


def test_bad_op_lists_allowed_values():
    with pytest.raises(LaunchDarklyValidationError) as info:
        validate_json_patch([{"op": "upsert", "path": "/on", "value": True}])
    assert "allowed values: add, remove, replace, move, copy, test" in str(info.value)


def test_make_patch_is_minimal_and_version_guarded():
    current = {"name": "n", "on": False, "config": {"a": "1", "b": "2"}, "version": 4, "_id": "x"}
    patch = make_patch(current, {"on": True, "config": {"a": "1", "b": "3"}}, version=4)
    assert patch[0] == {"op": "test", "path": "/version", "value": 4}
    # The order of the changes is jsonpatch's (it differs between its releases); they are independent.
    assert sorted(patch[1:], key=lambda op: op["path"]) == [
        {"op": "replace", "path": "/config/b", "value": "3"},
        {"op": "replace", "path": "/on", "value": True},
    ]
    assert is_version_guarded(patch)


def test_make_patch_unchanged_is_empty():
    assert make_patch({"on": True, "name": "n"}, {"on": True}, version=9) == []


def test_patch_body_shapes():
    ops = [{"op": "replace", "path": "/on", "value": True}]
    assert patch_body(ops, None, None) == ops
    assert patch_body(ops, None, "turn on") == {"comment": "turn on", "patch": ops}
    assert patch_body(None, {"on": True}, None) == {"on": True}
    assert patch_body(None, {"on": True}, "c") == {"comment": "c", "merge": {"on": True}}
    with pytest.raises(LaunchDarklyValidationError, match="exactly one"):
        patch_body(ops, {"on": True}, None)
    with pytest.raises(LaunchDarklyValidationError, match="exactly one"):
        patch_body(None, None, None)
    with pytest.raises(LaunchDarklyValidationError, match="comment"):
        patch_body(ops, None, "  ")


json_scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=8))
json_values = st.recursive(
    json_scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(st.text(max_size=6), children, max_size=4)
    ),
    max_leaves=12,
)
states = st.fixed_dictionaries(
    {"name": st.text(max_size=10), "on": st.booleans(), "config": st.dictionaries(st.text(max_size=6), json_values, max_size=5)}
)


@settings(max_examples=200, deadline=None)
@given(current=states, desired=states, version=st.integers(min_value=1, max_value=10**6))
def test_applying_built_patch_yields_desired_state(current, desired, version):
    document = {**copy.deepcopy(current), "version": version, "_id": "d"}
    patch = make_patch(document, desired, version=version)
    result = jsonpatch.apply_patch(document, patch)
    assert {key: result[key] for key in desired} == desired
    assert result["_id"] == "d"
    if patch:
        assert patch[0] == {"op": "test", "path": "/version", "value": version}
        validate_json_patch(patch)
    else:
        assert {key: current[key] for key in desired} == desired


@settings(max_examples=100, deadline=None)
@given(current=states, desired=states)
def test_patch_fails_against_a_newer_version(current, desired):
    patch = make_patch({**current, "version": 1}, desired, version=1)
    if patch:
        with pytest.raises(jsonpatch.JsonPatchTestFailed):
            jsonpatch.apply_patch({**current, "version": 2}, patch)
