"""5. Database growth: `!cases` and `!stats` answered through the harness (router, every
plugin, SQLite file) in a room with 100,000 cases of history; baseline: the same commands in
a room of the same database with 100 cases. The cases (and ~3 replies each) are inserted in
bulk straight into the cases plugin's tables (its triggers keep the per-day sums), and copied
into the learning feature's mirror as its hooks would have. `!stats text` times the figures;
`!stats 3650` the figures and the chart, with the event loop's longest pause meanwhile (a
ticker wakes every millisecond). Also the database size per 10,000 cases, against the raw
size of the values stored, and the size per case through the bot's real path."""

from __future__ import annotations

import asyncio
import cProfile
import random
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from bench.inprocess import (
    CONFIG,
    all_plugins,
    drive,
    one_core,
    size_on_disk,
    stream,
    workdir,
    write_profile,
)
from bench.report import BenchResult, Figure, Target, median
from bot.storage import Database
from bot.testing import START, Harness
from plugins.specialties import load_defaults

BIG, SMALL = "!history:bench", "!young:bench"
SMALL_CASES = 100
YEARS = 2
ASKER = "@asker:bench"
STATUSES = (("open", 0.03), ("resolved", 0.70), ("closed", 0.20), ("withdrawn", 0.07))
COMMANDS = ("!cases", "!cases cardio", "!stats text", "!stats text 3650")
CHART = "!stats 3650"
CASE_COLUMNS = ("room_id", "number", "root_event_id", "card_event_id", "poster", "specialties",
                "tag_source", "status", "opened_at", "first_reply_at", "first_reply_by",
                "replies", "resolved_at", "resolved_by", "closed_at")
REPLY_COLUMNS = ("event_id", "room_id", "number", "sender", "at")


def history(room_id: str, count: int, seed: int = 8
            ) -> Iterator[tuple[tuple[Any, ...], list[tuple[Any, ...]]]]:
    """`count` cases spread over two years before START: (case row, its reply rows)."""
    rnd = random.Random(seed)
    ids = [s.id for s in load_defaults()]
    users = [f"@dr{n}:bench" for n in range(200)]
    statuses = [s for s, _ in STATUSES]
    weights = [w for _, w in STATUSES]
    span = YEARS * 365 * 86400
    for number in range(1, count + 1):
        opened = START - span * (count - number + rnd.random()) / count
        poster = rnd.choice(users)
        status = rnd.choices(statuses, weights)[0]
        replies = 0 if status == "withdrawn" else min(12, int(rnd.expovariate(1 / 3)))
        first = opened + rnd.expovariate(1 / 2400) if replies else None
        resolved = (first or opened) + rnd.expovariate(1 / 86400) if status == "resolved" \
            else None
        closed = opened + 14 * 86400 if status == "closed" else None
        tags = ",".join(rnd.sample(ids, rnd.choice((0, 1, 1, 1, 2))))
        row = (room_id, number, f"$root{room_id}{number}", f"$card{room_id}{number}", poster,
               tags, "keywords" if tags else "none", status, opened, first,
               rnd.choice(users) if first else None, replies, resolved,
               poster if resolved else None, closed)
        reply_rows = [(f"$re{room_id}{number}.{k}", room_id, number, rnd.choice(users),
                       (first or opened) + 600 * k) for k in range(replies)]
        yield row, reply_rows


def _payload(row: tuple[Any, ...]) -> int:
    """Bytes of the values themselves: UTF-8 text, 8 per number, 0 for NULL."""
    return sum(len(v.encode()) if isinstance(v, str) else 0 if v is None else 8 for v in row)


async def insert(db: Database, room_id: str, count: int) -> int:
    """Bulk-insert `count` cases and their replies; return the raw payload in bytes."""
    payload = 0
    cases: list[tuple[Any, ...]] = []
    replies: list[tuple[Any, ...]] = []
    for row, reply_rows in history(room_id, count):
        cases.append(row)
        replies.extend(reply_rows)
        payload += _payload(row) + sum(_payload(r) for r in reply_rows)
    async with db.transaction():
        await db.executemany(f"INSERT INTO cases ({', '.join(CASE_COLUMNS)}) VALUES "
                             f"({', '.join('?' * len(CASE_COLUMNS))})", cases)
        await db.executemany(f"INSERT INTO case_replies ({', '.join(REPLY_COLUMNS)}) VALUES "
                             f"({', '.join('?' * len(REPLY_COLUMNS))})", replies)
    return payload


async def mirror(db: Database, room_id: str) -> None:
    """The learning feature's copy of the room's cases, as its hooks would have made it."""
    await db.execute(
        "INSERT INTO learning_cases (room_id, number, root_event_id, poster, specialties, "
        "status, opened_at, first_reply_at, resolved_at) SELECT room_id, number, "
        "root_event_id, poster, specialties, status, opened_at, first_reply_at, resolved_at "
        "FROM cases WHERE room_id = ?", (room_id,))


async def db_bytes(db: Database, path: Path) -> int:
    """The database's size with its WAL emptied (tried again while the storage's worker
    thread is checkpointing: the truncation then answers busy)."""
    for _ in range(100):
        busy = await db.fetchval("PRAGMA wal_checkpoint(TRUNCATE)")
        if not busy:
            break
        await asyncio.sleep(0.01)
    return size_on_disk(path)


async def time_command(h: Harness, room: str, command: str, repeat: int) -> float:
    """Median ms for the bot to handle `command` in `room` (reply rendered and 'sent')."""
    timings: list[float] = []
    for _ in range(repeat):
        before = len(h.sent)
        t0 = time.perf_counter()
        await h.say(ASKER, command, room=room)
        timings.append((time.perf_counter() - t0) * 1000)
        assert len(h.sent) > before, f"no answer to {command}"
    return median(timings)


async def with_pauses(h: Harness, room: str, command: str, repeat: int
                      ) -> tuple[float, float]:
    """Median ms to handle `command` (chart drawn and sent), and median of each run's longest
    gap between two wake-ups of a 1 ms ticker: how long the loop, every room with it, waited."""
    timings: list[float] = []
    pauses: list[float] = []
    for _ in range(repeat):
        gaps: list[float] = []
        done = asyncio.Event()

        async def tick(gaps: list[float] = gaps, done: asyncio.Event = done) -> None:
            last = time.perf_counter()
            while not done.is_set():
                await asyncio.sleep(0.001)
                now = time.perf_counter()
                gaps.append(now - last)
                last = now

        ticker = asyncio.create_task(tick())
        await asyncio.sleep(0.01)
        before = len(h.sent)
        t0 = time.perf_counter()
        await h.say(ASKER, command, room=room)
        timings.append((time.perf_counter() - t0) * 1000)
        done.set()
        await ticker
        assert any("file" in s.content for s in h.sent[before:]), f"no chart for {command}"
        pauses.append(max(gaps) * 1000)
    return median(timings), median(pauses)


async def run(base: Path, quick: bool = False, cases: int | None = None,
              real_rounds: int | None = None, profile: Path | None = None) -> BenchResult:
    count = cases or (10_000 if quick else 100_000)
    repeat = 5 if quick else 15
    res = BenchResult("db", f"!cases and !stats with {count:,} cases in the room's history "
                      "(through the harness: router, all plugins, SQLite file)",
                      f"the same commands in a room with {SMALL_CASES} cases, same database; "
                      "for sizes, the raw bytes of the stored values",
                      params={"cases": count, "repeat": repeat})
    path = workdir(base) / "casebot.db"
    async with Harness(all_plugins(), config=CONFIG, db_path=path) as h:
        for room in (BIG, SMALL):
            h.add_room(room, members=[ASKER])
        await h.say(ASKER, "!help", room=SMALL)  # warm the caches, outside the timing
        empty = await db_bytes(h.db, path)
        began = time.perf_counter()
        payload = await insert(h.db, BIG, count)
        res.params["bulk insert seconds"] = round(time.perf_counter() - began, 1)
        grown = await db_bytes(h.db, path)
        if await h.db.fetchval("SELECT 1 FROM sqlite_master WHERE name = 'case_sums'"):
            res.params["sums rows"] = await h.db.fetchval("SELECT COUNT(*) FROM case_sums")
        await insert(h.db, SMALL, SMALL_CASES)
        for room in (BIG, SMALL):
            await mirror(h.db, room)
        for command in COMMANDS:
            big = await time_command(h, BIG, command, repeat)
            small = await time_command(h, SMALL, command, repeat)
            res.add(Figure(f"{command}, {count:,} cases", "ms", big, small,
                           Target("value", "<=", 50)))
        await time_command(h, SMALL, CHART, 1)  # the drawing process started, outside timing
        (chart_big, pause_big), (chart_small, pause_small) = [
            await with_pauses(h, room, CHART, repeat) for room in (BIG, SMALL)]
        res.add(Figure(f"{CHART} with its chart, {count:,} cases", "ms", chart_big,
                       chart_small),
                Figure(f"event loop's longest pause during {CHART}, {count:,} cases", "ms",
                       pause_big, pause_small, Target("value", "<=", 20)))
        replies = [s.body for s in h.sent if s.room_id == BIG and "3650" in s.body]
        digits = [re.sub(r"[\s\u202f]", "", body) for body in replies]
        counted = any(str(count) in d for d in digits)
        res.check("!stats 3650 counted every case of the big room", counted,
                  "" if counted else f"no reply out of {len(replies)} shows {count}")
        if profile is not None:
            prof = cProfile.Profile()
            prof.enable()
            for command in (*COMMANDS, CHART):
                await h.say(ASKER, command, room=BIG)
            prof.disable()
            write_profile(prof, profile / "db")
    per_10k = 10_000 / count
    res.add(Figure("DB size per 10,000 cases (+ ~3 replies each)", "MiB",
                   (grown - empty) * per_10k / 2**20, payload * per_10k / 2**20,
                   note="baseline: the raw bytes of the values stored"))
    rounds = real_rounds or (200 if quick else 1000)
    with one_core():
        await drive(all_plugins(), list(stream(rounds)), base / "real.db")
    real_size = size_on_disk(base / "real.db")
    res.add(Figure("DB size per 10,000 cases via the bot, all tables", "MiB",
                   real_size * 10_000 / rounds / 2**20, None,
                   note=f"{rounds} cases opened, answered, reacted to and edited through the "
                   "harness within two days: includes the 7-day log of handled events and the "
                   "timers of open cases, which do not grow with the history"))
    res.params["real-path cases"] = rounds
    return res
