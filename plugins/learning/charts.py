"""The `!stats` picture: cases opened per period above the median delay to a first answer per
specialty, one portrait image a thread's thumbnail (~324 px wide in Element) still reads.

Rendered with matplotlib's Agg backend (no display, no pyplot state: one `Figure` per call),
in a process of its own (`draw`): drawing holds the GIL for its whole run (up to 171 ms at a
time in a worker thread), which would pause the event loop, every room's answers with it.
The process is spawned (not forked from a bot holding threads and sockets) for the first
chart, and ends after `IDLE` seconds without one.
"""

from __future__ import annotations

import asyncio
import io
import multiprocessing
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass

WIDTH, HEIGHT, DPI = 600, 760, 100
"""Pixels of the picture (what the m.image event announces): portrait, so a thread's
thumbnail, as wide as the panel allows, shows it at more than half its size."""
TITLE, TEXT = 17, 15
"""Font sizes (points): ~12 and ~11 px once shown 324 px wide."""
MAX_LABELS = 7
"""Period labels written under the bars at most (every second, third… bar past that)."""


@dataclass(frozen=True, slots=True)
class ChartData:
    periods: Sequence[tuple[str, int]]
    """(period label, cases opened), oldest first."""
    first_answer: Sequence[tuple[str, float]]
    """(specialty name, median delay to the first answer in the unit of `first_title`)."""
    periods_title: str
    first_title: str


def render(data: ChartData) -> bytes:
    """The chart as PNG bytes, WIDTH × HEIGHT pixels."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(WIDTH / DPI, HEIGHT / DPI), dpi=DPI)
    FigureCanvasAgg(figure)
    top, bottom = figure.subplots(2, 1, height_ratios=(1, 1.15))
    labels = [label for label, _ in data.periods]
    top.bar(range(len(labels)), [n for _, n in data.periods], color="#2f6f9f")
    every = -(-len(labels) // MAX_LABELS)
    shown = range(len(labels) - 1, -1, -every)  # the latest period always labelled
    top.set_xticks(list(shown), [labels[i] for i in shown], fontsize=TEXT, parse_math=False)
    top.tick_params(axis="y", labelsize=TEXT)
    top.yaxis.get_major_locator().set_params(integer=True)
    names = [n for n, _ in data.first_answer]
    bottom.barh(range(len(names)), [v for _, v in data.first_answer], color="#d08c2f")
    bottom.set_yticks(range(len(names)), names, fontsize=TEXT,
                      parse_math=False)  # a room's name for a specialty may hold `$…$`
    bottom.tick_params(axis="x", labelsize=TEXT)
    bottom.invert_yaxis()
    for axes in (top, bottom):
        axes.spines[["top", "right"]].set_visible(False)
    figure.subplots_adjust(left=0.36, right=0.96, bottom=0.05, top=0.94, hspace=0.32)
    _, y, _, height = top.get_position().bounds
    top.set_position((0.1, y, 0.86, height))  # its labels are short: the full width
    for axes, title in ((top, data.periods_title), (bottom, data.first_title)):
        _, y, _, height = axes.get_position().bounds  # titles from the left edge, whole
        figure.text(0.02, y + height + 0.015, title, fontsize=TITLE, parse_math=False)
    out = io.BytesIO()
    figure.savefig(out, format="png", dpi=DPI)
    return out.getvalue()


IDLE = 600.0
"""Seconds without a chart after which the drawing process ends: ~70 MiB while it lives, and
~1 s of its own CPU to start again (Python and matplotlib imported afresh)."""


class _Drawer:
    """One drawing process, started for the first chart and ended once idle."""

    def __init__(self) -> None:
        self.pool: ProcessPoolExecutor | None = None
        self.running = 0
        self.last = 0.0

    async def draw(self, data: ChartData) -> bytes:
        loop = asyncio.get_running_loop()
        if self.pool is None:
            self.pool = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"))
        self.running += 1
        try:
            return await loop.run_in_executor(self.pool, render, data)
        except BrokenProcessPool:  # it died (killed, out of memory): the next call starts one
            self.close()
            raise
        finally:
            self.running -= 1
            self.last = loop.time()
            loop.call_later(IDLE, self._idle, loop)

    def _idle(self, loop: asyncio.AbstractEventLoop) -> None:
        if not self.running and loop.time() - self.last >= IDLE - 1:
            self.close()

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=False, cancel_futures=True)
            self.pool = None


_drawer = _Drawer()


async def draw(data: ChartData) -> bytes:
    """`render` in the drawing process (started if need be): the loop stays free meanwhile."""
    return await _drawer.draw(data)
