"""Which destination a task means: the one reference, its checks, its wording and its lookup on both hooks."""

from __future__ import annotations

import dataclasses

import pytest

from airflow_provider_ld.destination_ref import DestinationRef, check_identity
from airflow_provider_ld.exceptions import LaunchDarklyNotFoundError, LaunchDarklyValidationError
from airflow_provider_ld.models import Destination

SELF = "/api/v2/destinations/proj/prod/{id}"


def destination(id="d1", kind="segment", name="events") -> Destination:
    body = {
        "_id": id,
        "_links": {"self": {"href": SELF.format(id=id), "type": "application/json"}},
        "kind": kind,
        "name": name,
        "on": True,
        "version": 3,
        "config": {"writeKey": "seg-SECRET-key"},
    }
    return Destination.model_validate(body)


A = destination("a", name="events", kind="segment")
B = destination("b", name="events", kind="segment")
C = destination("c", name="events", kind="kinesis")
D = destination("d", name="other", kind="segment")


def select_destination(candidates, *, name, kind):
    return DestinationRef("proj", "prod", name=name, kind=kind).select(candidates)


def validate_target(destination_id, name, kind):
    check_identity(destination_id, name, kind, awaiting=True)


def describe_target(project_key, environment_key, destination_id, name, kind):
    return str(DestinationRef(project_key, environment_key, destination_id, name, kind))


# The waiting rule (sensor and trigger): destination_id, or name and kind.


@pytest.mark.parametrize(
    ("candidates", "expected"),
    [
        ([], None),
        ([C, D], None),
        ([A], A),
        ([A, C, D], A),
    ],
)
def test_select_destination(candidates, expected):
    assert select_destination(candidates, name="events", kind="segment") == expected


def test_select_destination_refuses_to_guess():
    with pytest.raises(LaunchDarklyValidationError) as info:
        select_destination([A, C, B], name="events", kind="segment")
    assert str(info.value) == (
        "ambiguous: 2 destinations named 'events' of kind 'segment' (a, b); pass destination_id"
    )


@pytest.mark.parametrize(
    ("destination_id", "name", "kind", "ok"),
    [
        ("d1", None, None, True),
        ("d1", "events", None, True),
        (None, "events", "segment", True),
        ("{{ ti.xcom_pull('create') }}", None, None, True),
        (None, None, None, False),
        ("", "", "", False),
        (None, "events", None, False),
        (None, None, "segment", False),
        (None, 3, "segment", False),
    ],
)
def test_validate_target(destination_id, name, kind, ok):
    if ok:
        validate_target(destination_id, name, kind)
        return
    with pytest.raises(LaunchDarklyValidationError) as info:
        validate_target(destination_id, name, kind)
    assert "name" in str(info.value)


def test_validate_target_names_the_arguments():
    with pytest.raises(LaunchDarklyValidationError, match="pass destination_id, or both name and kind"):
        validate_target(None, "events", None)


def test_describe_target():
    assert describe_target("proj", "prod", "d1", None, None) == "destination d1 in proj/prod"
    assert (
        describe_target("proj", "prod", None, "events", "segment")
        == "segment destination 'events' in proj/prod"
    )


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda: select_destination([A, B], name="events", kind="segment"), "name"),
        (lambda: validate_target(None, 3, "segment"), "name"),
        (lambda: validate_target(None, "events", None), "destination_id"),
    ],
)
def test_errors_name_the_field(call, field):
    with pytest.raises(LaunchDarklyValidationError) as info:
        call()
    assert info.value.field == field
    assert str(info.value).startswith(field) or str(info.value).startswith("ambiguous")


# The acting rule (update, toggle, delete): destination_id, or a name alone (kind optional).


@pytest.mark.parametrize(
    ("destination_id", "name", "kind"),
    [("d1", None, None), (None, "events", None), (None, "events", "segment"), ("{{ id }}", None, None)],
)
def test_a_name_alone_identifies_a_destination_to_act_on(destination_id, name, kind):
    check_identity(destination_id, name, kind)


@pytest.mark.parametrize(("destination_id", "name"), [(None, None), ("", ""), (None, "")])
def test_acting_needs_an_id_or_a_name(destination_id, name):
    with pytest.raises(LaunchDarklyValidationError) as info:
        check_identity(destination_id, name, "segment")
    assert info.value.field == "destination_id"
    assert str(info.value) == (
        "destination_id: give destination_id, or name (and optionally kind) to find the destination"
    )


def test_a_name_alone_matches_every_kind_and_refuses_to_guess():
    ref = DestinationRef("proj", "prod", name="events")
    assert ref.select([C, D]) is C
    with pytest.raises(LaunchDarklyValidationError) as info:
        ref.select([A, C, D])
    assert info.value.field == "name"
    assert str(info.value) == "ambiguous: 2 destinations named 'events' (a, c); pass kind or destination_id"
    assert str(ref) == "destination 'events' in proj/prod"


def test_by_id_selects_the_id_whatever_the_name():
    ref = DestinationRef("proj", "prod", destination_id="b", name="other")
    assert ref.by_id and ref.select([A, B, C]) is B
    assert not DestinationRef("proj", "prod", name="events").by_id


@pytest.mark.parametrize(
    ("ref", "message"),
    [
        (DestinationRef("proj", "prod", "missing1"), "no destination with id 'missing1' in proj/prod"),
        (
            DestinationRef("proj", "prod", name="ghost", kind="segment"),
            "no destination with name 'ghost' and kind 'segment' in proj/prod",
        ),
        (DestinationRef("proj", "prod", name="ghost"), "no destination with name 'ghost' in proj/prod"),
    ],
)
def test_not_found_says_how_it_was_looked_up(ref, message):
    error = ref.not_found()
    assert isinstance(error, LaunchDarklyNotFoundError)
    assert str(error) == message


@pytest.mark.parametrize(
    ("changes", "field", "allowed"),
    [
        ({"project_key": ""}, "project_key", None),
        ({"environment_key": "a/b"}, "environment_key", None),
        ({"destination_id": "../x"}, "destination_id", None),
        ({"destination_id": None, "name": 7}, "name", None),
        ({"kind": "segmnet"}, "kind", True),
        ({"allow_unknown_kind": "yes"}, "allow_unknown_kind", ("true", "false")),
    ],
)
def test_check_names_the_field_before_any_request(changes, field, allowed):
    ref = dataclasses.replace(DestinationRef("proj", "prod", "d1", "events", "segment"), **changes)
    with pytest.raises(LaunchDarklyValidationError) as info:
        ref.check()
    assert info.value.field == field
    assert str(info.value).startswith(f"{field}:")
    if allowed is True:
        assert "segment" in info.value.allowed and "snowflake-v2" in info.value.allowed
    elif allowed is not None:
        assert info.value.allowed == allowed


def test_check_accepts_a_kind_only_an_existing_destination_can_have_and_unknown_kinds_on_request():
    assert DestinationRef("proj", "prod", name="wh", kind="clickhouse").check().kind == "clickhouse"
    with pytest.raises(LaunchDarklyValidationError):
        DestinationRef("proj", "prod", name="x", kind="brand-new").check()
    assert DestinationRef("proj", "prod", name="x", kind="brand-new", allow_unknown_kind=True).check()


def test_check_applies_the_waiting_rule_when_awaiting():
    ref = DestinationRef("proj", "prod", name="events")
    assert ref.check() is ref
    with pytest.raises(LaunchDarklyValidationError, match="pass destination_id, or both name and kind"):
        ref.check(awaiting=True)


def test_a_reference_is_immutable():
    with pytest.raises(dataclasses.FrozenInstanceError):
        DestinationRef("proj", "prod", "d1").destination_id = "d2"  # type: ignore[misc]
