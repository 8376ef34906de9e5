from __future__ import annotations

import json

import pytest
from airflow.models.connection import Connection

from airflow_provider_ld.connection import (
    DEFAULT_API_VERSION,
    DEFAULT_BASE_URL,
    ConnectionSettings,
    normalise_base_url,
    settings_from_connection,
)
from airflow_provider_ld.exceptions import LaunchDarklyValidationError
from airflow_provider_ld.hooks.launchdarkly import LaunchDarklyHook


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        (None, DEFAULT_BASE_URL),
        ("", DEFAULT_BASE_URL),
        ("app.eu.launchdarkly.com", "https://app.eu.launchdarkly.com"),
        ("https://app.launchdarkly.us/", "https://app.launchdarkly.us"),
        ("https://app.launchdarkly.com/api/v2", "https://app.launchdarkly.com"),
        ("http://127.0.0.1:8765", "http://127.0.0.1:8765"),
        ("http://localhost:9000", "http://localhost:9000"),
        ("http://[::1]:8080", "http://[::1]:8080"),
        ("https://proxy.example.com:8443", "https://proxy.example.com:8443"),
        ("HTTPS://App.LaunchDarkly.com", "https://app.launchdarkly.com"),
        ("https://ld_proxy.internal:8443", "https://ld_proxy.internal:8443"),
    ],
)
def test_base_url_is_normalised(host, expected):
    assert normalise_base_url(host) == expected


@pytest.mark.parametrize(
    ("host", "message"),
    [
        ("http://app.launchdarkly.com", "plain http:// is only allowed for loopback hosts"),
        ("http://10.0.0.5:8765", "plain http:// is only allowed for loopback hosts"),
        ("ftp://app.launchdarkly.com", "malformed base URL"),
        ("https://:443", "malformed base URL"),
        ("https://app.launchdarkly.com/some/path", "scheme and host only"),
        ("https://app.launchdarkly.com:notaport", "malformed base URL"),
        ("https://user:hunter22@app.launchdarkly.com", "must not carry credentials"),
        ("https://", "malformed base URL"),
        ("https:///", "malformed base URL"),
        ("https://exa mple.com", "malformed base URL"),
        ("https://app.launchdarkly.com\\x", "malformed base URL"),
        ("https://-app.launchdarkly.com", "malformed base URL"),
    ],
)
def test_bad_base_url_is_refused_naming_host(host, message):
    with pytest.raises(LaunchDarklyValidationError) as info:
        normalise_base_url(host)
    assert info.value.field == "host"
    assert message in str(info.value)
    assert "hunter22" not in str(info.value)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"token": ""}, "password"),
        ({"token": "   "}, "password"),
        ({"timeout": 0}, "timeout"),
        ({"timeout": -1.0}, "timeout"),
        ({"timeout": float("inf")}, "timeout"),
        ({"max_retries": -1}, "max_retries"),
        ({"max_retries": 1.5}, "max_retries"),
        ({"max_retry_wait": -5}, "max_retry_wait"),
        ({"api_version": ""}, "api_version"),
    ],
)
def test_bad_settings_name_the_field(changes, field):
    values = {"base_url": None, "token": "tok-123456"} | changes
    with pytest.raises(LaunchDarklyValidationError) as info:
        ConnectionSettings(**values)
    assert info.value.field == field


def test_settings_repr_hides_token():
    settings = ConnectionSettings(base_url=None, token="api-very-secret-token")
    assert "api-very-secret-token" not in repr(settings)
    assert "api-very-secret-token" not in str(settings)


def test_settings_from_connection_reads_extras_and_overrides():
    conn = Connection(
        conn_id="ld",
        conn_type="launchdarkly",
        host="app.eu.launchdarkly.com",
        password="tok-abcdef",
        extra=json.dumps(
            {"api_version": "20220603", "timeout": "12.5", "max_retries": 2, "max_retry_wait": 30}
        ),
    )
    settings = settings_from_connection(conn, timeout=4, max_retries=None)
    assert settings.base_url == "https://app.eu.launchdarkly.com"
    assert settings.token == "tok-abcdef"
    assert settings.api_version == "20220603"
    assert settings.timeout == 4
    assert settings.max_retries == 2
    assert settings.max_retry_wait == 30.0


def test_settings_defaults():
    conn = Connection(conn_id="ld", conn_type="launchdarkly", password="tok-abcdef")
    settings = settings_from_connection(conn)
    assert (settings.base_url, settings.api_version) == (DEFAULT_BASE_URL, DEFAULT_API_VERSION)
    assert (settings.timeout, settings.max_retries, settings.max_retry_wait) == (30.0, 5, 120.0)


def test_port_field_is_appended_to_host():
    conn = Connection(
        conn_id="ld", conn_type="launchdarkly", host="127.0.0.1", port=8765, password="tok-abcdef"
    )
    assert settings_from_connection(conn).base_url == "https://127.0.0.1:8765"
    conn = Connection(
        conn_id="ld", conn_type="launchdarkly", host="http://127.0.0.1", port=8765, password="tok-x"
    )
    assert settings_from_connection(conn).base_url == "http://127.0.0.1:8765"


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"timeout": "soon"}, "timeout"),
        ({"max_retries": "2.5"}, "max_retries"),
        ({"max_retries": True}, "max_retries"),
    ],
)
def test_bad_extras_name_the_field(extra, field):
    conn = Connection(conn_id="ld", conn_type="launchdarkly", password="tok-abcdef", extra=json.dumps(extra))
    with pytest.raises(LaunchDarklyValidationError) as info:
        settings_from_connection(conn)
    assert info.value.field == field


@pytest.mark.parametrize("form", ["json", "uri"])
def test_connection_from_environment_variable(monkeypatch, form):
    conn = Connection(
        conn_id="launchdarkly_default",
        conn_type="launchdarkly",
        host="http://127.0.0.1:8765",
        password="tok/with+chars",
        extra=json.dumps({"timeout": 7}),
    )
    value = conn.as_json() if form == "json" else conn.get_uri()
    monkeypatch.setenv("AIRFLOW_CONN_LAUNCHDARKLY_DEFAULT", value)
    settings = LaunchDarklyHook().settings
    assert settings.base_url == "http://127.0.0.1:8765"
    assert settings.token == "tok/with+chars"
    assert settings.timeout == 7


def test_missing_token_fails_before_any_request(monkeypatch):
    monkeypatch.setenv(
        "AIRFLOW_CONN_LAUNCHDARKLY_DEFAULT",
        json.dumps({"conn_type": "launchdarkly", "host": "app.launchdarkly.com"}),
    )
    with pytest.raises(LaunchDarklyValidationError, match="no API access token"):
        LaunchDarklyHook().get_caller_identity()


def test_every_default_has_one_source():
    from airflow_provider_ld import defaults
    from airflow_provider_ld.api.retries import RetryPolicy
    from airflow_provider_ld.connection import ConnectionSettings
    from airflow_provider_ld.get_provider_info import CONN_FIELDS

    form = {name: spec["schema"]["default"] for name, spec in CONN_FIELDS.items()}
    assert form == {
        "api_version": defaults.DEFAULT_API_VERSION,
        "timeout": defaults.DEFAULT_TIMEOUT,
        "max_retries": defaults.DEFAULT_MAX_RETRIES,
        "max_retry_wait": defaults.DEFAULT_MAX_RETRY_WAIT,
    }
    settings = ConnectionSettings(token="t", base_url=defaults.DEFAULT_BASE_URL)
    assert (settings.timeout, settings.max_retries, settings.max_retry_wait) == (
        defaults.DEFAULT_TIMEOUT,
        defaults.DEFAULT_MAX_RETRIES,
        defaults.DEFAULT_MAX_RETRY_WAIT,
    )
    policy = RetryPolicy()
    assert (policy.max_retries, policy.max_wait) == (
        defaults.DEFAULT_MAX_RETRIES,
        defaults.DEFAULT_MAX_RETRY_WAIT,
    )


def test_a_zero_retry_wait_is_allowed_and_a_negative_one_is_not():
    """``max_retry_wait=0`` (never wait between attempts) is valid; only below zero is refused."""
    assert ConnectionSettings(base_url=None, token="tok", max_retry_wait=0).max_retry_wait == 0
    with pytest.raises(LaunchDarklyValidationError) as info:
        ConnectionSettings(base_url=None, token="tok", max_retry_wait=-0.5)
    assert info.value.field == "max_retry_wait"
    assert str(info.value) == "max_retry_wait: must be a finite number >= 0, got -0.5"


def test_a_zero_timeout_is_refused_with_its_bound():
    with pytest.raises(LaunchDarklyValidationError) as info:
        ConnectionSettings(base_url=None, token="tok", timeout=0)
    assert str(info.value) == "timeout: must be a finite number > 0, got 0"


@pytest.mark.parametrize(
    ("token", "problem"),
    [
        ("tok\r", "a line break (CR or LF)"),
        ("tok\nX-Injected: 1", "a line break (CR or LF)"),
        ("tok\r\n", "a line break (CR or LF)"),
        ("tok\tab", "a control character"),
        ("tök", "a non-ASCII character"),
    ],
)
def test_a_token_no_header_can_carry_says_why_without_showing_it(token, problem):
    with pytest.raises(LaunchDarklyValidationError) as info:
        ConnectionSettings(base_url=None, token=token)
    assert info.value.field == "password"
    assert str(info.value) == (
        f"token: the connection's password (the API access token) contains {problem}, which an HTTP header "
        "cannot carry; enter it again (the value is not shown)"
    )


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        # A URL host with a trailing slash still gets the port field.
        ("https://ld.example.com/", "https://ld.example.com:8443"),
        # A port written in the host wins over the port field.
        ("https://ld.example.com:9000", "https://ld.example.com:9000"),
        # Only slashes are trimmed before the port is added, never the host's own last letters.
        ("https://PROXY-BOX/", "https://proxy-box:8443"),
    ],
)
def test_port_field_and_url_hosts(host, expected):
    conn = Connection(conn_id="ld", conn_type="launchdarkly", host=host, port=8443, password="tok-abcdef")
    assert settings_from_connection(conn).base_url == expected


def test_the_token_may_come_from_the_extra_when_the_password_is_empty():
    conn = Connection(
        conn_id="ld",
        conn_type="launchdarkly",
        host="app.launchdarkly.com",
        extra=json.dumps({"token": "tok-extra"}),
    )
    assert settings_from_connection(conn).token == "tok-extra"
