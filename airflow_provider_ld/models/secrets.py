"""Which values are secret, and how they are hidden in reprs, logs and XCom and revealed on the wire."""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from pydantic import SecretStr

#: Field names the LaunchDarkly API documents as secret, in wire spelling.
SECRET_FIELD_NAMES = frozenset(
    {
        "writeKey",
        "policyKey",
        "apiKey",
        "secret",
        "privateKey",
        "private_key",
        "clickHousePassword",
        "apiToken",
        "syncToken",
        "clientSecret",
        "clientToken",
        "accessToken",
        "componentApiToken",
    }
)
#: Substrings that mark a field as secret even when the API adds a field we do not know yet.
_SECRET_NAME_HINTS = (
    "secret",
    "password",
    "token",
    "privatekey",
    "private_key",
    "apikey",
    "api_key",
    "writekey",
    "policykey",
)
REDACTED = "**********"


@lru_cache(maxsize=4096)
def is_secret_field(name: str) -> bool:
    """Return whether a config field of this name holds a secret (cached: configs reuse a few names)."""
    lowered = name.lower()
    return name in SECRET_FIELD_NAMES or any(hint in lowered for hint in _SECRET_NAME_HINTS)


def hide_secrets(value: Any) -> Any:
    """
    Wrap every string held under a secret field name in :class:`~pydantic.SecretStr`, recursively.

    :param value: a JSON-like value, usually a destination's or delivery configuration's ``config``.
    :return: the same structure; secret strings become ``SecretStr`` and show as ``**********``.
    """
    if isinstance(value, dict):
        return {
            key: SecretStr(item)
            if isinstance(item, str) and is_secret_field(str(key))
            else hide_secrets(item)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [hide_secrets(item) for item in value]
    return value


def reveal_secrets(value: Any) -> Any:
    """Undo :func:`hide_secrets` for a request body: ``SecretStr`` values become plain strings."""
    if isinstance(value, SecretStr):
        return value.get_secret_value()
    if isinstance(value, dict):
        return reveal_fields(value)
    if isinstance(value, (list, tuple)):
        return [reveal_secrets(item) for item in value]
    return value


def reveal_fields(fields: Mapping[str, Any]) -> dict[str, Any]:
    """:func:`reveal_secrets` of an object: a dict of its fields, every ``SecretStr`` in it a plain string."""
    return {key: reveal_secrets(item) for key, item in fields.items()}


def _patched_field(operation: dict[Any, Any]) -> str:
    """Return the last field name of a JSON Patch operation's ``path`` (``""`` for any other object)."""
    path = operation.get("path")
    return path.rsplit("/", 1)[-1] if "op" in operation and isinstance(path, str) else ""


def secret_values(value: Any) -> list[str]:
    """
    Collect the plain secret strings inside ``value``, e.g. to register them with the log masker.

    Covers secrets under a secret field name and the ``value`` of a JSON Patch operation whose ``path``
    ends in one (``{"op": "replace", "path": "/config/writeKey", "value": ...}``).
    """
    found: list[str] = []
    if isinstance(value, SecretStr):
        found.append(value.get_secret_value())
    elif isinstance(value, dict):
        patched_secret = is_secret_field(_patched_field(value))
        for key, item in value.items():
            if isinstance(item, str) and (is_secret_field(str(key)) or (key == "value" and patched_secret)):
                found.append(item)
            else:
                found.extend(secret_values(item))
    elif isinstance(value, (list, tuple)):
        for item in value:
            found.extend(secret_values(item))
    return [item for item in found if item]


def redact(value: Any) -> Any:
    """Return a JSON-safe copy of ``value`` with every secret replaced by ``**********``."""
    if isinstance(value, SecretStr):
        return REDACTED
    if isinstance(value, dict):
        return redact_fields(value)
    if isinstance(value, (list, tuple)):
        return [redact(item) for item in value]
    return value


def redact_fields(fields: Mapping[str, Any]) -> dict[str, Any]:
    """:func:`redact` of an object: a JSON-safe dict of its fields, every secret replaced by ``**********``."""
    return {
        key: REDACTED if isinstance(item, str) and is_secret_field(str(key)) else redact(item)
        for key, item in fields.items()
    }


#: The asterisks in every obfuscated stand-in LaunchDarkly answers in place of a stored secret.
OBFUSCATION_MASK = "****"


def _text(value: Any) -> Any:
    return value.get_secret_value() if isinstance(value, SecretStr) else value


def is_obfuscated(value: Any) -> bool:
    """
    Tell whether a secret read from the API is an obfuscated stand-in rather than the stored value.

    LaunchDarkly answers stored secrets as stand-ins such as ``"abc****xyz"``; a value containing four
    asterisks is taken for one.

    :param value: a config value as read (``SecretStr`` or plain).
    """
    text = _text(value)
    return isinstance(text, str) and OBFUSCATION_MASK in text


def stand_in_agrees(stand_in: Any, clear: Any) -> bool:
    """
    Tell whether the characters a stand-in leaves visible agree with a clear value.

    ``"abc****xyz"`` agrees with every value that starts with ``abc`` and ends with ``xyz``; a stand-in
    that shows nothing agrees with everything. Agreement does not prove the values equal, but
    disagreement proves they differ.

    :param stand_in: the obfuscated value read from the API.
    :param clear: a value in clear.
    """
    text, value = _text(stand_in), _text(clear)
    if not isinstance(text, str) or not isinstance(value, str):
        return False
    head, tail = text.split("*", 1)[0], text.rsplit("*", 1)[-1]
    return len(value) >= len(head) + len(tail) and value.startswith(head) and value.endswith(tail)
