"""The content library: evening starters and questions, loaded from YAML and checked.

Layout: ``content/<language>/{evening,questions}/<theme>.yaml``, each file a list of items
``{id, theme, depth, text, follow_up?}``; the kind comes from the folder.
"""

from __future__ import annotations

import json
import operator
import random
import re
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Literal, TypedDict

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from rapidfuzz import fuzz, process

from bot import paths

# The 14 themes, from the practices in DESIGN.md (one YAML file per theme and kind).
THEMES: tuple[str, ...] = (
    *("appreciation", "gratitude", "good_memories", "curiosity", "dreams_future"),
    *("vulnerability", "safe_heard", "everyday", "conflict_repair", "love_languages"),
    *("me_and_we", "play_fun", "new_together", "roots_family"),
)
Kind = Literal["evening", "questions"]
KINDS: tuple[Kind, ...] = ("evening", "questions")
DEPTHS: tuple[int, ...] = (1, 2, 3)
DEFAULT_LANGUAGE = "en"

# Two texts whose normalised forms score at least this in rapidfuzz's ``fuzz.ratio`` (0-100,
# an edit-distance similarity) are near-duplicates. The pair "What's something you've been
# thinking about a lot lately?" / "What is something you have been thinking about lately?"
# scores about 90 and must be caught; the closest distinct pair in the English library
# scores below 76, so 85 leaves a clear margin on both sides.
NEAR_DUPLICATE_THRESHOLD = 85.0

_APOSTROPHES = re.compile(r"['\u2019]")
_PUNCTUATION = re.compile(r"[^\w\s]")
_by_id = operator.attrgetter("id")


class ContentError(Exception):
    """The content is broken; the message names the file, the item and the problem."""


class Item(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)

    id: str = Field(min_length=1)
    kind: Kind
    text: str = Field(min_length=1, max_length=200)
    theme: str
    depth: Literal[1, 2, 3]
    follow_up: str | None = Field(default=None, min_length=1, max_length=200)

    @field_validator("theme")
    @classmethod
    def _known_theme(cls, value: str) -> str:
        if value not in THEMES:
            raise ValueError(f"unknown theme {value!r}, expected one of {', '.join(THEMES)}")
        return value


def normalise(text: str) -> str:
    """Lowercase, drop apostrophes, turn other punctuation into spaces, collapse whitespace."""
    text = _PUNCTUATION.sub(" ", _APOSTROPHES.sub("", text.lower()))
    return " ".join(text.split())


def _problem(error: ValidationError) -> str:
    parts = []
    for detail in error.errors():
        where = ".".join(str(part) for part in detail["loc"])
        parts.append(f"{where}: {detail['msg']}" if where else detail["msg"])
    return "; ".join(parts)


def _load_file(path: Path, kind: Kind) -> list[Item]:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise ContentError(f"{path}: cannot read the file: {exc}") from exc
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise ContentError(f"{path}: expected a list of items, found {type(raw).__name__}")
    items = []
    for index, entry in enumerate(raw):
        label = f"item #{index}"
        if not isinstance(entry, dict):
            raise ContentError(f"{path}: {label}: expected a mapping, found {entry!r}")
        if isinstance(entry.get("id"), str) and entry["id"]:
            label = f"item {entry['id']!r} (#{index})"
        if entry.get("kind", kind) != kind:
            raise ContentError(f"{path}: {label}: kind {entry['kind']!r} is not folder {kind!r}")
        try:
            items.append(Item.model_validate({**entry, "kind": kind}))
        except ValidationError as exc:
            raise ContentError(f"{path}: {label}: {_problem(exc)}") from exc
    return items


class Library:
    """All items of one language, with where each came from (for error messages)."""

    def __init__(self, language: str, entries: Iterable[tuple[str, Item]]) -> None:
        self.language = language
        self._entries = tuple(entries)
        self._by_id: dict[str, Item] = {}
        for _, item in self._entries:
            self._by_id.setdefault(item.id, item)
        self._by_kind = {
            kind: tuple(sorted((i for _, i in self._entries if i.kind == kind), key=_by_id))
            for kind in KINDS
        }

    @classmethod
    def load(cls, root: Path, language: str = DEFAULT_LANGUAGE) -> Library:
        folder = root / language
        if not folder.is_dir():
            raise ContentError(f"{folder}: no content folder for language {language!r}")
        entries = [
            (str(path), item)
            for kind in KINDS
            for path in sorted((folder / kind).glob("*.yaml"))
            for item in _load_file(path, kind)
        ]
        library = cls(language, entries)
        library.check()
        return library

    def items(self, kind: Kind) -> tuple[Item, ...]:
        return self._by_kind[kind]

    def get(self, item_id: str) -> Item | None:
        return self._by_id.get(item_id)

    def check(self) -> None:
        """Raise ContentError on duplicate ids, duplicate texts or near-duplicate texts."""
        ids: dict[str, str] = {}
        texts: dict[str, tuple[str, Item]] = {}
        for source, item in self._entries:
            where = f"{source}: item {item.id!r}"
            if item.id in ids:
                raise ContentError(f"{where}: duplicate id, also in {ids[item.id]}")
            ids[item.id] = source
            other_source, other = texts.setdefault(normalise(item.text), (source, item))
            if other is not item:
                raise ContentError(f"{where}: same text as {other.id!r} in {other_source}")
        keys = list(texts)
        for index, key in enumerate(keys):
            match = process.extractOne(
                key, keys[index + 1 :], scorer=fuzz.ratio, score_cutoff=NEAR_DUPLICATE_THRESHOLD
            )
            if match is not None:
                (source, item), (other_source, other) = texts[key], texts[match[0]]
                raise ContentError(
                    f"{source}: item {item.id!r}: near-duplicate of {other.id!r} in {other_source}"
                    f" (similarity {match[1]:.0f} >= {NEAR_DUPLICATE_THRESHOLD:.0f}): "
                    f"{item.text!r} / {other.text!r}"
                )


class Libraries:
    """Every language found under the content root; English is required and the fallback."""

    def __init__(self, libraries: dict[str, Library]) -> None:
        if DEFAULT_LANGUAGE not in libraries:
            raise ContentError(f"no {DEFAULT_LANGUAGE!r} content folder: English is the fallback")
        self.languages = dict(libraries)

    @classmethod
    def load(cls, root: Path) -> Libraries:
        found = {
            folder.name.lower(): Library.load(root, folder.name)
            for folder in sorted(root.iterdir())
            if folder.is_dir() and any((folder / kind).is_dir() for kind in KINDS)
        }
        return cls(found)

    def for_language(self, code: str | None) -> Library:
        """The library for a Telegram language code ("pt-br" -> "pt"), English otherwise."""
        if code:
            code = code.lower().replace("_", "-")
            for candidate in (code, code.split("-")[0]):
                if candidate in self.languages:
                    return self.languages[candidate]
        return self.languages[DEFAULT_LANGUAGE]


class KindCounts(TypedDict):
    total: int
    themes: dict[str, int]
    depths: dict[str, int]


def counts(library: Library) -> dict[str, KindCounts]:
    result: dict[str, KindCounts] = {}
    for kind in KINDS:
        items = library.items(kind)
        result[kind] = {
            "total": len(items),
            "themes": {theme: sum(i.theme == theme for i in items) for theme in THEMES},
            "depths": {str(depth): sum(i.depth == depth for i in items) for depth in DEPTHS},
        }
    return result


def allowed_depths(days_together: int) -> frozenset[int]:
    """Depth rises with time together in the bot (day 0 is the day the couple paired).

    - days 0-6 (the first week): light items only, {1};
    - days 7-20 (the second and third weeks): light and personal, {1, 2};
    - day 21 onwards (from the fourth week): light, personal and deep, {1, 2, 3}.
    """
    if days_together < 7:
        return frozenset({1})
    if days_together < 21:
        return frozenset({1, 2})
    return frozenset({1, 2, 3})


def choose(items: Sequence[Item], history: Sequence[str], days_together: int, seed: int) -> Item:
    """Pick the next item for a couple, deterministically.

    ``history`` is the couple's item ids of this kind, oldest first. In priority order:
    1. never repeat an item until every item has been used once in the current cycle (a new
       cycle starts each time the history has covered every item);
    2. prefer the depths ``allowed_depths(days_together)`` permits;
    3. avoid the theme of the most recent item.
    When no candidate is left, the theme rule is relaxed first, then the depth rule (and
    among items of any depth, another theme is still preferred).
    """
    if not items:
        raise ValueError("choose() needs at least one item")
    by_id = {item.id: item for item in items}
    used: set[str] = set()
    for item_id in history:
        if item_id in by_id:
            used.add(item_id)
            if len(used) == len(by_id):
                used = set()
    fresh = sorted((item for item in by_id.values() if item.id not in used), key=_by_id)
    depths = allowed_depths(days_together)
    last = by_id.get(history[-1]) if history else None
    last_theme = last.theme if last is not None else None
    in_depth = [item for item in fresh if item.depth in depths]
    for pool in (in_depth, fresh):
        for candidates in ([item for item in pool if item.theme != last_theme], pool):
            if candidates:
                return random.Random(f"{seed}:{len(history)}").choice(candidates)
    raise AssertionError("unreachable: the current cycle always has an unused item")


def _table(library: Library) -> str:
    data = counts(library)
    ev, qu = data["evening"], data["questions"]

    def row(label: str, evening: int, questions: int) -> str:
        return f"{label:<17}{evening:>9}{questions:>11}{evening + questions:>7}"

    header = f"{'':<17}{'evening':>9}{'questions':>11}{'total':>7}"
    lines = [f"Content for language {library.language!r}", "", header]
    lines += [row(theme, ev["themes"][theme], qu["themes"][theme]) for theme in THEMES]
    names = {"1": "light", "2": "personal", "3": "deep"}
    lines += [""] + [
        row(f"depth {d} {n}", ev["depths"][d], qu["depths"][d]) for d, n in names.items()
    ]
    lines += ["", row("total", ev["total"], qu["total"])]
    return "\n".join(lines)


def content_command(as_json: bool) -> int:
    """``python -m bot content [--json]``: print the English counts; 2 if content is broken."""
    from bot.practices_content import Practices

    try:
        libraries = Libraries.load(paths.content_dir())
        practices = Practices.load(paths.content_dir())
    except (ContentError, FileNotFoundError, ValueError) as exc:
        print(f"content error: {exc}", file=sys.stderr)
        return 2
    english = libraries.for_language(DEFAULT_LANGUAGE)
    if as_json:  # the shape that issue 5 fixed: evening and questions only
        print(json.dumps(counts(english), indent=2))
    else:
        print(_table(english))
        print()
        for kind, values in practices.counts().items():
            print(f"{kind}: " + ", ".join(f"{k} {v}" for k, v in values.items()))  # type: ignore[attr-defined]
    return 0
