"""
The plain input checks: keys, names, booleans, comments and destination kinds.

This module imports no pydantic, model, hook or HTTP library, so operators and sensors import it at the
top of their modules and parsing a DAG stays cheap. The request builders in
:mod:`airflow_provider_ld.api.operations` and the models use the same functions.
"""

from __future__ import annotations

import re
from typing import Any

from airflow_provider_ld.exceptions import LaunchDarklyValidationError

#: LaunchDarkly project, environment and integration keys: letters, digits, ``.``, ``_`` and ``-``.
_KEY_PATTERN = re.compile(r"[A-Za-z0-9._-]+")
#: URL dot segments: HTTP clients remove them from paths, so they can never name a resource.
_DOT_SEGMENTS = frozenset({".", ".."})
MAX_KEY_LENGTH = 256
MAX_NAME_LENGTH = 512

#: Every destination kind the API's ``kind`` enum lists (each has a config model in ``models.configs``).
DESTINATION_KINDS: tuple[str, ...] = (
    "azure-event-hubs",
    "bigquery",
    "databricks",
    "google-pubsub",
    "kinesis",
    "mparticle",
    "redshift",
    "segment",
    "snowflake-v2",
)
#: Kinds exported to a data warehouse (set up with the warehouse flow).
WAREHOUSE_KINDS: tuple[str, ...] = ("bigquery", "clickhouse", "databricks", "redshift", "snowflake-v2")
#: Kinds the guided ``setup`` route accepts.
WAREHOUSE_SETUP_KINDS: tuple[str, ...] = ("clickhouse", "redshift", "snowflake-v2")
#: Kinds the ``complete-setup`` route accepts.
WAREHOUSE_COMPLETE_KINDS: tuple[str, ...] = WAREHOUSE_KINDS
#: Every kind an existing destination can have: what a lookup by ``kind`` accepts.
KNOWN_KINDS: tuple[str, ...] = tuple(sorted({*DESTINATION_KINDS, *WAREHOUSE_KINDS}))


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


def validate_kind(
    kind: Any, *, allowed: tuple[str, ...] = DESTINATION_KINDS, allow_unknown: bool = False
) -> str:
    """
    Check a destination kind.

    :param kind: the kind given by the user.
    :param allowed: the kinds accepted at this point.
    :param allow_unknown: accept any kind spelled like a key (for kinds LaunchDarkly added after this
        release); it goes into URL paths, so ``..`` and characters outside a key's are still refused.
    :raises LaunchDarklyValidationError: naming ``kind`` and the allowed values.
    """
    if isinstance(kind, str) and kind in allowed:
        return kind
    if allow_unknown and isinstance(kind, str) and kind:
        return validate_key("kind", kind)
    raise LaunchDarklyValidationError(
        f"kind: {kind!r} is not a supported destination kind; allowed values: {', '.join(allowed)}"
        " (pass allow_unknown_kind=True to send a kind this provider does not know yet)",
        field="kind",
        allowed=allowed,
    )


__all__ = [
    "DESTINATION_KINDS",
    "KNOWN_KINDS",
    "MAX_KEY_LENGTH",
    "MAX_NAME_LENGTH",
    "WAREHOUSE_COMPLETE_KINDS",
    "WAREHOUSE_KINDS",
    "WAREHOUSE_SETUP_KINDS",
    "validate_bool",
    "validate_comment",
    "validate_key",
    "validate_kind",
    "validate_name",
]
