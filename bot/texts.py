"""User-facing wording, kept in content/<language>/messages.yaml, not in code."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

DEFAULT_LANGUAGE = "en"


class Texts:
    def __init__(self, catalogues: dict[str, dict[str, str]]) -> None:
        if DEFAULT_LANGUAGE not in catalogues:
            raise ValueError("content/en/messages.yaml is missing")
        self._catalogues = catalogues

    @classmethod
    def load(cls, content: Path) -> Texts:
        catalogues: dict[str, dict[str, str]] = {}
        for path in sorted(content.glob("*/messages.yaml")):
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
            if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
                raise ValueError(f"{path}: expected a mapping of message keys to text")
            catalogues[path.parent.name] = data
        return cls(catalogues)

    def language_for(self, code: str | None) -> str:
        """The catalogue for a Telegram language code ("pt-br" -> "pt"), English otherwise."""
        base = (code or "").split("-")[0].lower()
        return base if base in self._catalogues else DEFAULT_LANGUAGE

    def has(self, key: str) -> bool:
        return key in self._catalogues[DEFAULT_LANGUAGE]

    def render(self, key: str, language: str | None = None, **params: Any) -> str:
        catalogue = self._catalogues[self.language_for(language)]
        template = catalogue.get(key) or self._catalogues[DEFAULT_LANGUAGE][key]
        return template.format_map(params) if params else template
