"""
Behaviours of the real API that the emulator reproduces, each one switchable.

Every behaviour here is documented by LaunchDarkly or shown by its own tools, but some details (a
status code, a delay) are not confirmed by any source. They are settings rather than silent guesses,
so a test can pin the behaviour it relies on; ``docs/api-fidelity.md`` names the source of each.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class ApiFidelity:
    """
    How closely the emulator follows production in the points LaunchDarkly's own tools reveal.

    :param obfuscate_secrets: answer destination secrets (``writeKey``, ``policyKey``, ``apiKey``,
        ``secret``) as obfuscated stand-ins, as production does. Turn off only to inspect stored values.
    :param mparticle_legacy_identity: add the legacy ``userIdentity`` beside ``userIdentities`` in
        mParticle configs, as production does.
    :param key_propagation_delay: seconds after a guided ``setup`` during which ``complete-setup`` fails
        its warehouse connection test (400), as while Snowflake propagates a new key.
    :param refuse_setup_when_exists: answer 400 to a guided ``setup`` when the environment already has a
        destination of that kind.
    """

    obfuscate_secrets: bool = True
    mparticle_legacy_identity: bool = True
    key_propagation_delay: float = 0.0
    refuse_setup_when_exists: bool = True
