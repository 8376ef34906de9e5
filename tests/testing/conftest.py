"""Shared fixtures for the emulator tests (the emulator fixtures come from the ``launchdarkly`` plugin)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests

from airflow_provider_ld.testing import LaunchDarklyEmulator

TOKEN = "test-token"
BETA = {"LD-API-Version": "beta"}


class FakeClock:
    """
    Manually advanced clock for the emulator's ``clock`` argument.

    :param start: initial time in seconds since the epoch (a multiple of 10 keeps windows aligned).
    """

    def __init__(self, start: float = 1_800_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        """
        Move time forward.

        :param seconds: how far.
        """
        self.now += seconds


class ApiClient:
    """
    Minimal LaunchDarkly API client for tests (raw ``requests``, keep-alive session).

    :param emulator: the running emulator.
    :param token: token sent in ``Authorization``; ``None`` sends none.
    """

    def __init__(self, emulator: LaunchDarklyEmulator, token: str | None = TOKEN) -> None:
        self.emulator = emulator
        self.base = f"{emulator.base_url}/api/v2"
        self.session = requests.Session()
        self.session.trust_env = False
        self.token = token

    def request(self, method: str, path: str, *, beta: bool = False, **kwargs: Any) -> requests.Response:
        """
        Send a request to ``/api/v2<path>``.

        :param method: HTTP method.
        :param path: path below ``/api/v2``.
        :param beta: send ``LD-API-Version: beta``.
        """
        headers = dict(kwargs.pop("headers", None) or {})
        if self.token is not None:
            headers.setdefault("Authorization", self.token)
        if beta:
            headers.update(BETA)
        kwargs.setdefault("timeout", 10)
        return self.session.request(method, self.base + path, headers=headers, **kwargs)

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("POST", path, **kwargs)

    def patch(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("PATCH", path, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("DELETE", path, **kwargs)

    def create_destination(self, project: str = "proj", env: str = "prod", **body: Any) -> dict[str, Any]:
        """Create a Google Pub/Sub destination (overridable fields) and return it."""
        payload = {"name": "pubsub", "kind": "google-pubsub", "config": {"project": "gcp", "topic": "t"}}
        payload.update(body)
        response = self.post(f"/destinations/{project}/{env}", json=payload)
        assert response.status_code == 201, response.text
        return response.json()

    def close(self) -> None:
        self.session.close()


def assert_error(response: requests.Response, status: int, code: str, *fragments: str) -> dict[str, Any]:
    """
    Check an error response: status, JSON ``{code, message, id}`` body and message fragments.

    :param response: the response.
    :param status: expected status.
    :param code: expected ``code``.
    :param fragments: substrings the message must contain.
    """
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"] == "application/json"
    body = response.json()
    assert body["code"] == code
    assert isinstance(body["message"], str) and body["message"]
    assert isinstance(body["id"], str) and body["id"]
    for fragment in fragments:
        assert fragment in body["message"]
    return body


@pytest.fixture
def fake_clock() -> FakeClock:
    """A fake clock starting on a 10-second boundary."""
    return FakeClock()


@pytest.fixture
def api(launchdarkly_emulator: LaunchDarklyEmulator) -> Iterator[ApiClient]:
    """Authenticated client for the ``launchdarkly_emulator`` fixture."""
    client = ApiClient(launchdarkly_emulator)
    yield client
    client.close()


@pytest.fixture
def make_client() -> Iterator[Callable[..., ApiClient]]:
    """Build clients for arbitrary emulators / tokens; closed after the test."""
    clients: list[ApiClient] = []

    def _make(emulator: LaunchDarklyEmulator, token: str | None = TOKEN) -> ApiClient:
        client = ApiClient(emulator, token)
        clients.append(client)
        return client

    yield _make
    for client in clients:
        client.close()
