from __future__ import annotations

import json
import pickle

import pytest

from airflow_provider_ld.api import operations
from airflow_provider_ld.api.calls import (
    MAX_ERROR_MESSAGE_CHARS,
    MAX_RESPONSE_BYTES,
    USER_AGENT,
    ApiRequest,
    CappedBody,
    DeadlineExceeded,
    attempt_deadline,
    error_from_response,
    final_error,
    parse_response,
    request_headers,
)
from airflow_provider_ld.api.retries import Attempt, RetryPolicy, TransportFailure
from airflow_provider_ld.connection import ConnectionSettings
from airflow_provider_ld.exceptions import (
    LaunchDarklyAuthError,
    LaunchDarklyConflictError,
    LaunchDarklyConnectionError,
    LaunchDarklyError,
    LaunchDarklyNotFoundError,
    LaunchDarklyRateLimitError,
    LaunchDarklyServerError,
    LaunchDarklyValidationError,
)
from airflow_provider_ld.models import Destination

SETTINGS = ConnectionSettings(base_url=None, token="api-raw-token-123")
REQUEST = ApiRequest("getDestination", "GET", "/api/v2/destinations/p/e/d1", response_model=Destination)


def test_headers_send_raw_token_and_dated_version():
    headers = request_headers(SETTINGS, REQUEST)
    assert headers["Authorization"] == "api-raw-token-123"
    assert headers["LD-API-Version"] == "20240415"
    assert headers["User-Agent"].startswith("airflow-provider-launchdarkly/")
    assert "Content-Type" not in headers


def test_beta_calls_send_beta_version_and_bodies_send_content_type():
    request = operations.create_delivery_configuration(
        "p", "e", "fastly", config={"storeId": "s", "apiToken": "t"}
    )
    headers = request_headers(SETTINGS, request)
    assert headers["LD-API-Version"] == "beta"
    assert headers["Content-Type"] == "application/json"


@pytest.mark.parametrize(
    ("status", "error_class"),
    [
        (400, LaunchDarklyValidationError),
        (401, LaunchDarklyAuthError),
        (403, LaunchDarklyAuthError),
        (404, LaunchDarklyNotFoundError),
        (409, LaunchDarklyConflictError),
        (422, LaunchDarklyConflictError),
        (429, LaunchDarklyRateLimitError),
        (500, LaunchDarklyServerError),
        (503, LaunchDarklyServerError),
        (302, LaunchDarklyError),
        (418, LaunchDarklyError),
    ],
)
def test_status_maps_to_error_class(status, error_class):
    error = error_from_response(REQUEST, status, b"")
    assert type(error) is error_class
    assert error.status_code == status


def test_error_message_carries_method_path_status_code_message_and_request_id():
    body = json.dumps({"code": "not_found", "message": "Unknown destination", "id": "req-42"}).encode()
    error = error_from_response(REQUEST, 404, body)
    assert (
        str(error) == "GET /api/v2/destinations/p/e/d1 -> 404 not_found: Unknown destination (request req-42)"
    )
    assert repr(error) == f"LaunchDarklyNotFoundError({str(error)!r})"
    assert (error.code, error.request_id) == ("not_found", "req-42")


def test_error_without_body_uses_status_phrase():
    error = error_from_response(REQUEST, 503, b"<html>oops</html>")
    assert str(error) == "GET /api/v2/destinations/p/e/d1 -> 503 service unavailable"
    assert error.request_id is None


def test_beta_403_explains_header():
    request = operations.list_delivery_configurations()
    body = json.dumps({"code": "forbidden", "message": "Access denied"}).encode()
    assert "beta endpoint" in str(error_from_response(request, 403, body))


def test_errors_survive_pickling():
    body = json.dumps({"code": "optimistic_locking_error", "message": "conflict", "id": "r1"}).encode()
    error = pickle.loads(pickle.dumps(error_from_response(REQUEST, 409, body)))
    assert isinstance(error, LaunchDarklyConflictError)
    assert (error.status_code, error.code, error.request_id) == (409, "optimistic_locking_error", "r1")


def test_validation_errors_fail_tasks_without_retry():
    from airflow_provider_ld._compat import AirflowFailException

    assert issubclass(LaunchDarklyValidationError, AirflowFailException)
    assert issubclass(LaunchDarklyAuthError, AirflowFailException)
    assert not issubclass(LaunchDarklyServerError, AirflowFailException)


def test_parse_success_into_model_tolerating_unknown_fields():
    body = json.dumps({"_id": "d1", "kind": "brand-new-kind", "on": True, "futureField": {"x": 1}}).encode()
    destination = parse_response(REQUEST, 200, body)
    assert destination.id == "d1"
    assert destination.kind == "brand-new-kind"
    assert destination.model_extra["futureField"] == {"x": 1}


def test_parse_malformed_success_is_a_server_error():
    with pytest.raises(LaunchDarklyServerError, match="unexpected answer"):
        parse_response(REQUEST, 200, b'{"on": true}')


def test_request_repr_never_shows_body():
    request = operations.create_destination("p", "e", kind="segment", config={"writeKey": "wk-SECRET-1"})
    assert "wk-SECRET-1" not in repr(request)
    assert b"wk-SECRET-1" in request.encoded_body()


def test_an_answer_over_the_size_limit_is_refused_by_its_announced_length_or_as_read():
    """The cap is exact: a body of the limit is read; one byte more fails the call, saying so."""
    request_ = operations.list_destinations()
    expected = "GET /api/v2/destinations -> 200 the answer's body exceeds the 16 MiB limit and was not read"
    with pytest.raises(LaunchDarklyServerError) as announced:
        CappedBody(request_, 200, {"Content-Length": str(MAX_RESPONSE_BYTES + 1)})
    assert str(announced.value) == expected
    assert announced.value.status_code == 200
    body = CappedBody(request_, 200, {"Content-Length": str(MAX_RESPONSE_BYTES)})
    body.add(b"x" * (MAX_RESPONSE_BYTES - 1))
    body.add(b"y")
    assert len(body.content()) == MAX_RESPONSE_BYTES
    with pytest.raises(LaunchDarklyServerError) as read:
        body.add(b"z")
    assert str(read.value) == expected


def test_a_cut_attempt_is_reported_with_its_deadline():
    cut = DeadlineExceeded(2.5)
    assert cut.seconds == 2.5
    assert str(cut) == "no complete answer within 2.5 s"
    error = final_error(
        operations.get_destination("proj", "prod", "abc"),
        Attempt(failure=TransportFailure.MAYBE_SENT),
        b"",
        cut,
        retries=0,
        reason="no retries left",
        policy=RetryPolicy(max_retries=0),
        host="app.launchdarkly.com",
    )
    assert isinstance(error, LaunchDarklyConnectionError)
    assert "no complete answer from app.launchdarkly.com within the 2.5 s deadline of an attempt" in str(
        error
    )


@pytest.mark.parametrize("status", [300, 304])
def test_a_redirect_or_other_3xx_answer_is_an_error_not_a_result(status):
    with pytest.raises(LaunchDarklyError) as info:
        parse_response(operations.get_destination("p", "e", "d1"), status, b"{}")
    assert type(info.value) is LaunchDarklyError, "the status itself is the error, not the body"
    assert info.value.status_code == status


def test_an_error_answer_read_by_parse_response_keeps_the_api_message():
    body = json.dumps({"code": "not_found", "message": "Unknown destination", "id": "req-7"}).encode()
    with pytest.raises(LaunchDarklyNotFoundError) as info:
        parse_response(REQUEST, 404, body)
    assert str(info.value) == (
        "GET /api/v2/destinations/p/e/d1 -> 404 not_found: Unknown destination (request req-7)"
    )


def test_an_empty_success_answer_is_read_as_an_empty_object():
    """An empty 2xx body where a destination was due names the first missing field, not a JSON error."""
    with pytest.raises(LaunchDarklyServerError) as info:
        parse_response(REQUEST, 200, b"")
    assert str(info.value).startswith("GET /api/v2/destinations/p/e/d1 -> 200 unexpected answer: _id: ")


@pytest.mark.parametrize("body", [b'["not", "an", "object"]', b'"just text"', b"42"])
def test_an_error_body_that_is_not_an_object_falls_back_to_the_status_phrase(body):
    assert (
        str(error_from_response(REQUEST, 502, body)) == "GET /api/v2/destinations/p/e/d1 -> 502 bad gateway"
    )


def test_the_beta_note_is_added_to_a_beta_403_only():
    beta = operations.list_delivery_configurations()
    body = json.dumps({"code": "forbidden", "message": "Access denied"}).encode()
    assert str(error_from_response(beta, 403, body)) == (
        "GET /api/v2/integration-capabilities/featureStore -> 403 forbidden: Access denied "
        "(this is a beta endpoint; LD-API-Version: beta was sent)"
    )
    missing = json.dumps({"code": "not_found", "message": "Unknown configuration"}).encode()
    assert "beta endpoint" not in str(error_from_response(beta, 404, missing))
    assert "beta endpoint" not in str(error_from_response(REQUEST, 403, body))


def test_error_fields_of_other_types_are_shown_as_text():
    body = json.dumps({"code": 4031, "message": ["nested", "list"], "id": True}).encode()
    error = error_from_response(REQUEST, 400, body)
    assert (error.code, error.message, error.request_id) == ("4031", "list", "True")


def test_a_long_error_message_is_cut_at_the_limit_with_an_ellipsis():
    exact = "m" * MAX_ERROR_MESSAGE_CHARS
    kept = error_from_response(REQUEST, 400, json.dumps({"message": exact}).encode())
    assert kept.message == exact
    cut = error_from_response(REQUEST, 400, json.dumps({"message": exact + "overflow"}).encode())
    assert cut.message == "m" * (MAX_ERROR_MESSAGE_CHARS - 3) + "..."
    assert len(cut.message) == MAX_ERROR_MESSAGE_CHARS


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b'{"items": [{"_id": 5}]}', "unexpected answer: items.0._id: Input should be a valid string"),
        (b"[]", "unexpected answer: body: Input should be an object"),
    ],
)
def test_a_malformed_answer_names_where_it_is_wrong(body, message):
    with pytest.raises(LaunchDarklyServerError) as info:
        parse_response(operations.list_destinations(), 200, body)
    assert str(info.value) == f"GET /api/v2/destinations -> 200 {message}"


def test_an_attempt_may_take_twice_the_connection_timeout():
    assert attempt_deadline(30.0) == 60.0
    assert attempt_deadline(2.5) == 5.0


def test_a_body_json_cannot_carry_is_never_encoded():
    """The builders refuse NaN first; the encoder refuses it too rather than send invalid JSON."""
    with pytest.raises(ValueError, match="Out of range float values are not JSON compliant"):
        ApiRequest(
            "postDestination", "POST", "/api/v2/destinations/p/e", body={"n": float("nan")}
        ).encoded_body()


def test_every_call_asks_for_json_and_sends_nothing_else():
    assert request_headers(SETTINGS, REQUEST) == {
        "Authorization": "api-raw-token-123",
        "LD-API-Version": "20240415",
        "User-Agent": USER_AGENT,
        "Accept": "application/json",
    }
