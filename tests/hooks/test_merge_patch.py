"""The hook's JSON Merge Patch calls work against the emulator, raw and in the comment envelope (contract-checked)."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize("comment", [None, "rename for the audit log"])
def test_merge_patch_reaches_the_api(hook, emulator, comment):
    target = emulator.add_destination("proj", "prod", kind="google-pubsub", name="old")
    updated = hook.patch_destination(
        "proj", "prod", target["_id"], merge_patch={"name": "new", "config": {"topic": "t2"}}, comment=comment
    )
    assert (updated.name, updated.config["topic"], updated.version) == ("new", "t2", 2)
    (call,) = emulator.calls_to("PATCH")
    expected = {"name": "new", "config": {"topic": "t2"}}
    assert call.json() == (expected if comment is None else {"comment": comment, "merge": expected})
