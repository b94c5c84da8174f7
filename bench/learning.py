"""7. The room teaches the tagger (issue 27): a replay of one room on the tagging corpus.

The posts of one part of tests/data/tagging_corpus.tsv (the corpus's own development/held-out
split, by a hash of each text) arrive in a room's order: the first half with their true
specialties confirmed by the poster (a confident guess that is none of them is retagged, and
weighs `CORRECTED`), the second half is tagged with what the room learned. Figures on the second
half: confident share, and first tag right and confidently wrong by two definitions. The targets
are judged on "one of its specialties": the corpus labels 1-3 specialties per post, all right
("pharmaco cardio"), so a first tag among them pages colleagues who are right for the post, and
a confident tag that is none of them pages the wrong ones. The strict "its first specialty"
(the first tag is the post's first label) is reported next to it: it is the previous
definition. Baseline: the same half with learning off. The development part is the one tuned
on; the held-out part is reported.

A room's order is not the file's: the corpus was written specialty by specialty, so in file
order the second half asks about twelve specialties the first half never taught. Each replay
orders the part by a hash of (order number, text), which knows nothing of the labels; the
figures are the mean over `ORDERS` such orders (their range in the note).

`replay(posts, specialties)` is the plain API: anyone can replay their own set, in its order.
"""

from __future__ import annotations

import hashlib
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from bench.report import BenchResult, Figure, Target

TARGET_CONFIDENT, TARGET_WRONG, TARGET_RIGHT = 0.75, 0.03, 0.85
ORDERS = 20
"""Room orders a part is replayed in (5 with --quick)."""


@dataclass(frozen=True, slots=True)
class Replayed:
    posts: int
    right: float  # the first tag is one of the post's specialties (labels)
    confidently_wrong: float  # the first tag is confident and none of the post's specialties
    confident: float
    right_first: float  # strict: the first tag is the post's first specialty
    confidently_wrong_first: float  # strict: confident and not the post's first specialty


FIELDS = ("right", "confidently_wrong", "confident", "right_first", "confidently_wrong_first")


def _figures(results: Sequence[tuple[bool, bool, bool]]) -> Replayed:
    """(first tag among the labels, first tag the first label, confident) per post → shares."""
    n = len(results) or 1
    return Replayed(len(results), sum(a for a, _, _ in results) / n,
                    sum(c and not a for a, _, c in results) / n,
                    sum(c for _, _, c in results) / n, sum(f for _, f, _ in results) / n,
                    sum(c and not f for _, f, c in results) / n)


def replay(posts: Sequence[tuple[str, Sequence[str]]], specialties: Sequence[object],
           learn: bool = True, online: bool = False) -> Replayed:
    """Teach a fresh room model the first half of `posts` (text, true ids best first), then tag
    the second half with it (or without any, `learn=False`). `online`: the second half's posts
    are confirmed too, each after it was tagged (a room where every case gets its tag)."""
    from plugins.specialties import RoomModel, classify
    from plugins.specialties.learn import CONFIRMED, CORRECTED

    model = RoomModel()
    half = len(posts) // 2
    results = []
    for i, (text, ids) in enumerate(posts):
        tags = classify(text, specialties, learned=model)  # type: ignore[arg-type]
        first = tags[0].specialty_id if tags else None
        if i >= half:
            results.append((first in ids, first == ids[0], bool(tags) and tags[0].confident))
        if learn and (i < half or online):
            wrong = bool(tags) and tags[0].confident and first not in ids
            model.learn(text, ids, CORRECTED if wrong else CONFIRMED)
    return _figures(results)


def room_order(posts: Sequence[tuple[str, Sequence[str]]], number: int
               ) -> list[tuple[str, Sequence[str]]]:
    """The posts in order number `number`: sorted by sha256 of the number and the text (not
    the labels), so the same everywhere and independent of how the file is sorted."""
    return sorted(posts, key=lambda p: hashlib.sha256(f"{number}\0{p[0]}".encode()).digest())


def mean(runs: Sequence[Replayed]) -> Replayed:
    """The mean of replays of one set (in several orders)."""
    return Replayed(runs[0].posts,
                    *(statistics.fmean(getattr(r, name) for r in runs) for name in FIELDS))


# (field, figure name): the targets are judged on the first three (see the module's docstring).
_NAMES = (("right", "first tag one of its specialties"),
          ("confidently_wrong", "confidently wrong (none of its specialties)"),
          ("confident", "confident"),
          ("right_first", "strict: first tag its first specialty"),
          ("confidently_wrong_first", "strict: confidently wrong (not its first specialty)"))
_TARGETS = {"right": Target("value", ">=", TARGET_RIGHT),
            "confidently_wrong": Target("value", "<=", TARGET_WRONG),
            "confident": Target("value", ">=", TARGET_CONFIDENT)}


def replay_part(posts: Sequence[tuple[str, Sequence[str]]], specialties: Sequence[object],
                orders: int = ORDERS) -> tuple[list[Replayed], Replayed, Replayed]:
    """One part in `orders` room orders: the replays with learning on, and the means of the
    replays online and with learning off."""
    replays = [room_order(posts, number) for number in range(orders)]
    on_runs = [replay(order, specialties) for order in replays]
    online = mean([replay(order, specialties, online=True) for order in replays])
    off = mean([replay(order, specialties, learn=False) for order in replays])
    return on_runs, online, off


async def run(base: Path | None = None, quick: bool = False) -> BenchResult:
    from plugins.specialties import load_defaults
    from tests.test_tagging_corpus import DEV, HELD_OUT, POSTS

    defaults = load_defaults()
    orders = 5 if quick else ORDERS
    res = BenchResult("learning", "room learning: second half of a corpus part, after the "
                      "first half was confirmed (mean of room orders)",
                      "the same half, learning off", params={"orders": orders})
    for part in (DEV, HELD_OUT):
        posts = [(p.text, p.labels) for p in POSTS if p.part == part]
        on_runs, online, off = replay_part(posts, defaults, orders)
        on = mean(on_runs)
        held = part == HELD_OUT
        for field, name in _NAMES:
            values = [getattr(r, field) for r in on_runs]
            res.add(Figure(f"{part}: {name}", "share", getattr(on, field), getattr(off, field),
                           _TARGETS.get(field) if held else None,
                           note=f"{part}, {on.posts} posts tagged, {min(values):.3f}-"
                                f"{max(values):.3f} over {len(values)} orders"))
        for field, name in _NAMES:
            res.add(Figure(f"{part}: {name}, online", "share", getattr(online, field),
                           getattr(off, field),
                           note="the second half confirmed too, each after its tagging"))
    return res
