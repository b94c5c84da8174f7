"""`python -m bench.trace`: what one `!case` costs in calls and in going back and forth
between files (the measure of issue 23, "the spine").

In-process, on the Harness, a room with specialties, cases, secrecy and volunteers (or every
default plugin with `--all`): a first `!case` warms the caches, then the second one is traced
with `sys.setprofile`. Counted:

- calls: Python function frames whose code lives under `bot/` or `plugins/` (`bot/testing.py`,
  the fake transport, left out), each frame once (a coroutine resumed ten times is one call);
- modules: the files those frames belong to;
- crossings: calls whose nearest traced caller lives in another file;
- back-crossings: crossings into a file the trace had already entered;
- card messages: the card's first post plus its edits, sent while the `!case` was handled.

The figures are deterministic for a given checkout (no timing): compare two commits by running
the same command on each.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
TRACED = (str(ROOT / "bot") + "/", str(ROOT / "plugins") + "/")
SKIPPED = (str(ROOT / "bot" / "testing.py"),)
ROOM = "!room:trace"
POSTER, V1, V2 = "@poster:trace", "@v1:trace", "@v2:trace"
CASE = "!case H 60 ans, plaque érythémateuse du coude depuis 3 semaines, avis ? #dermato"


@dataclass
class Trace:
    """Frames seen while tracing, in the order they were first called."""

    calls: int = 0
    crossings: int = 0
    back_crossings: int = 0
    entered: dict[str, int] = field(default_factory=dict)
    """File → frames first called in it."""
    edges: Counter[tuple[str, str]] = field(default_factory=Counter)
    _seen: set[int] = field(default_factory=set)
    _keep: list[FrameType] = field(default_factory=list)

    def profile(self, frame: FrameType, event: str, arg: Any) -> None:
        if event != "call" or id(frame) in self._seen:
            return
        path = frame.f_code.co_filename
        if not _traced(path):
            return
        self._seen.add(id(frame))
        self._keep.append(frame)  # ids stay unique while the trace runs
        self.calls += 1
        caller = frame.f_back
        while caller is not None and not _traced(caller.f_code.co_filename):
            caller = caller.f_back
        if caller is not None and caller.f_code.co_filename != path:
            self.crossings += 1
            if path in self.entered:
                self.back_crossings += 1
            self.edges[(_short(caller.f_code.co_filename), _short(path))] += 1
        self.entered[path] = self.entered.get(path, 0) + 1


def _traced(path: str) -> bool:
    return path.startswith(TRACED) and path not in SKIPPED


def _short(path: str) -> str:
    return str(Path(path).relative_to(ROOT))


def _plugins(everything: bool) -> list[type]:
    from bench.inprocess import all_plugins
    from plugins.cases import Cases
    from plugins.secrecy.plugin import Secrecy
    from plugins.specialties import Specialties
    from plugins.volunteers import Volunteers

    return all_plugins() if everything else [Specialties, Cases, Secrecy, Volunteers]


async def trace_second_case(everything: bool = False) -> tuple[Trace, int]:
    """Trace the second `!case` of a room; return the trace and how many card messages (first
    post and edits) that `!case` sent."""
    from bot.testing import Harness

    async with Harness(_plugins(everything)) as h:
        h.add_room(ROOM, members=[POSTER, V1, V2])
        for user in (V1, V2):
            await h.say(user, "!volunteer dermato", room=ROOM)
        await h.say(POSTER, CASE, room=ROOM)
        await h.advance(3600)
        before = len(h.sent)
        trace = Trace()
        sys.setprofile(trace.profile)
        try:
            await h.say(POSTER, CASE, room=ROOM)
        finally:
            sys.setprofile(None)
        sent = h.sent[before:]
        card = next((s for s in sent if s.body.startswith(("Cas #", "Case #"))), None)
        cards = 0 if card is None else 1 + sum(1 for s in sent if s.replaces == card.event_id)
        return trace, cards


def report(trace: Trace, cards: int, top: int) -> str:
    lines = [f"calls {trace.calls} · modules {len(trace.entered)} · crossings "
             f"{trace.crossings} · back-crossings {trace.back_crossings} · card messages "
             f"{cards}"]
    if top:
        lines.append("busiest crossings (caller → callee: count):")
        lines.extend(f"  {a} → {b}: {n}" for (a, b), n in trace.edges.most_common(top))
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.trace", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--all", action="store_true",
                        help="every default plugin (default: specialties, cases, secrecy, "
                             "volunteers)")
    parser.add_argument("--top", type=int, default=15, help="crossings listed (default 15)")
    args = parser.parse_args(argv)
    trace, cards = asyncio.run(trace_second_case(args.all))
    print(report(trace, cards, args.top))
    return 0


if __name__ == "__main__":
    sys.exit(main())
