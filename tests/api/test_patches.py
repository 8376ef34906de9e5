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
        (
            [{"op": "test", "path": "/version", "value": 1}, {"op": "add", "path": "/a~9", "value": 1}],
            "patch",
        ),
    ],
)
def test_invalid_patch_names_the_operation(patch, field):
    with pytest.raises(LaunchDarklyValidationError) as info:
        validate_json_patch(patch)
    assert info.value.field == field
    assert str(info.value).startswith(f"{field}: "), "the message names the operation at fault"


def test_bad_op_lists_allowed_values():
    with pytest.raises(LaunchDarklyValidationError) as info:
        validate_json_patch([{"op": "upsert", "path": "/on", "value": True}])
    assert "allowed values: add, remove, replace, move, copy, test" in str(info.value)
    assert info.value.allowed == ("add", "remove", "replace", "move", "copy", "test")


def test_a_jsonpatch_object_is_accepted_as_its_operations():
    built = jsonpatch.JsonPatch(
        [{"op": "test", "path": "/version", "value": 2}, {"op": "remove", "path": "/name"}]
    )
    assert validate_json_patch(built) == [
        {"op": "test", "path": "/version", "value": 2},
        {"op": "remove", "path": "/name"},
    ]


@pytest.mark.parametrize(
    ("patch", "guarded"),
    [
        (
            [{"op": "test", "path": "/version", "value": 2}, {"op": "replace", "path": "/on", "value": True}],
            True,
        ),
        (
            [
                {"op": "replace", "path": "/version", "value": 2},
                {"op": "replace", "path": "/on", "value": True},
            ],
            False,
        ),
        (
            [{"op": "test", "path": "/on", "value": False}, {"op": "replace", "path": "/on", "value": True}],
            False,
        ),
        (
            [{"op": "replace", "path": "/on", "value": True}, {"op": "test", "path": "/version", "value": 2}],
            False,
        ),
    ],
)
def test_only_a_leading_version_test_makes_a_patch_safe_to_retry(patch, guarded):
    """A patch that writes ``/version`` or tests another field could apply twice when retried."""
    assert is_version_guarded(patch) is guarded


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
    {
        "name": st.text(max_size=10),
        "on": st.booleans(),
        "config": st.dictionaries(st.text(max_size=6), json_values, max_size=5),
    }
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


# ----------------------------------------------------------------- comparing against obfuscated secrets


def test_comparable_config_keeps_obfuscated_and_omitted_secrets_as_stored():
    from pydantic import SecretStr

    from airflow_provider_ld.api.patches import comparable_config

    current = {
        "writeKey": SecretStr("seg****789"),
        "apiKey": SecretStr("abc****xyz"),
        "topic": "old",
        "gone": "x",
    }
    result = comparable_config(
        "segment", current, {"writeKey": "segment-key-789", "topic": "new"}, rotate_secrets=False
    )
    assert result.desired == {"writeKey": current["writeKey"], "apiKey": current["apiKey"], "topic": "new"}
    assert result.uncompared == ("writeKey",)
    assert result.disagreeing == ()
    patch = make_patch({"config": current}, {"config": result.desired}, version=1)
    assert patch == [
        {"op": "test", "path": "/version", "value": 1},
        {"op": "remove", "path": "/config/gone"},
        {"op": "replace", "path": "/config/topic", "value": "new"},
    ]


def test_comparable_config_reports_a_visibly_different_secret_and_rotates_on_request():
    from airflow_provider_ld.api.patches import comparable_config

    current = {"writeKey": "seg****789"}
    kept = comparable_config("segment", current, {"writeKey": "other-key-000"}, rotate_secrets=False)
    assert (kept.desired, kept.disagreeing) == (current, ("writeKey",))
    rotated = comparable_config("segment", current, {"writeKey": "other-key-000"}, rotate_secrets=True)
    assert (rotated.desired, rotated.uncompared) == ({"writeKey": "other-key-000"}, ())


def test_comparable_config_compares_secrets_the_api_shows_in_clear():
    from airflow_provider_ld.api.patches import comparable_config

    result = comparable_config(
        "segment", {"writeKey": "old-clear"}, {"writeKey": "new-clear"}, rotate_secrets=False
    )
    assert result.desired == {"writeKey": "new-clear"} and result.uncompared == ()


def test_comparable_config_ignores_the_legacy_mparticle_identity_only_beside_user_identities():
    from airflow_provider_ld.api.patches import comparable_config

    identities = [{"ldContextKind": "user", "mparticleUserIdentity": "customer_id"}]
    current = {"userIdentity": "customer_id", "userIdentities": identities}
    kept = comparable_config("mparticle", current, {"userIdentities": identities}, rotate_secrets=False)
    assert kept.desired == current
    dropped = comparable_config("mparticle", current, {"userIdentity": "email"}, rotate_secrets=False)
    assert dropped.desired == {"userIdentity": "email"}
    other_kind = comparable_config(
        "segment", {"userIdentity": "x"}, {"userIdentities": identities}, rotate_secrets=False
    )
    assert other_kind.desired == {"userIdentities": identities}


@pytest.mark.parametrize(
    ("stand_in", "clear", "agrees"),
    [
        ("abc****xyz", "abc-anything-xyz", True),
        ("abc****xyz", "abd-anything-xyz", False),
        ("abc****xyz", "abc-anything-xyq", False),
        ("abc****xyz", "abxyz", False),
        ("****", "anything", True),
        ("********1234", "secret-1234", True),
        ("********1234", "secret-1235", False),
    ],
)
def test_stand_in_agrees(stand_in, clear, agrees):
    from airflow_provider_ld.models.secrets import is_obfuscated, stand_in_agrees

    assert is_obfuscated(stand_in)
    assert stand_in_agrees(stand_in, clear) is agrees


@pytest.mark.parametrize(
    ("patch", "merge_patch", "field", "message"),
    [
        (
            [{"op": "replace", "path": "/on", "value": True}],
            {"on": True},
            "patch",
            "patch: give exactly one of patch (JSON Patch) or merge_patch (JSON Merge Patch)",
        ),
        (
            None,
            None,
            "patch",
            "patch: give exactly one of patch (JSON Patch) or merge_patch (JSON Merge Patch)",
        ),
        (None, [("on", True)], "merge_patch", "merge_patch: must be an object (dict), got list"),
    ],
)
def test_patch_body_errors_name_the_field(patch, merge_patch, field, message):
    with pytest.raises(LaunchDarklyValidationError) as info:
        patch_body(patch, merge_patch, None)
    assert info.value.field == field
    assert str(info.value) == message
