"""Shared pydantic base classes and the local input checks every request needs."""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, ConfigDict, field_validator

from airflow_provider_ld.exceptions import LaunchDarklyValidationError
from airflow_provider_ld.models.secrets import hide_secrets

#: LaunchDarkly project, environment and integration keys: letters, digits, ``.``, ``_`` and ``-``.
_KEY_PATTERN = re.compile(r"[A-Za-z0-9._-]+")
#: URL dot segments: HTTP clients remove them from paths, so they can never name a resource.
_DOT_SEGMENTS = frozenset({".", ".."})
MAX_KEY_LENGTH = 256
MAX_NAME_LENGTH = 512


class ApiModel(BaseModel):
    """
    A response from the API, read tolerantly.

    Unknown fields are kept (``extra="allow"``) and every field is optional, so a newer API does not
    break old DAGs. Fields use Python names; the wire names are their aliases.
    """

    model_config = ConfigDict(extra="allow", populate_by_name=True, frozen=True)

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-serialisable dict in wire spelling, with every secret redacted (safe for XCom)."""
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)


class ConfigHoldingModel(ApiModel):
    """An API object with a free-form ``config`` whose secret fields are hidden on read."""

    @field_validator("config", mode="after", check_fields=False)
    @classmethod
    def _hide_config_secrets(cls, value: Any) -> Any:
        return hide_secrets(value)


class Link(ApiModel):
    """A ``_links`` entry: an API-relative ``href`` and its media ``type``."""

    href: str | None = None
    type: str | None = None


def validate_key(field: str, value: Any) -> str:
    """
    Check a project, environment, integration or destination key before it goes into a URL path.

    :param field: the argument's name, used in the error (e.g. ``project_key``).
    :param value: the value given by the user.
    :return: the key, unchanged.
    :raises LaunchDarklyValidationError: if it is empty, too long, or has characters a key cannot have.
    """
    if not isinstance(value, str):
        raise LaunchDarklyValidationError(
            f"{field}: must be a string, got {type(value).__name__}", field=field
        )
    if not value:
        raise LaunchDarklyValidationError(f"{field}: must not be empty", field=field)
    if len(value) > MAX_KEY_LENGTH:
        raise LaunchDarklyValidationError(
            f"{field}: must be at most {MAX_KEY_LENGTH} characters, got {len(value)}", field=field
        )
    if not _KEY_PATTERN.fullmatch(value):  # fullmatch: "$" would let a trailing newline through
        raise LaunchDarklyValidationError(
            f"{field}: {value!r} may only contain letters, digits, '.', '_' and '-'", field=field
        )
    if value in _DOT_SEGMENTS:
        raise LaunchDarklyValidationError(
            f"{field}: {value!r} is a relative path segment, not a key; a key needs a letter, digit, "
            "'_' or '-'",
            field=field,
        )
    return value


def validate_name(field: str, value: Any, *, required: bool = False) -> str | None:
    """
    Check a human-readable name (destination or delivery configuration name).

    :param field: the argument's name, used in the error.
    :param value: the value given by the user; ``None`` means "not given".
    :param required: whether ``None`` or an empty name is an error.
    """
    if value is None and not required:
        return None
    if not isinstance(value, str) or (required and not value.strip()):
        raise LaunchDarklyValidationError(f"{field}: must be a non-empty string", field=field)
    if len(value) > MAX_NAME_LENGTH:
        raise LaunchDarklyValidationError(
            f"{field}: must be at most {MAX_NAME_LENGTH} characters, got {len(value)}", field=field
        )
    return value


def validate_bool(field: str, value: Any) -> bool:
    """Check that ``value`` is a real boolean (not ``"false"``, which is truthy)."""
    if not isinstance(value, bool):
        raise LaunchDarklyValidationError(
            f"{field}: must be true or false, got {value!r}", field=field, allowed=("true", "false")
        )
    return value


def validate_comment(value: Any) -> str | None:
    """Check an optional audit-log comment: ``None``, or a non-empty string."""
    if value is not None and (not isinstance(value, str) or not value.strip()):
        raise LaunchDarklyValidationError("comment: must be a non-empty string", field="comment")
    return value
