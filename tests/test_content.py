"""The content library: the real English content, the loader's checks, and choosing rules."""

from __future__ import annotations

import itertools
import json
import re
import string
from pathlib import Path
from typing import Any

import pytest
import yaml
from rapidfuzz import fuzz

from bot.content import (
    KINDS,
    NEAR_DUPLICATE_THRESHOLD,
    THEMES,
    ContentError,
    Item,
    Libraries,
    Library,
    allowed_depths,
    choose,
    content_command,
    counts,
    normalise,
)
from bot.paths import content_dir

FIXTURES = Path(__file__).parent / "fixtures" / "content"
YES_NO_OPENERS = {
    *("do", "does", "did", "am", "are", "is", "was", "were", "have", "has", "had"),
    *("would", "could", "can", "will", "should", "shall"),
}
EXCLUDED_WORDS = (
    *("husband", "wife", "wives", "boyfriend", "girlfriend"),
    *("kids", "children", "wedding", "married"),
)


@pytest.fixture(scope="module")
def english() -> Library:
    return Libraries.load(content_dir()).for_language("en")


def all_items(library: Library) -> list[Item]:
    return [item for kind in KINDS for item in library.items(kind)]


def make_item(
    item_id: str, theme: str = "everyday", depth: int = 1, text: str | None = None
) -> Item:
    return Item.model_validate(
        {
            "id": item_id,
            "kind": "questions",
            "theme": theme,
            "depth": depth,
            "text": text or f"What does {item_id} bring to mind?",
        }
    )


# --- the real content -------------------------------------------------------------------


def test_real_content_loads_and_passes_check(english: Library) -> None:
    english.check()
    assert english.language == "en"
    assert english.get("ev-appreciation-001") is not None
    assert english.get("no-such-id") is None
    for kind in KINDS:
        ids = [item.id for item in english.items(kind)]
        assert ids == sorted(ids)
        assert all(item.kind == kind for item in english.items(kind))


def test_counts_meet_the_issue(english: Library) -> None:
    data = counts(english)
    assert set(data) == set(KINDS)
    assert data["evening"]["total"] >= 366
    assert data["questions"]["total"] >= 640
    assert data["evening"]["total"] + data["questions"]["total"] > 1000
    for theme in THEMES:
        assert data["evening"]["themes"][theme] + data["questions"]["themes"][theme] >= 40, theme
    shares = {"1": (0.35, 0.45), "2": (0.35, 0.45), "3": (0.15, 0.25)}
    everything = {d: data["evening"]["depths"][d] + data["questions"]["depths"][d] for d in shares}
    for depths in (data["evening"]["depths"], data["questions"]["depths"], everything):
        total = sum(depths.values())
        for depth, (low, high) in shares.items():
            assert low <= depths[depth] / total <= high, (depth, depths)


def texts_of(library: Library) -> list[tuple[str, str]]:
    return [
        (item.id, text)
        for item in all_items(library)
        for text in (item.text, item.follow_up)
        if text is not None
    ]


def test_every_text_is_at_most_200_characters(english: Library) -> None:
    assert [item_id for item_id, text in texts_of(english) if len(text) > 200] == []


def test_no_yes_no_questions(english: Library) -> None:
    offenders = []
    for item_id, text in texts_of(english):
        for sentence in re.split(r"(?<=[.?!])\s+", text.strip()):
            opener = sentence.split()[0].strip(string.punctuation).lower()
            if sentence.endswith("?") and opener in YES_NO_OPENERS:
                offenders.append((item_id, sentence))
    assert offenders == []


def test_no_gendered_marriage_or_children_words(english: Library) -> None:
    pattern = re.compile(r"\b(" + "|".join(EXCLUDED_WORDS) + r")\b", re.IGNORECASE)
    assert [(i, t) for i, t in texts_of(english) if pattern.search(t)] == []


# --- loading and checks -----------------------------------------------------------------

GOOD = {"id": "q-play_fun-001", "theme": "play_fun", "depth": 1, "text": "What makes you laugh?"}


def write_items(root: Path, items: list[dict[str, Any]]) -> Path:
    path = root / "en" / "questions" / "play_fun.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(items), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("bad", "problem"),
    [
        ({"theme": "romance"}, "unknown theme 'romance'"),
        ({"depth": 4}, "depth"),
        ({"depth": "2"}, "depth"),
        ({"text": "x" * 201}, "at most 200 characters"),
        ({"follow_up": "y" * 201}, "follow_up"),
        ({"colour": "red"}, "colour: Extra inputs are not permitted"),
    ],
)
def test_a_broken_item_names_file_item_and_problem(
    tmp_path: Path, bad: dict[str, Any], problem: str
) -> None:
    broken = {**GOOD, "id": "q-play_fun-002", "text": "Which song gets you dancing?", **bad}
    path = write_items(tmp_path, [GOOD, broken])
    with pytest.raises(ContentError) as caught:
        Library.load(tmp_path)
    message = str(caught.value)
    assert str(path) in message
    assert "'q-play_fun-002'" in message
    assert problem in message


def test_duplicate_ids_and_broken_yaml_are_named(tmp_path: Path) -> None:
    path = write_items(tmp_path, [GOOD, {**GOOD, "text": "Which song gets you dancing?"}])
    with pytest.raises(ContentError, match="duplicate id") as caught:
        Library.load(tmp_path)
    assert str(path) in str(caught.value) and "'q-play_fun-001'" in str(caught.value)

    path.write_text("- id: [unclosed\n", encoding="utf-8")
    with pytest.raises(ContentError, match=re.escape(str(path))):
        Library.load(tmp_path)
    path.write_text("- just a string\n", encoding="utf-8")
    with pytest.raises(ContentError, match=r"item #0: expected a mapping"):
        Library.load(tmp_path)


def test_exact_duplicates_after_normalising_are_caught(tmp_path: Path) -> None:
    assert normalise("  What MAKES you   laugh?! ") == "what makes you laugh"
    twin = {**GOOD, "id": "q-play_fun-002", "text": "what makes you... LAUGH"}
    write_items(tmp_path, [GOOD, twin])
    with pytest.raises(ContentError, match="same text as 'q-play_fun-001'"):
        Library.load(tmp_path)


NEAR_A = "What's something you've been thinking about a lot lately?"
NEAR_B = "What is something you have been thinking about lately?"
DIFFERENT = "Which place from your childhood would you most like to take me to?"


def test_the_near_duplicate_threshold_catches_the_stated_pair() -> None:
    assert fuzz.ratio(normalise(NEAR_A), normalise(NEAR_B)) >= NEAR_DUPLICATE_THRESHOLD
    assert fuzz.ratio(normalise(NEAR_A), normalise(DIFFERENT)) < NEAR_DUPLICATE_THRESHOLD
    pair = [("a.yaml", make_item("q-a", text=NEAR_A)), ("b.yaml", make_item("q-b", text=NEAR_B))]
    with pytest.raises(ContentError, match=r"near-duplicate of 'q-b' in b\.yaml"):
        Library("en", pair).check()
    Library("en", [pair[0], ("c.yaml", make_item("q-c", text=DIFFERENT))]).check()


def test_a_second_language_is_picked_by_telegram_language_code() -> None:
    libraries = Libraries.load(FIXTURES)
    assert set(libraries.languages) == {"en", "xx"}
    xx = libraries.for_language("xx-YY")
    assert xx.language == "xx"
    assert [item.id for item in xx.items("questions")] == ["xx-q-play_fun-001"]
    assert xx.items("evening") == ()
    assert libraries.for_language("XX").language == "xx"
    for code in ("de", "en-GB", None, ""):
        assert libraries.for_language(code).language == "en"
    assert len(libraries.for_language("de").items("evening")) == 2


def test_english_is_required(tmp_path: Path) -> None:
    source = FIXTURES / "xx" / "questions" / "play_fun.yaml"
    (tmp_path / "xx" / "questions").mkdir(parents=True)
    (tmp_path / "xx" / "questions" / "play_fun.yaml").write_bytes(source.read_bytes())
    with pytest.raises(ContentError, match="'en'"):
        Libraries.load(tmp_path)


# --- choosing ---------------------------------------------------------------------------


def test_allowed_depths_rise_with_time_together() -> None:
    assert [allowed_depths(day) for day in (0, 6)] == [frozenset({1})] * 2
    assert [allowed_depths(day) for day in (7, 20)] == [frozenset({1, 2})] * 2
    assert [allowed_depths(day) for day in (21, 400)] == [frozenset({1, 2, 3})] * 2


def simulate(items: tuple[Item, ...], picks: int, seed: int = 7) -> list[Item]:
    """A couple getting one item a day from day 0, checking the theme rule on the way."""
    history: list[str] = []
    chosen: list[Item] = []
    unused = set(items)
    for day in range(picks):
        item = choose(items, history, days_together=day, seed=seed)
        assert item in unused
        if chosen and item.theme == chosen[-1].theme:  # only when no other theme is left
            in_depth = [other for other in unused if other.depth in allowed_depths(day)]
            assert {other.theme for other in in_depth or unused} == {item.theme}
        unused.discard(item)
        unused = unused or set(items)
        history.append(item.id)
        chosen.append(item)
    return chosen


def test_a_couple_goes_through_two_full_cycles_without_repeats(english: Library) -> None:
    items = english.items("evening")
    chosen = simulate(items, 2 * len(items))
    for cycle in (chosen[: len(items)], chosen[len(items) :]):
        assert sorted(item.id for item in cycle) == [item.id for item in items]
    assert {item.depth for item in chosen[:7]} == {1}
    assert {item.depth for item in chosen[7:21]} <= {1, 2}
    assert 3 in {item.depth for item in chosen[21:51]}
    same_theme = sum(a.theme == b.theme for a, b in itertools.pairwise(chosen))
    assert same_theme <= 2


def test_cycles_on_a_small_set_and_ids_no_longer_in_the_library() -> None:
    items = tuple(make_item(f"q-{n:02}", THEMES[n % 3], 1 + n % 3) for n in range(9))
    chosen = simulate(items, 27)
    for start in (0, 9, 18):
        assert sorted(i.id for i in chosen[start : start + 9]) == [i.id for i in items]
    assert choose(items, ["retired-id", "q-00"], 30, seed=1).id != "q-00"


def test_first_week_questions_stay_light_even_several_a_day(english: Library) -> None:
    items = english.items("questions")
    history: list[Item] = []
    for day in range(7):
        for _ in range(5):
            history.append(choose(items, [item.id for item in history], day, seed=3))
    assert {item.depth for item in history} == {1}
    assert len({item.id for item in history}) == 35


def test_theme_is_relaxed_before_depth_and_depth_when_nothing_else() -> None:
    light_same_theme = make_item("q-a", "everyday", 1)
    deep_other_theme = make_item("q-b", "play_fun", 3)
    previous = make_item("q-c", "everyday", 1)
    items = (light_same_theme, deep_other_theme, previous)
    assert choose(items, ["q-c"], days_together=0, seed=1) == light_same_theme
    assert choose(items, ["q-c", "q-a"], days_together=0, seed=1) == deep_other_theme


def test_choice_is_deterministic_and_depends_on_the_seed(english: Library) -> None:
    items = english.items("evening")

    def run(seed: int) -> list[str]:
        history: list[str] = []
        for day in range(10):
            history.append(choose(items, history, 30 + day, seed).id)
        return history

    assert run(1) == run(1)
    assert run(1) != run(2)


def test_choose_needs_items() -> None:
    with pytest.raises(ValueError):
        choose([], [], 0, seed=1)


# --- the command ------------------------------------------------------------------------


def test_content_command_json_has_the_required_shape(capsys: pytest.CaptureFixture[str]) -> None:
    assert content_command(True) == 0
    data = json.loads(capsys.readouterr().out)
    assert set(data) == {"evening", "questions"}
    for kind in KINDS:
        assert set(data[kind]) == {"total", "themes", "depths"}
        assert list(data[kind]["themes"]) == list(THEMES)
        assert set(data[kind]["depths"]) == {"1", "2", "3"}
        assert sum(data[kind]["themes"].values()) == data[kind]["total"]
        assert sum(data[kind]["depths"].values()) == data[kind]["total"]


def test_content_command_table_and_broken_content(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    assert content_command(False) == 0
    table = capsys.readouterr().out
    assert all(theme in table for theme in THEMES) and "depth 3 deep" in table

    path = write_items(tmp_path, [{**GOOD, "depth": 9}])
    monkeypatch.setattr("bot.paths.content_dir", lambda: tmp_path)
    assert content_command(True) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and str(path) in captured.err
