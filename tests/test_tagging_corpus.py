"""The tagging corpus (tests/data/tagging_corpus.tsv): its shape, and the tagger's figures on it.

The corpus is split by a hash of each post's text into a development part (tune on it) and a
held-out part (report it, never tune on it). `pytest -s tests/test_tagging_corpus.py` prints the
figures of the current `classify` on both parts, by two definitions of right: the first tag is
"one of its specialties" (one of the post's 1-3 labels, all right for it: it pages colleagues
who are right for the post; confidently wrong = confident and none of them), which the targets
are judged on, and the strict "its first specialty" (the first label), the previous definition.
Besides the corpus shape, floors just under the figures reported in the README guard against a
regression (a keyword change that makes the tagger worse fails here); they are not targets to
tune against.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from plugins.secrecy.detector import scan
from plugins.specialties import classify, load_defaults

CORPUS = Path(__file__).resolve().parent / "data" / "tagging_corpus.tsv"
COLUMNS = ("labels", "lang", "kind", "text")
LANGS = ("fr", "en")
KINDS = ("organ", "drug", "emergency", "practice", "paperwork", "sport", "old-age", "misleading")
DEV, HELD_OUT = "development", "held-out"

DEFAULTS = load_defaults()
IDS = tuple(s.id for s in DEFAULTS)

_SPACES = re.compile(r"\s+")


def normalized(text: str) -> str:
    """The form a post is hashed and deduplicated on: NFC, casefolded, whitespace collapsed."""
    return _SPACES.sub(" ", unicodedata.normalize("NFC", text).casefold()).strip()


def part_of(text: str) -> str:
    """DEV when the first byte of sha256(normalized text) is even, else HELD_OUT."""
    first_byte = hashlib.sha256(normalized(text).encode("utf-8")).digest()[0]
    return DEV if first_byte % 2 == 0 else HELD_OUT


@dataclass(frozen=True, slots=True)
class Post:
    line: int
    labels: tuple[str, ...]  # best first
    lang: str
    kind: str
    text: str

    @property
    def part(self) -> str:
        return part_of(self.text)


def load_corpus(path: Path = CORPUS) -> list[Post]:
    """Posts of a corpus file: '#' lines are comments, the first other line the column header."""
    posts: list[Post] = []
    header_seen = False
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not raw.strip() or raw.startswith("#"):
            continue
        fields = raw.split("\t")
        if not header_seen:
            if tuple(fields) != COLUMNS:
                raise ValueError(f"{path.name}:{number}: header {fields!r}, expected {COLUMNS!r}")
            header_seen = True
            continue
        if len(fields) != len(COLUMNS):
            raise ValueError(f"{path.name}:{number}: {len(fields)} fields, expected {len(COLUMNS)}")
        labels, lang, kind, text = fields
        posts.append(Post(number, tuple(labels.split()), lang, kind, text))
    return posts


POSTS = load_corpus()


@dataclass(frozen=True, slots=True)
class Figures:
    posts: int
    first_right: int  # strict: the tagger's first tag is the post's first label
    first_in_labels: int  # the tagger's first tag is one of the post's labels
    confidently_wrong: int  # a confident first tag that is none of the post's labels
    confidently_wrong_first: int  # strict: a confident first tag that is not the first label
    unclassified: int  # no tag at all
    confident: int  # the first tag is confident (it pages at once)

    def pct(self, count: int) -> float:
        return 100.0 * count / self.posts if self.posts else 0.0


def measure(posts: Iterable[Post]) -> Figures:
    n = right = lenient = wrong = wrong_first = none = sure = 0
    for post in posts:
        n += 1
        tags = classify(post.text, DEFAULTS)
        if not tags:
            none += 1
            continue
        first = tags[0]
        sure += first.confident
        right += first.specialty_id == post.labels[0]
        lenient += first.specialty_id in post.labels
        wrong += first.confident and first.specialty_id not in post.labels
        wrong_first += first.confident and first.specialty_id != post.labels[0]
    return Figures(n, right, lenient, wrong, wrong_first, none, sure)


def _row(name: str, f: Figures) -> str:
    return (
        f"{name:<22} {f.posts:>5} {f.pct(f.first_in_labels):>10.1f}"
        f" {f.pct(f.confidently_wrong):>10.1f} {f.pct(f.confident):>10.1f}"
        f" {f.pct(f.first_right):>10.1f} {f.pct(f.confidently_wrong_first):>10.1f}"
        f" {f.pct(f.unclassified):>10.1f}"
    )


def table(groups: Sequence[tuple[str, Sequence[Post]]]) -> str:
    """Percentages: "one of" its specialties right and confidently wrong (the targets'
    definition), confident, then strict: "first" specialty right and confidently wrong."""
    head = (
        f"{'':<22} {'posts':>5} {'one of ok':>10} {'conf wrong':>10} {'confident':>10}"
        f" {'first ok':>10} {'cw first':>10} {'unclass':>10}"
    )
    return "\n".join([head, *(_row(name, measure(posts)) for name, posts in groups)])


def by_part(part: str) -> list[Post]:
    return [p for p in POSTS if p.part == part]


# --- the corpus's shape ---------------------------------------------------------------------


def test_corpus_size_and_languages() -> None:
    assert len(POSTS) >= 400
    langs = Counter(p.lang for p in POSTS)
    assert set(langs) <= set(LANGS)
    assert langs["en"] / len(POSTS) >= 0.15


def test_labels_are_valid_default_ids() -> None:
    for post in POSTS:
        assert 1 <= len(post.labels) <= 3, post
        assert len(set(post.labels)) == len(post.labels), post
        assert set(post.labels) <= set(IDS), post


def test_every_default_specialty_is_present_several_times() -> None:
    assert len(IDS) == 23
    first = Counter(p.labels[0] for p in POSTS)
    anywhere = Counter(label for p in POSTS for label in p.labels)
    for sid in IDS:
        assert first[sid] >= 8, (sid, first[sid])
        assert anywhere[sid] >= 12, (sid, anywhere[sid])


def test_every_kind_is_present() -> None:
    kinds = Counter(p.kind for p in POSTS)
    assert set(kinds) == set(KINDS)
    for kind in KINDS:
        assert kinds[kind] >= 10, (kind, kinds[kind])


def test_no_duplicate_texts() -> None:
    seen: dict[str, int] = {}
    for post in POSTS:
        key = normalized(post.text)
        assert key not in seen, f"line {post.line} repeats line {seen[key]}"
        seen[key] = post.line


def test_posts_are_short_and_carry_no_hashtag() -> None:
    for post in POSTS:
        assert "#" not in post.text, post
        assert 15 <= len(post.text) <= 400, post
        assert post.text == post.text.strip(), post


def test_nothing_identifying_in_any_post() -> None:
    flagged = [(p.line, p.text, scan(p.text)) for p in POSTS if scan(p.text)]
    assert flagged == []


def test_split_depends_on_the_text_only() -> None:
    text = "Toux sèche sous IEC, on change ?"
    assert part_of(text) == part_of("  toux  SÈCHE sous iec,\ton change ?  ")
    assert part_of(unicodedata.normalize("NFD", text)) == part_of(text)
    assert [p.part for p in reversed(POSTS)] == [p.part for p in POSTS][::-1]
    assert part_of("x") == HELD_OUT and part_of("a") == DEV  # pinned: the rule must not drift


def test_split_is_about_half_and_both_parts_cover_the_corpus() -> None:
    dev, held = by_part(DEV), by_part(HELD_OUT)
    assert 0.4 <= len(dev) / len(POSTS) <= 0.6
    for part in (dev, held):
        assert Counter(p.lang for p in part)["en"] / len(part) >= 0.1
        assert {p.kind for p in part} == set(KINDS)
        assert {label for p in part for label in p.labels} == set(IDS)


# --- the tagger's figures -------------------------------------------------------------------


def test_figures_do_not_regress() -> None:
    """Floors a post or two under README's figures (2026-12-05): first tag one of its
    specialties, confidently wrong (none of them), confident, strict first tag right."""
    for part, one_of, wrong, sure, first in ((DEV, 0.92, 0.025, 0.78, 0.78),
                                             (HELD_OUT, 0.89, 0.03, 0.75, 0.75)):
        f = measure(by_part(part))
        assert f.first_in_labels / f.posts >= one_of, (part, f)
        assert f.confidently_wrong / f.posts <= wrong, (part, f)
        assert f.confident / f.posts >= sure, (part, f)
        assert f.first_right / f.posts >= first, (part, f)


def test_figures_are_computed() -> None:
    dev, held = by_part(DEV), by_part(HELD_OUT)
    for posts in (dev, held):
        f = measure(posts)
        assert f.posts == len(posts)
        assert 0 <= f.first_right <= f.first_in_labels <= f.posts
        assert f.confidently_wrong <= f.confidently_wrong_first <= f.confident
        assert f.first_right + f.confidently_wrong_first + f.unclassified <= f.posts
        assert f.first_in_labels + f.confidently_wrong + f.unclassified <= f.posts
    print(f"\nTagging corpus: {len(POSTS)} posts, current classify()")
    print(table([(DEV, dev), (HELD_OUT, held), ("all", POSTS)]))
    print(f"\n{DEV} part by language and kind (tune on this part only):")
    groups = [(f"  lang {lang}", [p for p in dev if p.lang == lang]) for lang in LANGS]
    groups += [(f"  kind {kind}", [p for p in dev if p.kind == kind]) for kind in KINDS]
    print(table(groups))
