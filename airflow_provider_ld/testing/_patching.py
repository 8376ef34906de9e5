"""JSON Patch (RFC 6902) and JSON Merge Patch (RFC 7386) parsing and application for the emulated API."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

import jsonpatch
import jsonpointer

from airflow_provider_ld.testing._errors import MAX_JSON_DEPTH, bad_request, too_deep

_OPS_WITH_VALUE = frozenset({"add", "replace", "test"})
_OPS_WITH_FROM = frozenset({"move", "copy"})
_ALL_OPS = frozenset({"add", "remove", "replace", "move", "copy", "test"})


class PatchTestFailed(Exception):
    """A ``test`` operation did not match the current document."""


class PatchNotApplicable(Exception):
    """An operation cannot be applied to the current document (e.g. missing target)."""


@dataclass(frozen=True)
class DestinationUpdate:
    """
    A parsed destination PATCH body: JSON Patch operations or a JSON Merge Patch, and a comment.

    Exactly one of ``operations`` and ``merge`` is set.
    """

    operations: list[dict[str, Any]] | None = None
    merge: dict[str, Any] | None = None
    comment: str | None = None


#: Envelope keys of LaunchDarkly's "Updates with comments" (JSON Patch or JSON Merge Patch).
_ENVELOPES = {"patch": {"comment", "patch"}, "merge": {"comment", "merge"}}


def parse_destination_patch(body: Any) -> DestinationUpdate:
    """
    Read a destination PATCH body the way LaunchDarkly documents it ("Updates" in the API overview).

    An array is a JSON Patch; ``{"comment", "patch": [...]}`` and ``{"comment", "merge": {...}}`` are the
    comment envelopes; any other object is a JSON Merge Patch. A semantic patch (``instructions``) is not
    supported by this resource.

    :param body: parsed JSON body.
    :raises ApiError: 400 for any other shape or a malformed operation.
    """
    if not isinstance(body, dict):
        return DestinationUpdate(operations=parse_patch_ops(body))
    if "instructions" in body:
        raise bad_request("Semantic patch is not supported for Data Export destinations")
    for member, allowed in _ENVELOPES.items():
        if member in body:
            unknown = sorted(set(body) - allowed)
            if unknown:
                raise bad_request(f"Unknown field '{unknown[0]}' in a '{member}' update with a comment")
            comment = _comment(body.get("comment"))
            if member == "patch":
                return DestinationUpdate(operations=parse_patch_ops(body["patch"]), comment=comment)
            return DestinationUpdate(merge=parse_merge_patch(body["merge"]), comment=comment)
    return DestinationUpdate(merge=parse_merge_patch(body))


def _comment(value: Any) -> str | None:
    """Check an update's ``comment``; raise 400 unless it is absent or a string."""
    if value is not None and not isinstance(value, str):
        raise bad_request("comment must be a string")
    return value


def parse_merge_patch(value: Any) -> dict[str, Any]:
    """
    Check a JSON Merge Patch document.

    :param value: parsed JSON value.
    :raises ApiError: 400 unless it is a non-empty object.
    """
    if not isinstance(value, dict) or not value:
        raise bad_request("A JSON Merge Patch must be a non-empty JSON object")
    return value


def apply_merge_patch(document: dict[str, Any], merge: dict[str, Any]) -> dict[str, Any]:
    """
    Apply a JSON Merge Patch (RFC 7386) to a copy of ``document``: ``null`` removes a member.

    :param document: the current representation.
    :param merge: a checked merge-patch object.
    :raises PatchNotApplicable: when the result would nest deeper than :data:`MAX_JSON_DEPTH`.
    """
    patched = _merge_object(copy.deepcopy(document), merge)
    if too_deep(patched):
        raise PatchNotApplicable(f"the patched resource would nest deeper than {MAX_JSON_DEPTH} levels")
    return patched


def _merge(target: Any, patch: Any) -> Any:
    """RFC 7386 ``MergePatch(Target, Patch)``."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    return _merge_object(target if isinstance(target, dict) else {}, patch)


def _merge_object(target: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    """``MergePatch(Target, Patch)`` for an object ``Patch``: a copy of ``target`` with the members merged."""
    result = dict(target)
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = _merge(result.get(key), value)
    return result


def parse_patch_ops(value: Any) -> list[dict[str, Any]]:
    """
    Check the structure of a JSON Patch array.

    :param value: parsed JSON value.
    :return: the operations.
    :raises ApiError: 400 when it is not an array of well-formed operations.
    """
    if not isinstance(value, list) or not value:
        raise bad_request("Request body must be a non-empty JSON Patch array")
    for index, op in enumerate(value):
        _check_operation(index, op)
    return value


def _check_operation(index: int, op: Any) -> None:
    """
    Check one JSON Patch operation.

    :param index: position in the array, for the message.
    :param op: the operation.
    :raises ApiError: 400 describing the problem.
    """
    where = f"patch operation {index}"
    if not isinstance(op, dict):
        raise bad_request(f"{where} must be an object")
    if not _is_op_name(op.get("op")):
        raise bad_request(f"{where}: op must be one of {', '.join(sorted(_ALL_OPS))}")
    if not _is_pointer(op.get("path")):
        raise bad_request(f"{where}: path must be a JSON Pointer string")
    if op["op"] in _OPS_WITH_VALUE and "value" not in op:
        raise bad_request(f"{where}: {op['op']} requires a value")
    if op["op"] in _OPS_WITH_FROM and not _is_pointer(op.get("from")):
        raise bad_request(f"{where}: {op['op']} requires a 'from' JSON Pointer")


def _is_op_name(value: Any) -> bool:
    """
    Tell whether a value is one of the RFC 6902 operation names.

    Checks the type first: an array or object ``op`` is unhashable and cannot be looked up in a set.

    :param value: candidate ``op`` member.
    """
    return isinstance(value, str) and value in _ALL_OPS


def _is_pointer(value: Any) -> bool:
    """
    Tell whether a value is a syntactically valid JSON Pointer.

    :param value: candidate pointer.
    """
    return isinstance(value, str) and (value == "" or value.startswith("/"))


def top_level_field(pointer: str) -> str:
    """
    Return the unescaped first reference token of a JSON Pointer (``""`` for the root).

    :param pointer: a JSON Pointer.
    """
    if not pointer:
        return ""
    return pointer.split("/")[1].replace("~1", "/").replace("~0", "~")


def check_read_only(ops: list[dict[str, Any]], read_only: frozenset[str]) -> None:
    """
    Reject operations that would modify read-only fields or the whole document.

    ``test`` operations may target any field (they never modify).

    :param ops: parsed operations.
    :param read_only: top-level field names that cannot change.
    :raises ApiError: 400 naming the field.
    """
    for op in ops:
        if op["op"] == "test":
            continue
        pointers = [op["path"]] + ([op["from"]] if op["op"] == "move" else [])
        for pointer in pointers:
            field = top_level_field(pointer)
            if not field:
                raise bad_request("Patch operations may not replace the whole resource")
            if field in read_only:
                raise bad_request(f"{field} is read-only and cannot be patched")


def apply_patch(document: dict[str, Any], ops: list[dict[str, Any]]) -> dict[str, Any]:
    """
    Apply operations to a copy of ``document``.

    :param document: the current representation.
    :param ops: parsed operations.
    :return: the patched copy.
    :raises PatchTestFailed: when a ``test`` operation fails.
    :raises PatchNotApplicable: when an operation cannot be applied, or the result would nest deeper
        than :data:`MAX_JSON_DEPTH` (so patches cannot grow a stored resource without bound).
    """
    try:
        patched = jsonpatch.JsonPatch(copy.deepcopy(ops)).apply(copy.deepcopy(document))
    except jsonpatch.JsonPatchTestFailed as exc:
        raise PatchTestFailed(str(exc)) from None
    except (jsonpatch.JsonPatchException, jsonpointer.JsonPointerException, TypeError) as exc:
        raise PatchNotApplicable(str(exc)) from None
    if not isinstance(patched, dict):  # an operation on the root ("") replaced the whole object
        raise PatchNotApplicable("the patched resource must stay a JSON object")
    if too_deep(patched):
        raise PatchNotApplicable(f"the patched resource would nest deeper than {MAX_JSON_DEPTH} levels")
    return patched
