"""
How the emulated API hides stored secrets in its answers.

LaunchDarkly never returns a stored secret in clear: destinations (``writeKey``, ``policyKey``,
``apiKey``, ``secret``) and delivery configurations (``apiToken`` and the other secret form variables)
come back as obfuscated stand-ins. LaunchDarkly's Terraform provider shows the shape of a stand-in in
its delivery-configuration resource (``"dum****ion"``: the first and last three characters around
four asterisks) and copies the user's own values back over the stand-ins of destinations
(``preserveObfuscatedDestinationAttributes``). The emulator follows that shape for every secret;
short values, where three characters on each side would reveal most of the secret, are masked whole.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

#: The asterisks every stand-in contains.
MASK = "****"
#: Characters shown on each side of the mask.
VISIBLE = 3
#: Shortest value that keeps its first and last characters visible.
MIN_PARTIAL_LENGTH = 12


def obfuscate(value: Any) -> Any:
    """
    Return the stand-in LaunchDarkly answers in place of a stored secret.

    :param value: the stored value; non-strings are masked whole.
    """
    if isinstance(value, str) and len(value) >= MIN_PARTIAL_LENGTH:
        return value[:VISIBLE] + MASK + value[-VISIBLE:]
    return MASK


def obfuscate_fields(config: dict[str, Any], secret_keys: Iterable[str]) -> dict[str, Any]:
    """
    Return a copy of ``config`` whose top-level secret fields are replaced by stand-ins.

    :param config: a stored config (secrets in clear).
    :param secret_keys: the names of the fields that are secret.
    """
    secret = frozenset(secret_keys)
    return {key: obfuscate(value) if key in secret else value for key, value in config.items()}
