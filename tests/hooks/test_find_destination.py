"""One lookup on each hook, over real HTTP against the emulator: 404 means absent, several matches are an error."""

from __future__ import annotations

import pytest

from airflow_provider_ld.destination_ref import DestinationRef
from airflow_provider_ld.exceptions import LaunchDarklyValidationError
from airflow_provider_ld.hooks.launchdarkly_async import LaunchDarklyAsyncHook

PUBSUB = {"project": "gcp-project", "topic": "ld-events"}


def test_sync_hook_finds_by_id_and_by_name(hook, emulator):
    created = hook.create_destination("proj", "prod", kind="google-pubsub", name="events", config=PUBSUB)
    assert hook.find_destination(DestinationRef("proj", "prod", created.id)).id == created.id
    assert hook.find_destination(DestinationRef("proj", "prod", name="events")).id == created.id
    assert hook.find_destination(DestinationRef("proj", "prod", name="events", kind="segment")) is None
    before = len(emulator.calls_to())
    assert hook.find_destination(DestinationRef("proj", "prod", "0123456789abcdef01234567")) is None
    assert emulator.calls_to()[before].status == 404


def test_sync_hook_refuses_to_guess_between_same_named_destinations(hook, emulator):
    emulator.add_destination("proj", "prod", kind="google-pubsub", name="dup", config=PUBSUB)
    emulator.add_destination("proj", "prod", kind="google-pubsub", name="dup", config=PUBSUB)
    with pytest.raises(LaunchDarklyValidationError, match="ambiguous: 2 destinations named 'dup'"):
        hook.find_destination(DestinationRef("proj", "prod", name="dup"))


@pytest.mark.asyncio
async def test_async_hook_finds_by_id_and_by_name_and_404_is_absent(ld_connection, emulator):
    made = emulator.add_destination("proj", "prod", kind="google-pubsub", name="events", config=PUBSUB)
    made_id = made["_id"]
    async with LaunchDarklyAsyncHook(ld_connection) as async_hook:
        by_id = await async_hook.find_destination(DestinationRef("proj", "prod", made_id))
        by_name = await async_hook.find_destination(
            DestinationRef("proj", "prod", name="events", kind="google-pubsub")
        )
        absent = await async_hook.find_destination(DestinationRef("proj", "prod", "0123456789abcdef01234567"))
    assert by_id is not None and by_id.id == made_id
    assert by_name is not None and by_name.id == made_id
    assert absent is None
    assert [call.status for call in emulator.calls_to("GET")][-1] == 404
