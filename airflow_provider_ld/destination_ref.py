"""
Which destination a task means: one immutable reference, checked, described and matched in one place.

A destination is named by its ``_id``, or else by its exact ``name`` (and optionally its ``kind``). The rule
for a name alone is decided here, once:

- a task that **acts on** a destination that exists (update, toggle, delete) may name it by ``name`` alone;
  the name must then match exactly one destination of the environment, whatever its kind;
- a task that **waits for** a destination (the sensor and its trigger) needs ``name`` *and* ``kind``: it must
  recognise a destination that may not exist yet, so a destination of another kind that happens to carry
  the name must not end the wait.

In both cases several matches are an error (names are not unique in the API) and never a guess.

This module imports no pydantic, model, hook or HTTP library: operators and sensors use it at DAG parse time.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from airflow_provider_ld.checks import KNOWN_KINDS, validate_bool, validate_key, validate_kind, validate_name
from airflow_provider_ld.exceptions import LaunchDarklyNotFoundError, LaunchDarklyValidationError

if TYPE_CHECKING:
    from airflow_provider_ld.models import Destination


def check_identity(destination_id: Any, name: Any, kind: Any, *, awaiting: bool = False) -> None:
    """
    Check that a destination is identified at all: by ``destination_id``, or by ``name`` (with ``kind`` when awaiting).

    Tasks call this in ``__init__``, before their fields are rendered, so it checks presence only (a
    templated id is accepted as given); :meth:`DestinationRef.check` checks the rendered values.

    :param destination_id: the destination's ``_id``.
    :param name: the destination's exact name.
    :param kind: the destination's kind.
    :param awaiting: the task waits for the destination, so a name needs its kind (see the module docstring).
    :raises LaunchDarklyValidationError: naming the missing arguments.
    """
    if destination_id:
        return
    if not awaiting:
        if name:
            return
        raise LaunchDarklyValidationError(
            "destination_id: give destination_id, or name (and optionally kind) to find the destination",
            field="destination_id",
        )
    if name and kind:
        if isinstance(name, str) and isinstance(kind, str):
            return
        raise LaunchDarklyValidationError("name and kind: must be strings", field="name")
    raise LaunchDarklyValidationError(
        "destination_id, or name and kind: pass destination_id, or both name and kind, to identify the "
        f"destination (got destination_id={destination_id!r}, name={name!r}, kind={kind!r})",
        field="destination_id",
    )


@dataclass(frozen=True)
class DestinationRef:
    """
    One destination of one environment, named by ``destination_id`` or by ``name`` (and ``kind``).

    Build it from a task's rendered fields, :meth:`check` it before any request, hand it to the hook's
    ``find_destination``, and use ``str(ref)`` in logs and messages.

    :param project_key: the project key.
    :param environment_key: the environment key.
    :param destination_id: the destination's ``_id``; takes precedence over ``name`` and ``kind``.
    :param name: the destination's exact name.
    :param kind: with ``name``, only destinations of this kind match.
    :param allow_unknown_kind: accept a ``kind`` this release does not know.
    """

    project_key: str
    environment_key: str
    destination_id: str | None = None
    name: str | None = None
    kind: str | None = None
    allow_unknown_kind: bool = False

    def check(self, *, awaiting: bool = False) -> DestinationRef:
        """
        Check every part before any request is sent.

        :param awaiting: the task waits for the destination, so a name needs its kind.
        :return: this reference, checked.
        :raises LaunchDarklyValidationError: naming the field and, for ``kind``, the allowed values.
        """
        check_identity(self.destination_id, self.name, self.kind, awaiting=awaiting)
        validate_key("project_key", self.project_key)
        validate_key("environment_key", self.environment_key)
        if self.destination_id:
            validate_key("destination_id", self.destination_id)
        else:
            validate_name("name", self.name, required=True)
        validate_bool("allow_unknown_kind", self.allow_unknown_kind)
        if self.kind is not None:
            validate_kind(self.kind, allowed=KNOWN_KINDS, allow_unknown=self.allow_unknown_kind)
        return self

    @property
    def by_id(self) -> bool:
        """Whether the destination is named by its ``_id``."""
        return bool(self.destination_id)

    def __str__(self) -> str:
        """Name the destination for logs and messages, e.g. ``segment destination 'events' in p/e``."""
        where = f"in {self.project_key}/{self.environment_key}"
        if self.destination_id:
            return f"destination {self.destination_id} {where}"
        if self.kind:
            return f"{self.kind} destination {self.name!r} {where}"
        return f"destination {self.name!r} {where}"

    def matches(self, destination: Destination) -> bool:
        """Whether ``destination`` is the one meant (its id; or its name, and its kind when given)."""
        if self.destination_id:
            return destination.id == self.destination_id
        return destination.name == self.name and (self.kind is None or destination.kind == self.kind)

    def select(self, candidates: Iterable[Destination]) -> Destination | None:
        """
        Pick the destination meant from the destinations of its environment.

        :param candidates: destinations of the environment; those that do not match are ignored.
        :return: the match, or ``None`` when there is none (yet).
        :raises LaunchDarklyValidationError: when several match; names are not unique in the API.
        """
        matches = [item for item in candidates if self.matches(item)]
        if len(matches) > 1:
            raise self.ambiguous(matches)
        return matches[0] if matches else None

    def ambiguous(self, matches: list[Destination]) -> LaunchDarklyValidationError:
        """Return the error for several destinations matching this name (and kind)."""
        ids = ", ".join(item.id for item in matches)
        of_kind = f" of kind {self.kind!r}" if self.kind else ""
        remedy = "pass destination_id" if self.kind else "pass kind or destination_id"
        return LaunchDarklyValidationError(
            f"ambiguous: {len(matches)} destinations named {self.name!r}{of_kind} ({ids}); {remedy}",
            field="name",
        )

    def not_found(self) -> LaunchDarklyNotFoundError:
        """Return the error for a destination that had to exist and does not, saying how it was looked up."""
        how = f"id {self.destination_id!r}" if self.destination_id else f"name {self.name!r}"
        if self.kind and not self.destination_id:
            how += f" and kind {self.kind!r}"
        return LaunchDarklyNotFoundError(
            f"no destination with {how} in {self.project_key}/{self.environment_key}"
        )


__all__ = ["DestinationRef", "check_identity"]
