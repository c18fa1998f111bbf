"""An installed wheel carries content/ and migrations/ and finds them there."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_wheel_carries_content_and_migrations(tmp_path: Path) -> None:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(tmp_path),
            str(ROOT),
        ],
        check=True,
        timeout=120,
        capture_output=True,
    )
    wheel = next(tmp_path.glob("*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "bot/_data/content/en/messages.yaml" in names
    assert "bot/_data/migrations/env.py" in names
    assert any(n.startswith("bot/_data/migrations/versions/001_") for n in names)
    assert any(n.startswith("bot/_data/content/en/questions/") for n in names)
