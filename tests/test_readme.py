"""The README's promises: its set-up commands exist, and its complete DAG runs against the emulator."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.example_dags.conftest import airflow_db  # noqa: F401  (shared fixture)
from tests.hooks.conftest import emulator, ld_connection  # noqa: F401  (shared fixtures)

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()
MAKEFILE = (ROOT / "Makefile").read_text()


def code_blocks(language: str) -> list[str]:
    """The README's fenced code blocks in one language."""
    return re.findall(rf"^```{language}\n(.*?)^```$", README, flags=re.MULTILINE | re.DOTALL)


def test_the_set_up_commands_are_in_the_readme_and_in_the_makefile():
    commands = [line.split("#")[0].strip() for block in code_blocks("bash") for line in block.splitlines()]
    for command in ("make demo", "make test"):
        assert command in commands, f"{command!r} is not a command in the README"
        target = command.split()[1]
        assert re.search(rf"^{target}:", MAKEFILE, flags=re.MULTILINE), f"the Makefile has no {target} target"


@pytest.fixture
def readme_dag(tmp_path, monkeypatch):
    """The README's complete DAG, parsed from a DAG folder holding exactly the README's code."""
    from airflow import settings

    try:
        from airflow.dag_processing.dagbag import DagBag
    except ImportError:  # Airflow before 3.2
        from airflow.models.dagbag import DagBag

    (source,) = [block for block in code_blocks("python") if "with DAG(" in block]
    (tmp_path / "readme_dag.py").write_text(source)
    monkeypatch.setattr(settings, "DAGS_FOLDER", str(tmp_path))  # the folder dag.test() serialises
    bag = DagBag(str(tmp_path))
    assert bag.import_errors == {}
    (dag,) = bag.dags.values()
    return dag


def test_the_readme_dag_runs_end_to_end_and_reruns_without_duplicates(
    airflow_db,  # noqa: F811
    emulator,  # noqa: F811
    ld_connection,  # noqa: F811
    readme_dag,
    monkeypatch,
):
    monkeypatch.setenv("AIRFLOW_VAR_SEGMENT_WRITE_KEY", "readme-write-key")

    assert readme_dag.test().state == "success"
    state = [
        (d["kind"], d["name"], d["_links"]["self"]["href"].split("/")[4:6], d["on"])
        for d in emulator.destinations
    ]
    assert state == [("segment", "segment-events", ["my-project", "production"], True)]

    posts_before = len(emulator.calls_to("POST"))
    patches_before = len(emulator.calls_to("PATCH"))
    assert readme_dag.test().state == "success"
    assert len(emulator.destinations) == 1, "a second run adopts; nothing is duplicated"
    assert emulator.calls_to("POST")[posts_before:] == [], "nothing is created twice"
    assert emulator.calls_to("PATCH")[patches_before:] == [], "the toggle sends nothing when already on"
