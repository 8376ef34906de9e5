"""The errors know their own nature (transient or not) and survive a trip through a trigger event."""

from __future__ import annotations

import json
import pickle

import pytest

from airflow_provider_ld.exceptions import (
    TRANSIENT_ERRORS,
    LaunchDarklyAuthError,
    LaunchDarklyConflictError,
    LaunchDarklyConnectionError,
    LaunchDarklyError,
    LaunchDarklyNotFoundError,
    LaunchDarklyRateLimitError,
    LaunchDarklyServerError,
    LaunchDarklyValidationError,
)


@pytest.mark.parametrize(
    ("error_class", "transient"),
    [
        (LaunchDarklyError, False),
        (LaunchDarklyValidationError, False),
        (LaunchDarklyAuthError, False),
        (LaunchDarklyNotFoundError, False),
        (LaunchDarklyConflictError, False),
        (LaunchDarklyRateLimitError, True),
        (LaunchDarklyServerError, True),
        (LaunchDarklyConnectionError, True),
    ],
)
def test_each_error_class_states_whether_it_is_transient(error_class, transient):
    assert error_class.transient is transient
    assert error_class("x").transient is transient
    assert (error_class in TRANSIENT_ERRORS) is transient


FULL = {
    "method": "PATCH",
    "path": "/api/v2/destinations/proj/prod/d1",
    "status_code": 409,
    "code": "optimistic_locking_error",
    "request_id": "1a2b3c",
}


@pytest.mark.parametrize(
    "error",
    [
        LaunchDarklyConflictError("version mismatch", **FULL),
        LaunchDarklyAuthError(
            "Invalid access token", method="GET", path="/api/v2/destinations", status_code=401
        ),
        LaunchDarklyServerError("boom", **{**FULL, "status_code": 503, "code": None}),
        LaunchDarklyConnectionError("connection refused", method="GET", path="/api/v2/destinations"),
        LaunchDarklyNotFoundError("no destination with id 'x' in p/e"),
        LaunchDarklyValidationError(
            "kind: 'x' is not supported", field="kind", allowed=("segment", "kinesis"), status_code=400
        ),
        LaunchDarklyError("plain"),
    ],
    ids=lambda error: type(error).__name__,
)
def test_an_error_survives_a_trigger_event(error):
    payload = json.loads(json.dumps({"status": "error", "message": str(error), **error.to_event_payload()}))
    rebuilt = LaunchDarklyError.from_event_payload(payload)
    assert type(rebuilt) is type(error)
    assert str(rebuilt) == str(error) and repr(rebuilt) == repr(error)
    for attribute in ("message", "method", "path", "status_code", "code", "request_id"):
        assert getattr(rebuilt, attribute) == getattr(error, attribute), attribute
    if isinstance(error, LaunchDarklyValidationError):
        assert (rebuilt.field, rebuilt.allowed) == (error.field, error.allowed)
    assert payload["error_type"] == type(error).__name__
    assert payload["status_code"] == error.status_code


def test_the_event_carries_only_what_the_error_shows():
    error = LaunchDarklyConflictError("version mismatch", **FULL)
    payload = error.to_event_payload()
    assert payload == {
        "error_type": "LaunchDarklyConflictError",
        "status_code": 409,
        "error": {"message": "version mismatch", **FULL},
    }
    shown = str(error)
    for value in payload["error"].values():
        assert str(value) in shown  # nothing beyond the message: no headers, bodies or tokens


def test_an_event_from_an_earlier_release_rebuilds_from_its_message():
    event = {
        "status": "error",
        "message": "GET /x -> 401 unauthorized",
        "error_type": "LaunchDarklyAuthError",
    }
    rebuilt = LaunchDarklyError.from_event_payload({**event, "status_code": 401})
    assert type(rebuilt) is LaunchDarklyAuthError
    assert (str(rebuilt), rebuilt.status_code) == ("GET /x -> 401 unauthorized", 401)


def test_an_unknown_error_type_rebuilds_the_base_class():
    rebuilt = LaunchDarklyError.from_event_payload({"message": "KeyError: 'x'", "error_type": "KeyError"})
    assert type(rebuilt) is LaunchDarklyError
    assert str(rebuilt) == "KeyError: 'x'"


def test_pickling_keeps_the_details():
    error = LaunchDarklyValidationError("name: bad", field="name", allowed=("a",), **FULL)
    copy = pickle.loads(pickle.dumps(error))
    assert copy.details() == error.details() and str(copy) == str(error)
