"""Text the benchmarks post: the 210 clean French GP case posts of the test data (no patient
identifiers, so no secrecy warning is part of a command's answer), cycled."""

from __future__ import annotations

import functools
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CLEAN_POSTS = REPO / "tests" / "data" / "clean_posts_fr.txt"
IDENTIFYING = ("Mme Jeanne DUPONT, née le 3 mars 1957, joignable au 06 12 34 56 78, "
               "habite 12 rue des Lilas 69003 Lyon.")
"""Made-up identifiers of several kinds, for the scanner's 'with findings' figure."""


@functools.cache
def clean_posts() -> tuple[str, ...]:
    lines = CLEAN_POSTS.read_text(encoding="utf-8").splitlines()
    return tuple(line.strip() for line in lines if line.strip())


def post(i: int) -> str:
    posts = clean_posts()
    return posts[i % len(posts)]


def case_command(i: int) -> str:
    return f"!case {post(i)}"


def kilobyte_texts(count: int, with_identifiers: bool = False) -> list[str]:
    """`count` different texts of 1 KiB of UTF-8 each, made of consecutive clean posts."""
    texts: list[str] = []
    start = 0
    for _ in range(count):
        parts: list[str] = [IDENTIFYING] if with_identifiers else []
        while len(" ".join(parts).encode()) < 1024:
            parts.append(post(start))
            start += 1
        data = " ".join(parts).encode()[:1024]
        texts.append(data.decode("utf-8", errors="ignore"))
    return texts
