"""Integration delivery configurations (feature stores, beta) held by the emulator."""

from __future__ import annotations

import builtins
import copy
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from airflow_provider_ld.testing._destinations import link
from airflow_provider_ld.testing._errors import ApiError, bad_request, not_found
from airflow_provider_ld.testing._obfuscation import obfuscate_fields
from airflow_provider_ld.testing._patching import (
    PatchNotApplicable,
    PatchTestFailed,
    apply_patch,
    check_read_only,
)
from airflow_provider_ld.testing._validation import (
    DELIVERY_REQUIRED_KEYS,
    DELIVERY_SECRET_KEYS,
    validate_delivery_config,
)

FEATURE_STORE_PATH = "/api/v2/integration-capabilities/featureStore"
READ_ONLY_FIELDS = frozenset(
    {"_id", "_links", "_access", "integrationKey", "projectKey", "environmentKey", "version"}
)


def check_integration_key(integration_key: str) -> None:
    """
    Check that an integration has the ``featureStore`` capability.

    :param integration_key: path parameter value.
    :raises ApiError: 404 for an unknown integration.
    """
    if integration_key not in DELIVERY_REQUIRED_KEYS:
        raise not_found(f"Integration {integration_key!r} has no featureStore capability")


@dataclass
class StoredDeliveryConfig:
    """A delivery configuration as stored (secrets in clear)."""

    id: str
    project_key: str
    environment_key: str
    integration_key: str
    config: dict[str, Any]
    on: bool
    tags: list[str]
    name: str
    version: int = 1

    def to_rep(self, *, with_config: bool = False, reveal_secrets: bool = False) -> dict[str, Any]:
        """
        Return the ``IntegrationDeliveryConfiguration`` representation.

        LaunchDarkly includes ``config`` only when one configuration is read by its ID (the production
        spec's note on the field), so list, create and patch answers leave it out.

        :param with_config: include ``config`` (the single GET by ID).
        :param reveal_secrets: keep secret form variables in clear (internal use only).
        """
        project_path = f"/api/v2/projects/{self.project_key}"
        rep = {
            "_links": {
                "self": link(
                    f"{FEATURE_STORE_PATH}/{self.project_key}/{self.environment_key}/"
                    f"{self.integration_key}/{self.id}"
                ),
                "parent": link(FEATURE_STORE_PATH),
                "project": link(project_path),
                "environment": link(f"{project_path}/environments/{self.environment_key}"),
            },
            "_id": self.id,
            "integrationKey": self.integration_key,
            "projectKey": self.project_key,
            "environmentKey": self.environment_key,
            "on": self.on,
            "tags": list(self.tags),
            "name": self.name,
            "version": self.version,
            "_access": {"allowed": [], "denied": []},
        }
        if with_config or reveal_secrets:
            config = copy.deepcopy(self.config)
            rep["config"] = config if reveal_secrets else obfuscate_fields(config, DELIVERY_SECRET_KEYS)
        return rep


class DeliveryConfigStore:
    """
    Thread-safe store of integration delivery configurations.

    :param lock: the emulator-wide lock.
    :param clock: returns the current time in seconds since the epoch.
    """

    def __init__(self, lock: threading.RLock, clock: Callable[[], float]) -> None:
        self._lock = lock
        self._clock = clock
        self._items: dict[str, StoredDeliveryConfig] = {}

    def reset(self) -> None:
        """Forget all delivery configurations."""
        with self._lock:
            self._items.clear()

    def list(
        self, project_key: str | None = None, environment_key: str | None = None
    ) -> list[dict[str, Any]]:
        """
        Return representations, optionally only for one project environment.

        :param project_key: filter on project key.
        :param environment_key: filter on environment key.
        """
        with self._lock:
            return [
                item.to_rep()
                for item in self._items.values()
                if project_key is None
                or (item.project_key == project_key and item.environment_key == environment_key)
            ]

    def create(
        self, project_key: str, environment_key: str, integration_key: str, fields: tuple[Any, ...]
    ) -> dict[str, Any]:
        """
        Store a new delivery configuration.

        :param fields: validated ``(config, on, tags, name)``.
        :return: the representation (without ``config``).
        """
        config, on, tags, name = fields
        item = StoredDeliveryConfig(
            secrets.token_hex(12), project_key, environment_key, integration_key, config, on, tags, name
        )
        with self._lock:
            self._items[item.id] = item
            return item.to_rep()

    def _find(
        self, project_key: str, environment_key: str, integration_key: str, config_id: str
    ) -> StoredDeliveryConfig:
        """Return a stored configuration or raise 404; the caller holds the lock."""
        item = self._items.get(config_id)
        if item is None or (item.project_key, item.environment_key, item.integration_key) != (
            project_key,
            environment_key,
            integration_key,
        ):
            raise not_found("Integration delivery configuration not found")
        return item

    def get(
        self, project_key: str, environment_key: str, integration_key: str, config_id: str
    ) -> dict[str, Any]:
        """Return one configuration (404 when absent), the only answer that carries its ``config``."""
        with self._lock:
            return self._find(project_key, environment_key, integration_key, config_id).to_rep(
                with_config=True
            )

    def delete(self, project_key: str, environment_key: str, integration_key: str, config_id: str) -> None:
        """Delete one configuration (404 when absent)."""
        with self._lock:
            del self._items[self._find(project_key, environment_key, integration_key, config_id).id]

    def validate(
        self, project_key: str, environment_key: str, integration_key: str, config_id: str
    ) -> dict[str, Any]:
        """Pretend to run the integration's validation request; always succeeds."""
        with self._lock:
            self._find(project_key, environment_key, integration_key, config_id)
        return {"statusCode": 200, "timestamp": int(self._clock() * 1000)}

    def patch(
        self,
        project_key: str,
        environment_key: str,
        integration_key: str,
        config_id: str,
        ops: builtins.list[dict[str, Any]],
    ) -> dict[str, Any]:
        """
        Apply JSON Patch operations.

        :param ops: structurally valid operations.
        :raises ApiError: 404 absent, 400 read-only or invalid result, 422 failed test/inapplicable op.
        """
        with self._lock:
            item = self._find(project_key, environment_key, integration_key, config_id)
            check_read_only(ops, READ_ONLY_FIELDS)
            try:
                patched = apply_patch(item.to_rep(reveal_secrets=True), ops)
            except (PatchTestFailed, PatchNotApplicable):
                raise ApiError(422, "Unprocessable entity. Could not apply patch.", "patch_failed") from None
            item.config, item.on, item.tags, item.name = self._check_patched(item, patched)
            item.version += 1
            return item.to_rep()

    @staticmethod
    def _check_patched(item: StoredDeliveryConfig, patched: dict[str, Any]) -> tuple[Any, ...]:
        """Validate a patched representation; return ``(config, on, tags, name)``."""
        unknown = sorted(set(patched) - set(item.to_rep(reveal_secrets=True)))
        if unknown:
            raise bad_request(f"Unknown field '{unknown[0]}' in IntegrationDeliveryConfiguration")
        for key in ("config", "on", "tags", "name"):
            if key not in patched:
                raise bad_request(f"{key} cannot be removed")
        if not isinstance(patched["on"], bool):
            raise bad_request("on must be a boolean")
        if not isinstance(patched["name"], str):
            raise bad_request("name must be a string")
        tags = patched["tags"]
        if not isinstance(tags, list) or not all(isinstance(tag, str) for tag in tags):
            raise bad_request("tags must be an array of strings")
        config = validate_delivery_config(item.integration_key, patched["config"])
        return config, patched["on"], tags, patched["name"]
