"""7. The room teaches the tagger (issue 27): a replay of one room on the tagging corpus.

The posts of one part of tests/data/tagging_corpus.tsv (the corpus's own development/held-out
split, by a hash of each text) arrive in a room's order: the first half with their true
specialties confirmed by the poster (a confident wrong guess is retagged, and weighs
`CORRECTED`), the second half is tagged with what the room learned. Figures on the second half:
first tag right, confidently wrong, confident share; baseline: the same half with learning off.
The development part is the one tuned on; the held-out part is reported.

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
    right: float  # the first tag is the post's first label
    confidently_wrong: float
    confident: float


def _figures(results: Sequence[tuple[bool, bool]]) -> Replayed:
    """(first tag right, confident) per post → shares."""
    n = len(results) or 1
    return Replayed(len(results), sum(r for r, _ in results) / n,
                    sum(c and not r for r, c in results) / n, sum(c for _, c in results) / n)


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
        if i >= half:
            results.append((bool(tags) and tags[0].specialty_id == ids[0],
                            bool(tags) and tags[0].confident))
        if learn and (i < half or online):
            wrong = bool(tags) and tags[0].confident and tags[0].specialty_id != ids[0]
            model.learn(text, ids, CORRECTED if wrong else CONFIRMED)
    return _figures(results)


def room_order(posts: Sequence[tuple[str, Sequence[str]]], number: int
               ) -> list[tuple[str, Sequence[str]]]:
    """The posts in order number `number`: sorted by sha256 of the number and the text (not
    the labels), so the same everywhere and independent of how the file is sorted."""
    return sorted(posts, key=lambda p: hashlib.sha256(f"{number}\0{p[0]}".encode()).digest())


def _mean(runs: Sequence[Replayed]) -> Replayed:
    return Replayed(runs[0].posts, statistics.fmean(r.right for r in runs),
                    statistics.fmean(r.confidently_wrong for r in runs),
                    statistics.fmean(r.confident for r in runs))


def _spread(runs: Sequence[Replayed], field: str) -> str:
    values = [getattr(r, field) for r in runs]
    return f"{min(values):.3f}-{max(values):.3f} over {len(values)} orders"


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
        replays = [room_order(posts, number) for number in range(orders)]
        on_runs = [replay(order, defaults) for order in replays]
        on, online = _mean(on_runs), _mean([replay(o, defaults, online=True) for o in replays])
        off = _mean([replay(order, defaults, learn=False) for order in replays])
        note = f"{part}, {on.posts} posts tagged, "
        held = part == HELD_OUT
        res.add(Figure(f"{part}: first tag right", "share", on.right, off.right,
                       Target("value", ">=", TARGET_RIGHT) if held else None,
                       note=note + _spread(on_runs, "right")),
                Figure(f"{part}: confidently wrong", "share", on.confidently_wrong,
                       off.confidently_wrong,
                       Target("value", "<=", TARGET_WRONG) if held else None,
                       note=note + _spread(on_runs, "confidently_wrong")),
                Figure(f"{part}: confident", "share", on.confident, off.confident,
                       Target("value", ">=", TARGET_CONFIDENT) if held else None,
                       note=note + _spread(on_runs, "confident")),
                Figure(f"{part}: first tag right, online", "share", online.right, off.right,
                       note="the second half confirmed too, each after its tagging"),
                Figure(f"{part}: confidently wrong, online", "share",
                       online.confidently_wrong, off.confidently_wrong),
                Figure(f"{part}: confident, online", "share", online.confident,
                       off.confident))
    return res
