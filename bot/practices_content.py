"""Content for the other practices: date ideas and the love-languages quiz (content/en/)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

Language = Literal["words", "time", "gifts", "acts", "touch"]
LANGUAGES: tuple[Language, ...] = ("words", "time", "gifts", "acts", "touch")
PLACES = ("at_home", "out")
SEASONS = ("spring", "summer", "autumn", "winter")
TAGS = (*PLACES, "free", *SEASONS, "any_season")


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class DateIdea(_Model):
    id: str = Field(pattern=r"^date-\d{3}$")
    text: str = Field(min_length=1, max_length=200)
    tags: tuple[str, ...]

    @model_validator(mode="after")
    def _tags(self) -> DateIdea:
        unknown = set(self.tags) - set(TAGS)
        if unknown:
            raise ValueError(f"unknown tags {sorted(unknown)}")
        if sum(t in PLACES for t in self.tags) != 1:
            raise ValueError("needs exactly one of at_home, out")
        seasons = any(t in SEASONS for t in self.tags)
        if seasons == ("any_season" in self.tags):
            raise ValueError("needs any_season or one or more seasons, not both")
        return self


class Choice(_Model):
    text: str = Field(min_length=1, max_length=120)
    language: Language


class QuizItem(_Model):
    id: str
    prompt: str = Field(min_length=1, max_length=120)
    a: Choice
    b: Choice


class LanguageInfo(_Model):
    name: str
    about: str


class LoveLanguages(_Model):
    languages: dict[Language, LanguageInfo]
    quiz: tuple[QuizItem, ...]
    suggestions: dict[Language, tuple[str, ...]]
    appreciation_nudges: tuple[str, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _balanced(self) -> LoveLanguages:
        uses = Counter(c.language for item in self.quiz for c in (item.a, item.b))
        if len(set(uses.values())) != 1 or set(uses) != set(LANGUAGES):
            raise ValueError(f"every language must appear equally often in the quiz: {uses}")
        if any(item.a.language == item.b.language for item in self.quiz):
            raise ValueError("a quiz item offers the same language twice")
        return self


class Practices(_Model):
    dates: tuple[DateIdea, ...]
    love: LoveLanguages

    @classmethod
    def load(cls, root: Path, language: str = "en") -> Practices:
        folder = root / language
        try:
            dates = yaml.safe_load((folder / "dates.yaml").read_text(encoding="utf-8"))
            love = yaml.safe_load((folder / "love_languages.yaml").read_text(encoding="utf-8"))
            practices = cls(dates=dates, love=love)
        except (OSError, yaml.YAMLError, ValidationError) as exc:
            raise ValueError(f"{folder}: dates.yaml or love_languages.yaml: {exc}") from exc
        ids = [d.id for d in practices.dates]
        if len(ids) != len(set(ids)):
            raise ValueError(f"{folder / 'dates.yaml'}: duplicate ids")
        return practices

    def idea(self, idea_id: str) -> DateIdea | None:
        return next((d for d in self.dates if d.id == idea_id), None)

    def counts(self) -> dict[str, object]:
        tags = Counter(t for d in self.dates for t in d.tags)
        return {
            "dates": {"total": len(self.dates), "tags": {t: tags[t] for t in TAGS}},
            "love_languages": {
                "quiz_items": len(self.love.quiz),
                "suggestions": sum(map(len, self.love.suggestions.values())),
                "appreciation_nudges": len(self.love.appreciation_nudges),
            },
        }
