"""Which values are secret: what the hooks register with the log masker and what summaries redact."""

from __future__ import annotations

import pytest
from pydantic import SecretStr

from airflow_provider_ld.models.secrets import (
    REDACTED,
    hide_secrets,
    is_secret_field,
    redact,
    reveal_secrets,
    secret_values,
    stand_in_agrees,
)


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"kind": "segment", "config": {"writeKey": "wk-1"}, "on": True}, ["wk-1"]),
        ({"config": {"policyKey": "pk-1", "namespace": "ns"}}, ["pk-1"]),
        ({"config": {"apiKey": "ak-1", "secret": "s-1", "environment": "production"}}, ["ak-1", "s-1"]),
        ({"nested": [{"clickHousePassword": "pw-1"}, {"name": "x"}]}, ["pw-1"]),
        ({"config": {"writeKey": SecretStr("wk-2")}}, ["wk-2"]),
        ([SecretStr("wk-3"), "plain"], ["wk-3"]),
        ({"config": {"writeKey": ""}}, []),
        # JSON Patch: the value of an operation on a secret field is the secret.
        (
            [
                {"op": "test", "path": "/version", "value": 3},
                {"op": "replace", "path": "/config/writeKey", "value": "wk-4"},
            ],
            ["wk-4"],
        ),
        (
            {"comment": "rotate", "patch": [{"op": "add", "path": "/config/apiKey", "value": "ak-2"}]},
            ["ak-2"],
        ),
        ([{"op": "replace", "path": "/config", "value": {"writeKey": "wk-5", "region": "eu"}}], ["wk-5"]),
        ([{"op": "replace", "path": "/name", "value": "events"}], []),
        ({"path": "/config/writeKey", "value": "not-an-operation"}, []),
        ({"op": "replace", "path": 7, "value": "x"}, []),
        # Only the field the operation writes decides: a secret-sounding parent does not make "eu" a secret.
        ([{"op": "replace", "path": "/config/apiKeyRotation/region", "value": "eu"}], []),
        # The whole document replaced (path ""): its secrets are found inside the value.
        ([{"op": "replace", "path": "", "value": {"config": {"writeKey": "wk-6"}}}], ["wk-6"]),
        ({"name": "events", "on": False, "tags": ["a", "b"]}, []),
        (None, []),
    ],
)
def test_secret_values_finds_every_secret_the_request_carries(body, expected):
    assert secret_values(body) == expected


@pytest.mark.parametrize(
    ("name", "secret"),
    [
        ("writeKey", True),
        ("policyKey", True),
        ("clickHousePassword", True),
        ("componentApiToken", True),
        ("newVendorSecret", True),
        ("db_password", True),
        ("MY_API_KEY", True),
        ("privatekeyPem", True),
        ("name", False),
        ("region", False),
        ("key", False),
        ("", False),
    ],
)
def test_is_secret_field(name, secret):
    assert is_secret_field(name) is secret


def test_hide_and_reveal_round_trip():
    config = {"writeKey": "wk-1", "region": "eu", "nested": [{"secret": "s-1", "n": 1}], "on": True}
    hidden = hide_secrets(config)
    assert isinstance(hidden["writeKey"], SecretStr) and isinstance(hidden["nested"][0]["secret"], SecretStr)
    assert hidden["region"] == "eu" and hidden["nested"][0]["n"] == 1 and hidden["on"] is True
    assert "wk-1" not in repr(hidden) and "s-1" not in repr(hidden)
    assert reveal_secrets(hidden) == config
    assert reveal_secrets(("a", SecretStr("b"))) == ["a", "b"]


def test_redact_hides_plain_and_wrapped_secrets_only():
    value = {
        "writeKey": "wk-1",
        "apiKey": SecretStr("ak-1"),
        "region": "eu",
        "list": [{"secret": "s"}, 2],
        "n": None,
    }
    assert redact(value) == {
        "writeKey": REDACTED,
        "apiKey": REDACTED,
        "region": "eu",
        "list": [{"secret": REDACTED}, 2],
        "n": None,
    }
    assert redact(SecretStr("x")) == REDACTED
    assert redact(("a", "b")) == ["a", "b"]


@pytest.mark.parametrize(
    ("stand_in", "clear", "agrees"),
    [
        # Every visible character accounted for, nothing hidden between: still the same value.
        ("abc****xyz", "abcxyz", True),
        # Head and tail would have to overlap: the clear value is too short to be the stored one.
        ("abc****bcd", "abcd", False),
        # A secret given as something other than text cannot be the stored text.
        ("abc****xyz", 12345, False),
        ("abc****xyz", None, False),
        (None, "abc-xyz", False),
        (SecretStr("abc****xyz"), SecretStr("abc-secret-xyz"), True),
    ],
)
def test_stand_in_agreement_at_the_edges(stand_in, clear, agrees):
    assert stand_in_agrees(stand_in, clear) is agrees
