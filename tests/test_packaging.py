"""The wheel users install: typed (PEP 561), with the classifier that says so."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_the_wheel_ships_py_typed_and_the_typed_classifier(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "uv", "build", "--wheel", "--out-dir", str(tmp_path), str(ROOT)],
        check=False,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    (wheel,) = tmp_path.glob("*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        (metadata,) = [name for name in names if name.endswith(".dist-info/METADATA")]
        classifiers = [
            line.removeprefix("Classifier: ")
            for line in archive.read(metadata).decode().splitlines()
            if line.startswith("Classifier: ")
        ]
    assert "airflow_provider_ld/py.typed" in names
    assert "Typing :: Typed" in classifiers
