"""4. In-process: events per second through the router, every default plugin and the SQLite
database (a file, WAL) with the fake transport — no network — pinned to one core; baseline:
the same events through the router alone (no plugin). And the secrecy scanner's µs per 1 KiB
post; baseline: one trivial regex pass (`\\w+`) over the same texts.

Steady state: before any timed pass, each side (casebot and the router alone) handles the
mix's first `WARM_ROUNDS` rounds once, untimed, on a Harness and database of its own, so that
what a process pays once (lazy imports such as `phonenumbers` on the first phone-number
candidate, regex and statement caches) is paid by neither side's timing."""

from __future__ import annotations

import contextlib
import cProfile
import dataclasses
import io
import os
import pstats
import re
import time
from collections import defaultdict
from collections.abc import Iterator, Sequence
from pathlib import Path

from bench.corpus import IDENTIFYING, case_command, kilobyte_texts, post
from bench.report import BenchResult, Figure, Target, median
from bot.config import Config, Duration, RateLimitConfig
from bot.events import Edit, Event, Message, Reaction
from bot.loading import load_plugin_classes
from bot.plugin import Plugin
from bot.testing import START, Harness
from plugins.secrecy import scan

ROOMS = tuple(f"!room{n}:bench" for n in range(4))
DOCTORS = tuple(f"@dr{n}:bench" for n in range(8))
CONFIG = Config(data_dir=Path("/nonexistent"),
                rate_limit=RateLimitConfig(commands=1_000_000, per=Duration(1)))
"""The per-user command rate limit is lifted: one fake poster sends thousands of commands."""
STEP = 20.0
"""Fake seconds between two events."""
WARM_ROUNDS = 10
"""Rounds of the mix handled once, untimed, by each side before timing (see the docstring):
the first round's reply holds a phone number; no `!stats` chart (round 19)."""
_WORD = re.compile(r"\w+")


def all_plugins() -> list[type[Plugin]]:
    """casebot's default plugins (what `casebot run` loads without a `plugins:` list)."""
    return [cls for cls, _ in load_plugin_classes(CONFIG)]


def stream(rounds: int) -> Iterator[tuple[str, Event]]:
    """A day in busy rooms, `rounds` cases long: each case gets replies, chat around it, a
    reaction, an edit; some replies hold identifiers (warnings), a quarter are resolved with
    ✅, and `!cases` / `!stats` are asked now and then. Yields (kind, event)."""
    ids = iter(range(1, 10**9))

    def eid() -> str:
        return f"$b{next(ids)}"

    for r in range(rounds):
        room = ROOMS[r % len(ROOMS)]
        poster, *others = (DOCTORS[(r + k) % len(DOCTORS)] for k in range(4))
        root = eid()
        yield "case", Message(room, root, poster, 0, case_command(r))
        replies = [eid() for _ in others]
        for n, (doc, rid) in enumerate(zip(others, replies, strict=True)):
            text = post(r * 7 + n + 1)
            if n == 0 and r % 5 == 0:
                text = f"{text} {IDENTIFYING}"
            yield "reply", Message(room, rid, doc, 0, text, thread_root=root)
        yield "chat", Message(room, eid(), others[0], 0, post(r * 3 + 2))
        yield "reaction", Reaction(room, eid(), others[1], 0, root, "👍")
        yield "edit", Edit(room, eid(), others[2], 0, replies[2], post(r * 5 + 4),
                           thread_root=root)
        if r % 4 == 3:
            yield "resolve", Reaction(room, eid(), poster, 0, replies[1], "✅")
        else:
            yield "reply", Message(room, eid(), poster, 0, "Merci pour vos retours !",
                                   thread_root=root)
        if r % 10 == 9:
            yield "command", Message(room, eid(), others[0], 0, "!cases")
        if r % 20 == 19:
            yield "command", Message(room, eid(), others[1], 0, "!stats text")
            # With its chart: timed on its own, outside the throughput (a worker thread
            # renders it for about 0.1 s while the room waits; other rooms do not).
            yield "chart", Message(room, eid(), others[1], 0, "!stats")


async def prepare(h: Harness) -> None:
    """Rooms with their members, and volunteers paged by new cases (not timed)."""
    for room in ROOMS:
        h.add_room(room, members=DOCTORS, powers={DOCTORS[-1]: 50})
        if "volunteers" in h.app.plugins:
            for doc in DOCTORS[-3:]:
                await h.say(doc, "!volunteer cardio dermato mg pneumo", room=room)


async def warm_up(plugins: Sequence[type[Plugin]], path: Path, rounds: int) -> None:
    """Handle the mix's first `WARM_ROUNDS` rounds (at most `rounds`) once, untimed, on a
    database of its own."""
    await drive(plugins, list(stream(min(WARM_ROUNDS, rounds))), path)


def workdir(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path


def size_on_disk(db_path: Path) -> int:
    """Bytes of an SQLite database with its -wal and -shm files."""
    return sum(p.stat().st_size for p in db_path.parent.glob(db_path.name + "*"))


@contextlib.contextmanager
def one_core() -> Iterator[None]:
    """Pin this thread (and the threads it starts, e.g. aiosqlite's) to a single CPU."""
    if not hasattr(os, "sched_setaffinity"):
        yield
        return
    before = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {min(before)})
    try:
        yield
    finally:
        os.sched_setaffinity(0, before)


async def drive(plugins: Sequence[type[Plugin]], events: Sequence[tuple[str, Event]],
                db_path: Path, profile: cProfile.Profile | None = None
                ) -> tuple[float, dict[str, list[float]], Harness]:
    """Deliver the events one sync batch each, saving the sync token after each as the sync
    loop does; return wall seconds and seconds per kind."""
    per_kind: dict[str, list[float]] = defaultdict(list)
    async with Harness(plugins, config=CONFIG, db_path=db_path) as h:
        await prepare(h)
        h.clock.value = START
        began = time.perf_counter()
        if profile:
            profile.enable()
        for n, (kind, event) in enumerate(events):
            h.clock.value += STEP
            timed = _stamped(event, h.clock.value)
            t0 = time.perf_counter()
            await h.app.handle_batch([timed])
            await h.app.save_sync_token(f"bench{n}")  # as the sync loop does after a batch
            per_kind[kind].append(time.perf_counter() - t0)
        if profile:
            profile.disable()
        wall = time.perf_counter() - began - sum(per_kind.get("chart", ()))
    return wall, per_kind, h


@dataclasses.dataclass
class Cost:
    """What one pass of the mix cost, per timed event."""

    wall_us: float
    cpu_us: float
    """Processor time of the process (the event loop's thread and aiosqlite's)."""
    trips: float
    """Trips to aiosqlite's thread."""


async def cost(plugins: Sequence[type[Plugin]], events: Sequence[tuple[str, Event]],
               db_path: Path) -> Cost:
    """One pass of `drive` without the charts (they render in another process)."""
    timed = [(k, e) for k, e in events if k != "chart"]
    async with Harness(plugins, config=CONFIG, db_path=db_path) as h:
        await prepare(h)
        h.clock.value = START
        trips, cpu, began = h.app.db.trips, time.process_time(), time.perf_counter()
        for n, (_, event) in enumerate(timed):
            h.clock.value += STEP
            await h.app.handle_batch([_stamped(event, h.clock.value)])
            await h.app.save_sync_token(f"bench{n}")
        wall, cpu = time.perf_counter() - began, time.process_time() - cpu
        trips = h.app.db.trips - trips
    return Cost(wall / len(timed) * 1e6, cpu / len(timed) * 1e6, trips / len(timed))


async def by_plugin(base: Path, rounds: int = 300, passes: int = 5) -> list[tuple[str, Cost]]:
    """Each plugin's share of an event's cost: the mix through the router alone, then with
    the default plugins added one at a time in their loading order (a plugin's required ones
    come before it), passes alternated; the median of each figure per step."""
    events = list(stream(rounds))
    classes = all_plugins()
    steps = [("router only", [])] + [(cls.name, classes[:n + 1])
                                     for n, cls in enumerate(classes)]
    runs: dict[str, list[Cost]] = defaultdict(list)
    workdir(base)
    with one_core():
        for name, plugins in steps:
            await warm_up(plugins, base / f"warm {name}.db", rounds)
        for n in range(passes):
            for name, plugins in steps:
                runs[name].append(await cost(plugins, events, base / f"{name}{n}.db"))
    return [(name, Cost(*(median([getattr(c, f) for c in runs[name]])
                          for f in ("wall_us", "cpu_us", "trips"))))
            for name, _ in steps]


def by_plugin_table(rows: Sequence[tuple[str, Cost]]) -> str:
    """Markdown: each step's added cost per event and its share of the whole."""
    full = rows[-1][1]
    lines = ["| added | µs/event (wall) | share | µs/event (CPU) | share | trips/event |",
             "|---|---|---|---|---|---|"]
    before = Cost(0.0, 0.0, 0.0)
    for name, c in rows:
        lines.append(f"| {name} | {c.wall_us - before.wall_us:+.0f} | "
                     f"{(c.wall_us - before.wall_us) / full.wall_us:.0%} | "
                     f"{c.cpu_us - before.cpu_us:+.0f} | "
                     f"{(c.cpu_us - before.cpu_us) / full.cpu_us:.0%} | "
                     f"{c.trips - before.trips:+.2f} |")
        before = c
    lines.append(f"| **all** | {full.wall_us:.0f} | 100% | {full.cpu_us:.0f} | 100% | "
                 f"{full.trips:.2f} |")
    return "\n".join(lines)


def _stamped(event: Event, now: float) -> Event:
    return dataclasses.replace(event, timestamp=int(now * 1000))


def scanner_us_per_kib(texts: Sequence[str], passes: int = 5) -> tuple[float, float]:
    """(scan, regex baseline) µs per KiB of this thread's processor time: the best of `passes`
    passes over the texts, after a warm-up (as `timeit` does). Processor time, not wall time:
    both are one thread's computation, and on this shared machine the wall time also counts
    the other processes' turns (at a load average of 8-10 it doubled both figures)."""
    kib = sum(len(t.encode()) for t in texts) / 1024
    for text in texts[:5]:
        scan(text)
    timings: dict[str, list[float]] = {"scan": [], "regex": []}
    for _ in range(passes):
        t0 = time.thread_time()
        for text in texts:
            scan(text)
        t1 = time.thread_time()
        for text in texts:
            _WORD.findall(text)
        t2 = time.thread_time()
        timings["scan"].append((t1 - t0) / kib * 1e6)
        timings["regex"].append((t2 - t1) / kib * 1e6)
    return min(timings["scan"]), min(timings["regex"])


def write_profile(profile: cProfile.Profile, path: Path, limit: int = 30) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    profile.dump_stats(str(path.with_suffix(".prof")))
    out = io.StringIO()
    stats = pstats.Stats(profile, stream=out).strip_dirs()
    stats.sort_stats("tottime").print_stats(limit)
    stats.sort_stats("cumulative").print_stats(limit)
    path.with_suffix(".txt").write_text(out.getvalue())


async def run(base: Path, quick: bool = False, rounds: int | None = None,
              texts: int | None = None, passes: int | None = None,
              profile: Path | None = None) -> BenchResult:
    rounds = rounds or (40 if quick else 500)
    texts = texts or (20 if quick else 200)
    passes = passes or (1 if quick else 3)
    events = list(stream(rounds))
    res = BenchResult("inprocess", f"{len(events)} events (cases, replies, chat, reactions, "
                      "edits, commands) through router + all plugins + SQLite, fake transport, "
                      "one core; secrecy scan of 1 KiB posts",
                      "router alone (no plugin) on the same events; a `\\w+` regex pass over "
                      "the same texts",
                      params={"events": len(events), "rounds": rounds, "passes": passes})
    workdir(base)
    walls: dict[str, list[float]] = {"full": [], "bare": []}
    kinds: dict[str, list[float]] = defaultdict(list)
    bare_kinds: dict[str, list[float]] = defaultdict(list)
    with one_core():
        await warm_up(all_plugins(), base / "warm-full.db", rounds)
        await warm_up([], base / "warm-bare.db", rounds)
        for n in range(passes):  # alternated, so that both see the same machine
            wall, per_kind, h = await drive(all_plugins(), events, base / f"full{n}.db")
            walls["full"].append(wall)
            for kind, values in per_kind.items():
                kinds[kind].extend(values)
            wall, per_kind, _ = await drive([], events, base / f"bare{n}.db")
            walls["bare"].append(wall)
            for kind, values in per_kind.items():
                bare_kinds[kind].extend(values)
        clean_us, clean_re = scanner_us_per_kib(kilobyte_texts(texts))
        dirty_us, dirty_re = scanner_us_per_kib(kilobyte_texts(texts, with_identifiers=True))
    cases = sum(1 for k, _ in events if k == "case")
    timed = sum(1 for k, _ in events if k != "chart")
    answered = len({s.thread_root for s in h.sent if s.body.startswith("Cas #")})
    res.check("every !case got its card", answered == cases, f"{answered} cards, {cases} cases")
    res.params["µs per event, by kind"] = {
        k: {"casebot": round(median(v) * 1e6), "router only": round(median(bare_kinds[k]) * 1e6)}
        for k, v in kinds.items()}
    res.add(
        Figure("throughput", "events/s", timed / min(walls["full"]),
               timed / min(walls["bare"]), Target("ratio", ">=", 0.25),
               note=f"best of {passes} passes"),
        Figure("!case handling", "ms", median(kinds["case"]) * 1000,
               median(bare_kinds["case"]) * 1000,
               note="median; the router-only baseline answers 'unknown command'"),
        *([Figure("!stats with its chart", "ms", median(kinds["chart"]) * 1000,
                  median(bare_kinds["chart"]) * 1000,
                  note="median, not in the throughput; the chart renders in a worker thread")]
          if kinds["chart"] else []),
        Figure("secrecy scan, clean 1 KiB post", "µs", clean_us, clean_re,
               Target("value", "<=", 200), note="processor time"),
        Figure("secrecy scan, 1 KiB with identifiers", "µs", dirty_us, dirty_re,
               Target("value", "<=", 200), note="processor time"),
    )
    if profile is not None:
        prof = cProfile.Profile()
        with one_core():
            await drive(all_plugins(), events, base / "profiled.db", prof)
        write_profile(prof, profile / "inprocess")
    return res


if __name__ == "__main__":  # python -m bench.inprocess [rounds] [passes]: the per-plugin table
    import asyncio
    import sys
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        print(by_plugin_table(asyncio.run(by_plugin(
            Path(tmp), *(int(a) for a in sys.argv[1:3])))))
