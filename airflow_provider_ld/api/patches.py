"""JSON Patch checking and building: minimal patches guarded by a ``version`` test."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import jsonpatch
import jsonpointer

from airflow_provider_ld.exceptions import LaunchDarklyValidationError
from airflow_provider_ld.models._base import validate_comment
from airflow_provider_ld.models.secrets import (
    is_obfuscated,
    is_secret_field,
    reveal_secrets,
    stand_in_agrees,
)

PATCH_OPS = ("add", "remove", "replace", "move", "copy", "test")
_NEEDS_VALUE = frozenset({"add", "replace", "test"})
_NEEDS_FROM = frozenset({"move", "copy"})
#: Destination fields a patch may change; underscore fields and server-managed ones are read-only.
WRITABLE_DESTINATION_FIELDS = ("name", "kind", "config", "on")


def validate_json_patch(patch: Any, *, field: str = "patch") -> list[dict[str, Any]]:
    """
    Check a JSON Patch (RFC 6902) before it is sent.

    :param patch: a list of operations like ``{"op": "replace", "path": "/on", "value": true}``.
    :param field: the argument's name, for the error.
    :return: the operations as a list of plain dicts.
    :raises LaunchDarklyValidationError: naming the offending operation and the allowed values.
    """
    if isinstance(patch, jsonpatch.JsonPatch):
        patch = list(patch)
    if not isinstance(patch, (list, tuple)) or not patch:
        raise LaunchDarklyValidationError(
            f"{field}: must be a non-empty list of JSON Patch operations", field=field
        )
    for index, operation in enumerate(patch):
        _check_operation(f"{field}[{index}]", operation)
    try:
        jsonpatch.JsonPatch(list(patch))
    except (jsonpatch.JsonPatchException, jsonpointer.JsonPointerException) as err:
        raise LaunchDarklyValidationError(f"{field}: {err}", field=field) from None
    return [dict(operation) for operation in patch]


def _check_operation(field: str, operation: Any) -> None:
    if not isinstance(operation, Mapping):
        raise LaunchDarklyValidationError(f"{field}: must be an object with 'op' and 'path'", field=field)
    op = operation.get("op")
    if op not in PATCH_OPS:
        raise LaunchDarklyValidationError(
            f"{field}.op: {op!r} is not a JSON Patch operation; allowed values: {', '.join(PATCH_OPS)}",
            field=f"{field}.op",
            allowed=PATCH_OPS,
        )
    path = operation.get("path")
    if not isinstance(path, str) or (path and not path.startswith("/")):
        raise LaunchDarklyValidationError(
            f"{field}.path: must be a JSON pointer like '/on', got {path!r}", field=f"{field}.path"
        )
    if op in _NEEDS_VALUE and "value" not in operation:
        raise LaunchDarklyValidationError(f"{field}.value: required for op {op!r}", field=f"{field}.value")
    if op in _NEEDS_FROM and not isinstance(operation.get("from"), str):
        raise LaunchDarklyValidationError(f"{field}.from: required for op {op!r}", field=f"{field}.from")


def is_version_guarded(patch: list[dict[str, Any]]) -> bool:
    """Return whether the patch starts by testing ``/version``, so a retry cannot apply it twice."""
    return bool(patch) and patch[0].get("op") == "test" and patch[0].get("path") == "/version"


def make_patch(
    current: Mapping[str, Any], desired: Mapping[str, Any], *, version: float | None
) -> list[dict[str, Any]]:
    """
    Build the minimal JSON Patch that turns ``current`` into ``desired`` for the fields ``desired`` names.

    Fields absent from ``desired`` are left alone. When anything changes and ``version`` is known, the
    patch starts with ``{"op": "test", "path": "/version", "value": version}`` so a concurrent edit makes
    the API refuse the patch (409) instead of being overwritten.

    :param current: the object as the API returned it (secret values may be ``SecretStr``).
    :param desired: the wanted values of some fields.
    :param version: the current ``version`` of the object.
    :return: the operations; an empty list when nothing changes.
    """
    fields = list(desired)
    before = reveal_secrets({name: current.get(name) for name in fields if name in current})
    after = reveal_secrets(dict(desired))
    operations = list(jsonpatch.make_patch(before, after))
    if operations and version is not None:
        operations.insert(0, {"op": "test", "path": "/version", "value": version})
    return operations


@dataclass(frozen=True)
class ConfigComparison:
    """
    A desired config made comparable with what the API shows, and what could not be compared.

    :param desired: the desired config, with every value the API cannot show (an obfuscated secret not
        asked to rotate, a secret not given, a field the server derives) taken from the current config,
        so a diff against the current config changes only what really differs.
    :param uncompared: secret fields whose stored value the API hides, left as they are.
    :param disagreeing: among those, the fields whose visible characters prove the stored value differs
        from the desired one (for example a secret rotated outside Airflow).
    """

    desired: dict[str, Any]
    uncompared: tuple[str, ...] = field(default=())
    disagreeing: tuple[str, ...] = field(default=())


def comparable_config(
    kind: str | None, current: Mapping[str, Any] | None, desired: Mapping[str, Any], *, rotate_secrets: bool
) -> ConfigComparison:
    """
    Prepare a desired config for a diff against a config read from an API that obfuscates secrets.

    LaunchDarkly answers stored secrets as obfuscated stand-ins, so a stand-in is "cannot compare", never
    "differs": the field keeps its stored value unless ``rotate_secrets`` asks to send the desired one.
    Secrets the desired config leaves out are never removed, and mParticle's legacy ``userIdentity``, which
    the API returns beside ``userIdentities``, is not a difference either.

    :param kind: the destination's kind.
    :param current: the config as read from the API (secret values may be ``SecretStr``).
    :param desired: the desired config in clear.
    :param rotate_secrets: send desired secret values even though the stored ones cannot be compared.
    """
    result = dict(desired)
    uncompared: list[str] = []
    disagreeing: list[str] = []
    for key, value in (current or {}).items():
        if is_secret_field(str(key)):
            if key not in desired:
                result[key] = value
            elif is_obfuscated(value) and not rotate_secrets:
                result[key] = value
                uncompared.append(key)
                if not stand_in_agrees(value, desired[key]):
                    disagreeing.append(key)
        elif (
            key == "userIdentity"
            and kind == "mparticle"
            and key not in desired
            and desired.get("userIdentities")
        ):
            result[key] = value
    return ConfigComparison(result, tuple(uncompared), tuple(disagreeing))


def patch_body(
    patch: list[dict[str, Any]] | None, merge_patch: Mapping[str, Any] | None, comment: str | None
) -> list[dict[str, Any]] | dict[str, Any]:
    """
    Return the PATCH body: a JSON Patch list, a merge-patch object, or the ``{comment, patch|merge}`` envelope.

    :param patch: checked JSON Patch operations, or ``None``.
    :param merge_patch: a JSON Merge Patch object, or ``None`` (exactly one of the two is given).
    :param comment: audit-log comment; wraps the patch in the envelope when given.
    """
    if (patch is None) == (merge_patch is None):
        raise LaunchDarklyValidationError(
            "patch: give exactly one of patch (JSON Patch) or merge_patch (JSON Merge Patch)", field="patch"
        )
    if merge_patch is not None and not isinstance(merge_patch, Mapping):
        raise LaunchDarklyValidationError(
            f"merge_patch: must be an object (dict), got {type(merge_patch).__name__}", field="merge_patch"
        )
    if validate_comment(comment) is None:
        return patch if patch is not None else dict(merge_patch or {})
    if patch is not None:
        return {"comment": comment, "patch": patch}
    return {"comment": comment, "merge": dict(merge_patch or {})}
