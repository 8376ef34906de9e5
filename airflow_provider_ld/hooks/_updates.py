"""
Bringing a destination to a desired state: the minimal version-guarded patch, and settling a conflict.

Part of :class:`~airflow_provider_ld.hooks.launchdarkly.LaunchDarklyHook` (a mixin): the convergence
logic on top of the hook's ``get_destination`` and ``patch_destination``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from airflow_provider_ld.api.patches import comparable_config, make_patch
from airflow_provider_ld.checks import validate_bool, validate_key, validate_name
from airflow_provider_ld.exceptions import LaunchDarklyConflictError
from airflow_provider_ld.models import Destination, validate_destination_config
from airflow_provider_ld.models.configs import DestinationConfig
from airflow_provider_ld.models.destinations import check_update_arguments


class DestinationUpdatesMixin:
    """``update_destination`` and the rules it follows; mixed into the sync hook."""

    if TYPE_CHECKING:
        log: Any

        def get_destination(
            self, project_key: str, environment_key: str, destination_id: str
        ) -> Destination: ...

        def patch_destination(
            self,
            project_key: str,
            environment_key: str,
            destination_id: str,
            patch: list[dict[str, Any]] | None = None,
            *,
            merge_patch: Mapping[str, Any] | None = None,
            comment: str | None = None,
        ) -> Destination: ...

    def update_destination(
        self,
        project_key: str,
        environment_key: str,
        destination_id: str,
        *,
        name: str | None = None,
        on: bool | None = None,
        config: Mapping[str, Any] | DestinationConfig | None = None,
        comment: str | None = None,
        allow_unknown_kind: bool = False,
        current: Destination | None = None,
        rotate_secrets: bool = False,
    ) -> tuple[Destination, bool]:
        """
        Bring a destination to the desired state with the minimal, version-guarded JSON Patch.

        Fields left ``None`` are not touched. No PATCH is sent when nothing differs. The version test
        makes the PATCH fail with ``LaunchDarklyConflictError`` if someone else changed it meanwhile.

        LaunchDarkly answers stored secrets (``writeKey``, ``policyKey``, ``apiKey``, ``secret``) as
        obfuscated stand-ins, so they cannot be compared: a secret in ``config`` is left as stored, and
        never re-sent, unless ``rotate_secrets`` is set. A stand-in whose visible characters disagree with
        the given value is reported in the log as a probable rotation outside Airflow.

        :param current: the destination as just read (saves the GET when the caller has it).
        :param rotate_secrets: send the secret values in ``config`` even though the stored ones cannot be
            compared (a deliberate secret rotation); each run with it set sends them again.
        :return: the destination after the update, and whether a PATCH was sent.
        """
        check_update_arguments(name=name, on=on, config=config, comment=comment)
        validate_bool("rotate_secrets", rotate_secrets)
        validate_key("destination_id", destination_id)
        if current is None or current.id != destination_id:
            current = self.get_destination(project_key, environment_key, destination_id)
        desired = self.desired_destination_state(
            current, name=name, on=on, config=config, allow_unknown_kind=allow_unknown_kind
        )
        desired = self._comparable(current, desired, rotate_secrets=rotate_secrets)
        patch = make_patch(current.model_dump(by_alias=True), desired, version=current.version)
        if not patch:
            return current, False
        try:
            updated = self.patch_destination(
                project_key, environment_key, destination_id, patch, comment=comment
            )
        except LaunchDarklyConflictError as conflict:
            updated = self._settle_conflict(project_key, environment_key, destination_id, desired, conflict)
        return updated, True

    def _comparable(
        self, current: Destination, desired: dict[str, Any], *, rotate_secrets: bool
    ) -> dict[str, Any]:
        """
        Return ``desired`` with its config made comparable with ``current`` (see :func:`comparable_config`).

        Logs the secret fields left uncompared, and those that visibly differ.
        """
        if "config" not in desired:
            return desired
        comparison = comparable_config(
            current.kind, current.config, desired["config"], rotate_secrets=rotate_secrets
        )
        if comparison.uncompared:
            self.log.info(
                "Destination %s: secret fields %s are stored obfuscated and were not compared or sent "
                "(pass rotate_secrets=True to push new values)",
                current.id,
                ", ".join(comparison.uncompared),
            )
        if comparison.disagreeing:
            self.log.warning(
                "Destination %s: the stored %s differ from the given values (their visible characters do "
                "not match); if they were rotated, pass rotate_secrets=True to push the new values",
                current.id,
                ", ".join(comparison.disagreeing),
            )
        return {**desired, "config": comparison.desired}

    def _settle_conflict(
        self,
        project_key: str,
        environment_key: str,
        destination_id: str,
        desired: dict[str, Any],
        conflict: LaunchDarklyConflictError,
    ) -> Destination:
        """
        After a version conflict, succeed only if the destination already is in the desired state.

        That is the case when an earlier attempt of this PATCH was applied but its answer was lost (the
        retry then fails its version test), or when someone made the same change. Any other difference
        is a real concurrent edit, and the conflict is raised again rather than overwriting it. Secrets
        the API shows obfuscated count as applied when the visible characters agree with the sent value.
        """
        latest = self.get_destination(project_key, environment_key, destination_id)
        settled = desired
        if "config" in desired:
            comparison = comparable_config(
                latest.kind, latest.config, desired["config"], rotate_secrets=False
            )
            if comparison.disagreeing:
                raise conflict
            settled = {**desired, "config": comparison.desired}
        if make_patch(latest.model_dump(by_alias=True), settled, version=None):
            raise conflict
        self.log.info(
            "Destination %s changed under the version test but already has the requested state (version %s)",
            destination_id,
            latest.version,
        )
        return latest

    @staticmethod
    def desired_destination_state(
        current: Destination,
        *,
        name: str | None = None,
        on: bool | None = None,
        config: Mapping[str, Any] | DestinationConfig | None = None,
        allow_unknown_kind: bool = False,
    ) -> dict[str, Any]:
        """Return the checked desired values of the writable fields that were given."""
        desired: dict[str, Any] = {}
        if name is not None:
            desired["name"] = validate_name("name", name, required=True)
        if on is not None:
            desired["on"] = validate_bool("on", on)
        if config is not None:
            kind = current.kind or ""
            checked = validate_destination_config(kind, config, allow_unknown=allow_unknown_kind)
            desired["config"] = checked.to_request() if isinstance(checked, DestinationConfig) else checked
        return desired


__all__ = ["DestinationUpdatesMixin"]
