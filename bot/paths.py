"""Where content/ and migrations/ are: inside the installed wheel, or the source tree."""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def _find(name: str) -> Path:
    for candidate in (_PACKAGE / "_data" / name, _PACKAGE.parent / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"the bot's {name}/ folder is missing from the installation")


def content_dir() -> Path:
    return _find("content")


def migrations_dir() -> Path:
    return _find("migrations")
