"""5. Secrecy scanner under adversarial input: for each family of hostile or unusual text, the
processor time `scan` takes at 10 KiB and at 40 KiB. Linear cost means a 40/10 ratio near 4; the run
fails when a family's ratio exceeds 5 or its 40 KiB scan takes more than 100 ms (a member can
post ~64 KB, and a superlinear pattern would stall the bot on such a post). Baseline column:
the same family at 10 KiB.

Every text is made-up (no real patient data); the clinical family cycles the clean GP posts.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from bench.corpus import IDENTIFYING, clean_posts
from bench.report import BenchResult, Figure, Target

SMALL, LARGE = 10 * 1024, 40 * 1024
MAX_RATIO = 5.0
"""40 KiB time over 10 KiB time: 4 when linear; 16 when quadratic."""
MAX_MS_LARGE = 100.0
"""No family may take longer than this at 40 KiB."""

Scan = Callable[[str], object]


def _cycle(pieces: list[str], size: int) -> str:
    """`pieces` repeated in turn until the text is `size` characters long."""
    out: list[str] = []
    length = i = 0
    while length < size:
        piece = pieces[i % len(pieces)]
        out.append(piece)
        length += len(piece)
        i += 1
    return "".join(out)[:size]


def _runs(heads: list[str], size: int, fill: str = " ", tail: str = "x") -> str:
    """Each head followed by a long run of `fill`, then `tail`: one hostile site per head."""
    run = -(-size // (len(heads) * len(fill)))
    return "".join(h + fill * run + tail for h in heads)[:size]


def _clinical(size: int) -> str:
    posts = list(clean_posts())
    mixed = [p if i % 7 else f"{p} {IDENTIFYING}" for i, p in enumerate(posts)]
    return _cycle([p + "\n" for p in mixed], size)


FAMILIES: dict[str, Callable[[int], str]] = {
    "one run of spaces": lambda n: "1" + " " * (n - 2) + "x",
    # a digit, a postal code, "n°", a birth date, a name, each followed by a long run of blanks
    "runs of spaces": lambda n: _runs(["1", "75002", "n°", "née le 03/03/1957", "Mme Dupont",
                                       "12 rue", "identifiant"], n),
    "runs of tabs and commas": lambda n: _runs(["3", "69003 ,"], n, fill="\t ,"),
    "spaced digits": lambda n: _cycle(["1 2 0 5 1 9 5 0 ", "0 6 1 2 3 4 5 6 7 8 1 5 7 "], n),
    "digits, no whitespace": lambda n: _cycle(["06.12.34.56.78-1.57.03.75-"], n),
    "digits and separators": lambda n: _cycle(["12/03/2020-", "150 000 ", "1-2-3 ", "06 12 "], n),
    "repeated names": lambda n: _cycle(["M. DUPONT Jean ", "Mme Lefèvre Ginette, ",
                                        "Jean-Pierre Morel "], n),
    "one long name chain": lambda n: _cycle(["Jean Dupont "], n),
    "e-mails": lambda n: _cycle(["jean.dupont@chu-lyon.fr, ", "a.b.c.d.e.f@", "x @ y . z "], n),
    "dates": lambda n: _cycle(["née le 03/03/1957 (67 ans), ", "1er janvier 2019 ",
                               "1954-07-21 ", "12.05.86 "], n),
    "addresses": lambda n: _cycle(["12 rue de la Paix 75002 Paris, ", "3 bis avenue Jean ",
                                   "69007 "], n),
    "long words": lambda n: _runs(["identifiant ", "https://x.fr/?token=", "a@"], n, fill="a"),
    "clinical text": _clinical,
}


def best_ms(scan: Scan, text: str, repeats: int) -> float:
    """The fastest of `repeats` scans, in ms of this thread's processor time: the scan is one
    thread's computation, and on this shared machine the wall time also counts the turns other
    processes take (the best wall time of 9 still failed the linearity check of the old and the
    new detector alike at a load average of 7-10)."""
    best = float("inf")
    for _ in range(repeats):
        t0 = time.thread_time()
        scan(text)
        best = min(best, time.thread_time() - t0)
    return best * 1000


def measure(scan: Scan, repeats: int = 5,
            families: dict[str, Callable[[int], str]] = FAMILIES,
            sizes: tuple[int, int] = (SMALL, LARGE)) -> dict[str, tuple[float, float]]:
    """Per family: (ms at the small size, ms at the large size), each the best of `repeats`
    runs; the two sizes alternate, so that both see the same machine."""
    scan(_clinical(2048))  # warm-up: lazy imports, caches
    results: dict[str, tuple[float, float]] = {}
    for name, make in families.items():
        small_text, large_text = make(sizes[0]), make(sizes[1])
        small = large = float("inf")
        for _ in range(repeats):
            small = min(small, best_ms(scan, small_text, 1))
            large = min(large, best_ms(scan, large_text, 1))
        results[name] = (small, large)
    return results


async def run(base: Path | None = None, quick: bool = False, repeats: int | None = None,
              scan: Scan | None = None) -> BenchResult:
    if scan is None:
        from plugins.secrecy.detector import scan as scan_
        scan = scan_
    repeats = repeats or (3 if quick else 9)
    res = BenchResult("scanner", "secrecy scan of adversarial texts, 40 KiB vs 10 KiB",
                      "the same family at 10 KiB", params={"repeats": repeats,
                                                           "families": list(FAMILIES)})
    for name, (small, large) in measure(scan, repeats).items():
        res.add(Figure(f"{name}, 40 KiB", "ms", large, small, Target("ratio", "<=", MAX_RATIO),
                       note=f"best of {repeats}"))
        res.check(f"{name}: linear", large <= MAX_RATIO * small,
                  f"{large:.1f} ms at 40 KiB, {small:.1f} ms at 10 KiB")
        res.check(f"{name}: fast", large <= MAX_MS_LARGE, f"{large:.1f} ms at 40 KiB")
    return res
