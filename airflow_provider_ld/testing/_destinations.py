"""Data Export destinations and pending warehouse setups held by the emulator."""

from __future__ import annotations

import builtins
import copy
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from airflow_provider_ld.testing import _warehouse
from airflow_provider_ld.testing._errors import ApiError, bad_request, not_found
from airflow_provider_ld.testing._fidelity import ApiFidelity
from airflow_provider_ld.testing._obfuscation import obfuscate_fields
from airflow_provider_ld.testing._patching import (
    DestinationUpdate,
    PatchNotApplicable,
    PatchTestFailed,
    apply_merge_patch,
    apply_patch,
    check_read_only,
)
from airflow_provider_ld.testing._validation import (
    DESTINATION_SECRET_KEYS,
    validate_destination_config,
    validate_kind,
)

#: Fixed fake member ID reported as every destination's maintainer.
MAINTAINER_ID = "569f183514f4432160000007"
DESTINATIONS_PATH = "/api/v2/destinations"
READ_ONLY_FIELDS = frozenset(
    {"_id", "_links", "_access", "createdAt", "maintainerId", "version", "completedArtifacts"}
)
_EDITABLE_FIELDS = ("name", "kind", "config", "on")


def link(href: str) -> dict[str, str]:
    """
    Build a ``Link`` object.

    :param href: API-relative path.
    """
    return {"href": href, "type": "application/json"}


@dataclass
class StoredDestination:
    """
    A destination as the emulator stores it (project and environment included).

    :param visible_at: clock time from which GET/list/PATCH/DELETE can see it.
    """

    id: str
    project_key: str
    environment_key: str
    name: str
    kind: str
    config: dict[str, Any]
    on: bool
    created_at: int
    visible_at: float
    version: int = 1
    completed_artifacts: dict[str, Any] | None = None

    def to_rep(self, fidelity: ApiFidelity | None = None) -> dict[str, Any]:
        """
        Return the ``Destination`` representation.

        :param fidelity: how to answer a client (secrets obfuscated, legacy mParticle field); without it,
            the stored state in clear, which is what patches apply to.
        """
        rep: dict[str, Any] = {
            "_id": self.id,
            "_links": {
                "parent": link(DESTINATIONS_PATH),
                "self": link(f"{DESTINATIONS_PATH}/{self.project_key}/{self.environment_key}/{self.id}"),
            },
            "name": self.name,
            "kind": self.kind,
            "version": self.version,
            "config": _answered_config(self.kind, self.config, fidelity),
            "on": self.on,
            "_access": {"allowed": [], "denied": []},
            "createdAt": self.created_at,
            "maintainerId": MAINTAINER_ID,
        }
        if self.completed_artifacts is not None:
            rep["completedArtifacts"] = dict(self.completed_artifacts)
        return rep


def _answered_config(kind: str, config: dict[str, Any], fidelity: ApiFidelity | None) -> dict[str, Any]:
    """
    Return a copy of a stored config as the API answers it.

    :param kind: the destination's kind.
    :param config: the stored config (secrets in clear).
    :param fidelity: the answering rules; ``None`` for the stored state itself.
    """
    answered = copy.deepcopy(config)
    if fidelity is None:
        return answered
    if fidelity.mparticle_legacy_identity and kind == "mparticle":
        identities = answered.get("userIdentities")
        if "userIdentity" not in answered and isinstance(identities, list) and identities:
            answered["userIdentity"] = identities[0].get("mparticleUserIdentity")
    if fidelity.obfuscate_secrets:
        answered = obfuscate_fields(answered, DESTINATION_SECRET_KEYS)
    return answered


@dataclass
class PendingSetup:
    """
    A guided warehouse setup awaiting ``complete-setup``.

    :param ready_at: clock time from which the warehouse connection test of ``complete-setup`` passes.
    """

    body: dict[str, Any]
    artifacts: dict[str, Any] = field(default_factory=dict)
    ready_at: float = 0.0


class DestinationStore:
    """
    Thread-safe store of destinations and pending warehouse setups.

    :param lock: the emulator-wide lock.
    :param clock: returns the current time in seconds since the epoch.
    :param setup_delay: seconds after ``complete-setup`` before the new destination is visible.
    :param fidelity: the production behaviours to reproduce (defaults: all of them).
    """

    def __init__(
        self,
        lock: threading.RLock,
        clock: Callable[[], float],
        setup_delay: float = 0.0,
        fidelity: ApiFidelity | None = None,
    ) -> None:
        self._lock = lock
        self._clock = clock
        self.setup_delay = setup_delay
        self.fidelity = fidelity or ApiFidelity()
        self._items: dict[str, StoredDestination] = {}
        self._pending: dict[tuple[str, str, str], PendingSetup] = {}
        self._buckets: dict[tuple[str, str, str], str] = {}

    def reset(self) -> None:
        """Forget all destinations, pending setups and saved staging buckets."""
        with self._lock:
            self._items.clear()
            self._pending.clear()
            self._buckets.clear()

    def _answer(self, item: StoredDestination) -> dict[str, Any]:
        """Return a destination as the API answers it (secrets obfuscated)."""
        return item.to_rep(self.fidelity)

    def list(self) -> list[dict[str, Any]]:
        """Return the representations of all visible destinations, oldest first."""
        now = self._clock()
        with self._lock:
            return [self._answer(item) for item in self._items.values() if item.visible_at <= now]

    def stored(self) -> builtins.list[dict[str, Any]]:
        """Return every stored destination in clear, visible or not (for tests and the admin API)."""
        with self._lock:
            return [item.to_rep() for item in self._items.values()]

    def create(
        self, project_key: str, environment_key: str, name: str, kind: str, config: dict[str, Any], on: bool
    ) -> dict[str, Any]:
        """
        Store a new, immediately visible destination (arguments already validated).

        :param project_key: project key.
        :param environment_key: environment key.
        :param name: destination name.
        :param kind: destination kind.
        :param config: kind-specific configuration.
        :param on: whether the export is on.
        :return: the ``Destination`` representation.
        """
        with self._lock:
            return self._answer(self._insert(project_key, environment_key, name, kind, config, on, delay=0.0))

    def _insert(
        self,
        project_key: str,
        environment_key: str,
        name: str,
        kind: str,
        config: dict[str, Any],
        on: bool,
        delay: float,
        artifacts: dict[str, Any] | None = None,
    ) -> StoredDestination:
        """Create and store a destination; the caller holds the lock."""
        now = self._clock()
        item = StoredDestination(
            id=secrets.token_hex(12),
            project_key=project_key,
            environment_key=environment_key,
            name=name,
            kind=kind,
            config=copy.deepcopy(config),
            on=on,
            created_at=int(now * 1000),
            visible_at=now + delay,
            completed_artifacts=artifacts,
        )
        self._items[item.id] = item
        return item

    def _find(self, project_key: str, environment_key: str, destination_id: str) -> StoredDestination:
        """Return a visible destination or raise 404; the caller holds the lock."""
        item = self._items.get(destination_id)
        if (
            item is None
            or item.project_key != project_key
            or item.environment_key != environment_key
            or item.visible_at > self._clock()
        ):
            raise not_found("Destination not found")
        return item

    def get(self, project_key: str, environment_key: str, destination_id: str) -> dict[str, Any]:
        """
        Return one destination.

        :raises ApiError: 404 when absent (or not yet visible).
        """
        with self._lock:
            return self._answer(self._find(project_key, environment_key, destination_id))

    def delete(self, project_key: str, environment_key: str, destination_id: str) -> None:
        """
        Delete one destination.

        :raises ApiError: 404 when absent (or not yet visible).
        """
        with self._lock:
            del self._items[self._find(project_key, environment_key, destination_id).id]

    def patch(
        self, project_key: str, environment_key: str, destination_id: str, update: DestinationUpdate
    ) -> dict[str, Any]:
        """
        Apply a JSON Patch or a JSON Merge Patch to one destination's stored (clear) state.

        :param update: the parsed PATCH body.
        :return: the updated representation (``version`` incremented).
        :raises ApiError: 404 absent, 400 read-only/inapplicable/invalid result, 409 failed test.
        """
        with self._lock:
            item = self._find(project_key, environment_key, destination_id)
            if update.merge is not None:
                patched = self._merged(item, update.merge)
            elif update.operations is not None:
                patched = self._patched(item, update.operations)
            else:  # parse_destination_patch sets one of the two
                raise bad_request("Request body must be a JSON Patch array or a JSON Merge Patch object")
            self._check_patched(item, patched)
            item.name, item.kind, item.config, item.on = (patched[key] for key in _EDITABLE_FIELDS)
            item.version += 1
            return self._answer(item)

    @staticmethod
    def _patched(item: StoredDestination, ops: builtins.list[dict[str, Any]]) -> dict[str, Any]:
        """Apply JSON Patch operations to the stored state; the caller holds the lock."""
        check_read_only(ops, READ_ONLY_FIELDS)
        try:
            return apply_patch(item.to_rep(), ops)
        except PatchTestFailed:
            raise ApiError(409, "A patch test operation failed", "optimistic_locking_error") from None
        except PatchNotApplicable:
            raise bad_request("The patch cannot be applied to this destination") from None

    @staticmethod
    def _merged(item: StoredDestination, merge: dict[str, Any]) -> dict[str, Any]:
        """Apply a JSON Merge Patch to the stored state; the caller holds the lock."""
        read_only = sorted(set(merge) & READ_ONLY_FIELDS)
        if read_only:
            raise bad_request(f"{read_only[0]} is read-only and cannot be patched")
        try:
            return apply_merge_patch(item.to_rep(), merge)
        except PatchNotApplicable:
            raise bad_request("The merge patch cannot be applied to this destination") from None

    @staticmethod
    def _check_patched(item: StoredDestination, patched: dict[str, Any]) -> None:
        """Validate a patched representation like a create body."""
        unknown = sorted(set(patched) - set(item.to_rep()))
        if unknown:
            raise bad_request(f"Unknown field '{unknown[0]}' in Destination")
        for key in _EDITABLE_FIELDS:
            if key not in patched:
                raise bad_request(f"{key} cannot be removed")
        if not isinstance(patched["name"], str):
            raise bad_request("name must be a string")
        if not isinstance(patched["on"], bool):
            raise bad_request("on must be a boolean")
        validate_kind(patched["kind"], extra_allowed=(item.kind,))
        validate_destination_config(patched["kind"], patched["config"])

    def start_setup(
        self, project_key: str, environment_key: str, kind: str, body: dict[str, Any]
    ) -> dict[str, Any]:
        """
        Record a pending warehouse destination and return its setup artefacts.

        Refuses (400) when the environment already has a destination of this kind, as production does
        (LaunchDarkly's own migration tool relies on it). The staging bucket of Redshift and ClickHouse
        is the one the body names, else the one saved by an earlier setup, else a generated default that
        is then saved: the same across calls.

        :param kind: validated warehouse kind.
        :param body: validated setup body.
        :return: the ``WarehouseDestinationSetupScriptRep``.
        :raises ApiError: 400 when a destination of this kind already exists there.
        """
        key = (project_key, environment_key, kind)
        with self._lock:
            if self.fidelity.refuse_setup_when_exists and self._exists(*key):
                raise bad_request(
                    f"A {kind} Data Export destination already exists in {project_key}/{environment_key}"
                )
            bucket = _warehouse.staging_bucket_name(body) or self._buckets.get(key)
            artifacts = _warehouse.setup_artifacts(project_key, environment_key, kind, body, bucket)
            if "s3BucketName" in artifacts:
                self._buckets[key] = artifacts["s3BucketName"]
            ready_at = self._clock() + self.fidelity.key_propagation_delay
            self._pending[key] = PendingSetup(dict(body), artifacts, ready_at)
        return dict(artifacts)

    def _exists(self, project_key: str, environment_key: str, kind: str) -> bool:
        """Tell whether a destination of ``kind`` exists in the environment; the caller holds the lock."""
        return any(
            (item.project_key, item.environment_key, item.kind) == (project_key, environment_key, kind)
            for item in self._items.values()
        )

    def complete_setup(
        self, project_key: str, environment_key: str, kind: str, public_key: str | None
    ) -> dict[str, Any]:
        """
        Turn a pending warehouse setup into a destination.

        :param kind: validated warehouse kind.
        :param public_key: ``publicKey`` from the request body.
        :return: the new ``Destination`` representation.
        :raises ApiError: 404 without a pending setup; 400 on a Snowflake public-key mismatch, or while the
            warehouse connection test fails (within ``key_propagation_delay`` of the setup call).
        """
        key = (project_key, environment_key, kind)
        with self._lock:
            pending = self._pending.get(key)
            if pending is None:
                raise not_found("Pending destination not found")
            if kind == "snowflake-v2" and public_key != pending.artifacts["publicKey"]:
                raise bad_request("publicKey does not match the key generated by the setup call")
            if self._clock() < pending.ready_at:
                raise bad_request(
                    f"Could not connect to the {kind} warehouse with the configured credentials; "
                    "if you just ran the setup script, the new key may still be propagating"
                )
            del self._pending[key]
            config = _warehouse.completed_config(kind, pending.body, pending.artifacts)
            name = pending.body.get("name") or f"{kind} export"
            artifacts = None
            if kind == "redshift":
                artifacts = {
                    "sqlSetupScript": pending.artifacts["script"],
                    "s3BucketName": pending.artifacts["s3BucketName"],
                }
            item = self._insert(
                project_key, environment_key, name, kind, config, False, self.setup_delay, artifacts
            )
            return self._answer(item)
