"""
Operators that create, update, toggle, delete and set up LaunchDarkly Data Export destinations.

Every operator checks its input before sending anything, returns a JSON summary (secrets redacted)
to XCom, logs what it did with the destination id and a link, and is safe to retry.

Importing this module (parsing a DAG) loads no models, hook or HTTP library: the validation
functions and models are imported inside ``execute`` and the methods it calls.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from importlib import import_module
from typing import TYPE_CHECKING, Any, cast

from airflow_provider_ld.checks import (
    validate_bool,
    validate_comment,
    validate_key,
    validate_kind,
    validate_name,
)
from airflow_provider_ld.destination_ref import DestinationRef, check_identity
from airflow_provider_ld.exceptions import (
    LaunchDarklyConnectionError,
    LaunchDarklyError,
    LaunchDarklyNotFoundError,
    LaunchDarklyValidationError,
)
from airflow_provider_ld.operators._base import LaunchDarklyBaseOperator

if TYPE_CHECKING:
    from airflow_provider_ld.models import Destination

IF_EXISTS_CHOICES = ("adopt", "update", "fail")

#: Names this module used to import eagerly, still importable from it; loaded on first access.
_LAZY_NAMES = {
    "Destination": "airflow_provider_ld.models",
    "WarehouseSetupRequest": "airflow_provider_ld.models",
    "validate_key": "airflow_provider_ld.models._base",
    "validate_name": "airflow_provider_ld.models._base",
    "WAREHOUSE_COMPLETE_KINDS": "airflow_provider_ld.models.configs",
    "WAREHOUSE_SETUP_KINDS": "airflow_provider_ld.models.configs",
    "validate_destination_config": "airflow_provider_ld.models.configs",
    "validate_kind": "airflow_provider_ld.models.configs",
}


def __getattr__(name: str) -> Any:
    """Import the models and validation helpers on first access (PEP 562), not at DAG parse time."""
    module = _LAZY_NAMES.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(module), name)


class _TargetedDestinationOperator(LaunchDarklyBaseOperator):
    """
    An operator acting on one existing destination, named by ``destination_id`` or by ``name`` and ``kind``.

    :param destination_id: the destination's ``_id`` (templated).
    :param name: find the destination by this exact name instead (templated).
    :param kind: with ``name``, only match this kind (templated); one of the kinds this release knows.
    :param allow_unknown_kind: accept a ``kind`` (or config fields) this release does not know.
    """

    template_fields: Sequence[str] = (
        *LaunchDarklyBaseOperator.template_fields,
        "destination_id",
        "name",
        "kind",
    )

    def __init__(
        self,
        *,
        destination_id: str | None = None,
        name: str | None = None,
        kind: str | None = None,
        allow_unknown_kind: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        check_identity(destination_id, name, kind)
        self.destination_id = destination_id
        self.name = name
        self.kind = kind
        self.allow_unknown_kind = allow_unknown_kind

    @property
    def ref(self) -> DestinationRef:
        """The destination this task acts on, from the rendered fields (a name alone is enough)."""
        return DestinationRef(
            self.project_key,
            self.environment_key,
            destination_id=self.destination_id,
            name=self.name,
            kind=self.kind,
            allow_unknown_kind=self.allow_unknown_kind,
        )

    def require_target(self) -> Destination:
        """Return the destination or fail with an error that says how it was looked up."""
        destination = self.hook.find_destination(self.ref)
        if destination is None:
            raise self.ref.not_found()
        return destination


class LaunchDarklyCreateDestinationOperator(LaunchDarklyBaseOperator):
    """
    Create a Data Export destination, or adopt the one that already has this name and kind.

    Idempotent: a destination with the same ``name`` and ``kind`` in the environment is adopted instead
    of creating a second one, so a retried task (even after a lost answer) converges.

    :param kind: destination kind, e.g. ``segment``, ``kinesis``, ``snowflake-v2`` (templated).
    :param name: destination name; also the key used to find it again (templated).
    :param config: the kind's settings in the API's spelling (templated; secrets are masked in logs and
        rendered fields). Prefer templating secrets from a Variable or Connection over literals.
    :param on: whether export is on (templated).
    :param if_exists: ``adopt`` (default: keep the existing destination as is), ``update`` (bring its
        config and ``on`` to the requested values with one version-guarded PATCH), or ``fail``.
    :param allow_unknown_kind: send a kind (or config fields) this release does not know.
    :param rotate_secrets: with ``if_exists="update"``, also send the secret values in ``config``
        (LaunchDarkly stores them obfuscated, so they are otherwise left as stored and never re-sent).
    """

    template_fields: Sequence[str] = (
        *LaunchDarklyBaseOperator.template_fields,
        "kind",
        "name",
        "config",
        "on",
    )
    template_fields_renderers = {"config": "json"}

    def __init__(
        self,
        *,
        kind: str,
        name: str,
        config: Mapping[str, Any] | str,
        on: bool = False,
        if_exists: str = "adopt",
        allow_unknown_kind: bool = False,
        rotate_secrets: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if if_exists not in IF_EXISTS_CHOICES:
            raise LaunchDarklyValidationError(
                f"if_exists: {if_exists!r} is not allowed; allowed values: {', '.join(IF_EXISTS_CHOICES)}",
                field="if_exists",
                allowed=IF_EXISTS_CHOICES,
            )
        self.kind = kind
        self.name = name
        self.config = config
        self.on = on
        self.if_exists = if_exists
        self.allow_unknown_kind = allow_unknown_kind
        self.rotate_secrets = rotate_secrets

    def execute(self, context: Any) -> dict[str, Any]:
        self.check()
        with self.linked(context) as url:
            action, destination = self._create_or_adopt()
        self.log_action(action, destination, url)
        return self.summarize(action, destination, url)

    def check(self) -> None:
        """Check the rendered arguments, the config against its kind included, before any request."""
        from airflow_provider_ld.models.configs import validate_destination_config

        validate_bool("rotate_secrets", self.rotate_secrets)
        validate_key("project_key", self.project_key)
        validate_key("environment_key", self.environment_key)
        validate_kind(self.kind, allow_unknown=self.allow_unknown_kind)
        validate_name("name", self.name, required=True)
        self.on = self.rendered_bool("on", self.on)
        self.config = self.rendered_mapping("config", self.config)
        validate_destination_config(self.kind, self.config, allow_unknown=self.allow_unknown_kind)

    def _create_or_adopt(self) -> tuple[str, Destination]:
        existing = self.hook.find_destinations(
            self.project_key, self.environment_key, name=self.name, kind=self.kind
        )
        if len(existing) > 1:
            raise LaunchDarklyValidationError(
                f"name: {len(existing)} {self.kind} destinations are already named {self.name!r} in "
                f"{self.project_key}/{self.environment_key}; rename or delete the extra ones",
                field="name",
            )
        if not existing:
            try:
                created: Destination | None = self.hook.create_destination(
                    self.project_key,
                    self.environment_key,
                    kind=self.kind,
                    name=self.name,
                    config=cast("Mapping[str, Any]", self.config),  # a mapping once check() ran
                    on=self.on,
                    allow_unknown_kind=self.allow_unknown_kind,
                )
            except LaunchDarklyConnectionError as lost:
                return self._converge(None, lost)
            return self._converge(created, None)
        return self._adopt(existing[0])

    def _converge(
        self, created: Destination | None, lost: LaunchDarklyConnectionError | None
    ) -> tuple[str, Destination]:
        """
        Settle a create race: look again, and keep one destination of this name and kind.

        The API has no uniqueness key, so two tasks that both found nothing may both create. Every racer
        then picks the same winner (earliest ``createdAt``, then smallest id) and adopts it. A racer
        deletes only its own losing copy; one whose POST answer was lost cannot tell which copy is its
        own, so it deletes every loser (each is a duplicate that every racer agrees to drop).

        :param created: the destination this task created, or ``None`` when the POST's answer was lost.
        :param lost: the connection error of a POST whose answer was lost.
        """
        matches = self.hook.find_destinations(
            self.project_key, self.environment_key, name=self.name, kind=self.kind
        )
        if created is not None and all(match.id != created.id for match in matches):
            matches.append(created)  # not listed yet: the list may lag behind the create
        if not matches and lost is not None:
            raise lost
        winner = min(matches, key=lambda match: (match.created_at or 0, match.id))
        for loser in matches:
            if loser.id != winner.id and (created is None or loser.id == created.id):
                self._delete_duplicate(loser)
        if created is not None and created.id == winner.id:
            return "created", created
        if lost is not None and len(matches) == 1:
            self.log.info("The answer to the create was lost; it had created %s", winner.id)
            return "created", winner
        self.log.info(
            "Another task created %s with the same name and kind at the same time; adopting it", winner.id
        )
        return "adopted", winner

    def _delete_duplicate(self, duplicate: Destination) -> None:
        self.log.warning("Deleting duplicate destination %s created by a concurrent create", duplicate.id)
        try:
            self.hook.delete_destination(self.project_key, self.environment_key, duplicate.id)
        except LaunchDarklyNotFoundError:
            pass  # another racer deleted it first

    def _adopt(self, destination: Destination) -> tuple[str, Destination]:
        if self.if_exists == "fail":
            raise LaunchDarklyValidationError(
                f"name: a {self.kind} destination named {self.name!r} already exists in "
                f"{self.project_key}/{self.environment_key} ({destination.id}) and if_exists='fail'",
                field="name",
            )
        if self.if_exists == "adopt":
            if destination.on != self.on:
                self.log.warning(
                    "Adopted destination %s has on=%s, not the requested %s; use if_exists='update' to change it",
                    destination.id,
                    destination.on,
                    self.on,
                )
            return "adopted", destination
        updated, changed = self.hook.update_destination(
            self.project_key,
            self.environment_key,
            destination.id,
            on=self.on,
            config=cast("Mapping[str, Any]", self.config),  # a mapping once check() ran
            allow_unknown_kind=self.allow_unknown_kind,
            current=destination,
            rotate_secrets=self.rotate_secrets,
        )
        return ("updated" if changed else "adopted"), updated


class LaunchDarklyUpdateDestinationOperator(_TargetedDestinationOperator):
    """
    Bring a destination to a desired state with the minimal, version-guarded JSON Patch.

    No request beyond the read is sent when nothing differs. Fields left ``None`` are not touched.

    :param config: desired config (templated); checked against the destination's kind.
    :param on: desired export state (templated).
    :param new_name: rename the destination (templated).
    :param comment: audit-log comment, sent in the API's ``{comment, patch}`` envelope.
    :param rotate_secrets: also send the secret values in ``config``. LaunchDarkly stores secrets
        obfuscated, so by default they are neither compared nor re-sent; set this to push a rotated
        secret (every run with it set sends the secrets again).
    """

    template_fields: Sequence[str] = (
        *_TargetedDestinationOperator.template_fields,
        "config",
        "on",
        "new_name",
        "comment",
    )
    template_fields_renderers = {"config": "json"}

    def __init__(
        self,
        *,
        config: Mapping[str, Any] | None = None,
        on: bool | None = None,
        new_name: str | None = None,
        comment: str | None = None,
        rotate_secrets: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.config = config
        self.on = on
        self.new_name = new_name
        self.comment = comment
        self.rotate_secrets = rotate_secrets

    def execute(self, context: Any) -> dict[str, Any]:
        self.check()
        with self.linked(context) as url:
            updated, changed = self._update()
        action = "updated" if changed else "unchanged"
        self.log_action(action, updated, url)
        return self.summarize(action, updated, url)

    def check(self) -> None:
        """Check the rendered arguments before any request (the config against ``kind`` when it is given)."""
        from airflow_provider_ld.models.configs import validate_destination_config
        from airflow_provider_ld.models.destinations import check_update_arguments

        validate_bool("rotate_secrets", self.rotate_secrets)
        self.ref.check()
        if self.on is not None:
            self.on = self.rendered_bool("on", self.on)
        if self.config is not None:
            self.config = self.rendered_mapping("config", self.config)
        validate_name("new_name", self.new_name, required=self.new_name is not None)
        check_update_arguments(on=self.on, config=self.config, comment=self.comment)
        if self.config is not None and self.kind:
            validate_destination_config(self.kind, self.config, allow_unknown=self.allow_unknown_kind)

    def _update(self) -> tuple[Destination, bool]:
        current = self.require_target()
        return self.hook.update_destination(
            self.project_key,
            self.environment_key,
            current.id,
            name=self.new_name,
            on=self.on,
            config=self.config,
            comment=self.comment,
            allow_unknown_kind=self.allow_unknown_kind,
            current=current,
            rotate_secrets=self.rotate_secrets,
        )


class LaunchDarklyToggleDestinationOperator(_TargetedDestinationOperator):
    """
    Turn a destination's export on or off; one PATCH, and only when the state differs.

    The XCom result carries ``previous_on``, the state the task found (``None`` when a retry found the
    wanted state already, which an earlier try may have set), so a teardown can restore it.

    :param on: the wanted state (templated).
    :param comment: audit-log comment for the change.
    """

    template_fields: Sequence[str] = (*_TargetedDestinationOperator.template_fields, "on", "comment")

    def __init__(self, *, on: bool, comment: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.on = on
        self.comment = comment

    def execute(self, context: Any) -> dict[str, Any]:
        self.ref.check()
        self.on = self.rendered_bool("on", self.on)
        validate_comment(self.comment)
        with self.linked(context) as url:
            current = self.require_target()
            updated, changed = self.hook.update_destination(
                self.project_key,
                self.environment_key,
                current.id,
                on=self.on,
                comment=self.comment,
                current=current,
            )
        action = ("turned on" if self.on else "turned off") if changed else "unchanged"
        self.log_action(action, updated, url)
        return {**self.summarize(action, updated, url), "previous_on": self.previous_on(context, current)}

    def previous_on(self, context: Any, found: Destination) -> bool | None:
        """
        Return the state this task found, for a later task to restore; ``None`` when it cannot be known.

        A retry that finds the destination already in the wanted state cannot tell whether an earlier try
        of this task changed it (a PATCH that landed though its answer was lost), so it reports ``None``.

        :param context: the task context (for the try number).
        :param found: the destination as this try found it, before any change.
        """
        ti = context.get("ti") if hasattr(context, "get") else None
        retried = (getattr(ti, "try_number", 1) or 1) > 1
        if retried and found.on is self.on:
            return None
        return found.on


class LaunchDarklyDeleteDestinationOperator(_TargetedDestinationOperator):
    """
    Delete a destination. One that is already gone counts as success unless ``missing_ok=False``.

    With ``missing_ok=False`` the destination must exist when the task starts; if it then disappears
    before the DELETE lands (a retried DELETE whose first answer was lost, or a concurrent delete), the
    task still succeeds, because the destination it found is gone.

    :param missing_ok: succeed when there is nothing to delete (default ``True``).
    """

    def __init__(self, *, missing_ok: bool = True, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.missing_ok = missing_ok

    def execute(self, context: Any) -> dict[str, Any]:
        self.ref.check()
        validate_bool("missing_ok", self.missing_ok)
        with self.linked(context) as url:
            destination = self._delete()
        if destination is None:
            self.log.info(
                "No destination to delete in %s/%s; already gone", self.project_key, self.environment_key
            )
            return {
                "action": "absent",
                "destination_id": self.destination_id,
                "project_key": self.project_key,
                "environment_key": self.environment_key,
                "name": self.name,
                "url": url,
            }
        self.log_action("deleted", destination, url)
        return self.summarize("deleted", destination, url)

    def _delete(self) -> Destination | None:
        """Delete the destination; return it, or ``None`` when there was none (and ``missing_ok``)."""
        destination = self.hook.find_destination(self.ref) if self.missing_ok else self.require_target()
        if destination is None:
            return None
        try:
            self.hook.delete_destination(self.project_key, self.environment_key, destination.id)
        except LaunchDarklyNotFoundError:
            self.log.info("Destination %s was already gone when the DELETE arrived", destination.id)
        return destination


# The warehouse operators live in their own module; they stay importable from here.
from airflow_provider_ld.operators.warehouse import (
    LaunchDarklyCompleteWarehouseSetupOperator,
    LaunchDarklyWarehouseSetupOperator,
)

__all__ = [
    "LaunchDarklyCompleteWarehouseSetupOperator",
    "LaunchDarklyCreateDestinationOperator",
    "LaunchDarklyDeleteDestinationOperator",
    "LaunchDarklyError",
    "LaunchDarklyToggleDestinationOperator",
    "LaunchDarklyUpdateDestinationOperator",
    "LaunchDarklyWarehouseSetupOperator",
]
