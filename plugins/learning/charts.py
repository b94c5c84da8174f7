"""The `!stats` picture: cases opened per period above the median delay to a first answer per
specialty, one square image a thread's thumbnail (235 px wide in Element's thread panel)
still reads.

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
import textwrap
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

WIDTH, HEIGHT, DPI = 600, 600, 100
"""Pixels of the picture (what the m.image event announces): square. Element Web 1.12 draws a
portrait picture at most 183 px wide (324 × 9/16) and a square or landscape one up to 324 px,
as wide as the thread panel leaves (235 px at its default width): a square is the largest
thumbnail it shows."""
THUMBNAIL = 235
"""Pixels Element's thread panel shows of the picture's width at its default width."""
TITLE, TEXT = 19, 18
"""Font sizes (points): ~10.3 and ~9.8 px once shown `THUMBNAIL` px wide (Element's own
captions are 12 px; its timestamps 10 px)."""
TITLE_CHARS = 40
"""Characters of a title on one line at most (longer titles wrap)."""
MAX_LABELS = 4
"""Period labels written under the bars at most (every second, third… bar past that)."""
MARGIN = 10
"""Pixels left free around the picture and between a panel and its labels."""


@dataclass(frozen=True, slots=True)
class ChartData:
    periods: Sequence[tuple[str, int]]
    """(period label, cases opened), oldest first."""
    first_answer: Sequence[tuple[str, float]]
    """(specialty name, median delay to the first answer in the unit of `first_title`)."""
    periods_title: str
    first_title: str
    decimal: str = "."
    """The decimal mark of the room's language (French writes 0,5)."""


def figure(data: ChartData) -> Figure:
    """The chart, laid out in pixels from its measured labels: cases per period above the
    delay per specialty (the taller panel: up to eight names), each panel as wide as its
    labels leave, each title from the left edge."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import FuncFormatter, MaxNLocator

    chart = Figure(figsize=(WIDTH / DPI, HEIGHT / DPI), dpi=DPI)
    renderer = FigureCanvasAgg(chart).get_renderer()
    top, bottom = chart.subplots(2, 1)
    labels = [label for label, _ in data.periods]
    top.bar(range(len(labels)), [n for _, n in data.periods], color="#2f6f9f")
    every = -(-len(labels) // MAX_LABELS)
    shown = range(len(labels) - 1, -1, -every)  # the latest period always labelled
    top.set_xticks(list(shown), [labels[i] for i in shown], fontsize=TEXT, parse_math=False)
    top.tick_params(axis="y", labelsize=TEXT)
    top.yaxis.set_major_locator(MaxNLocator(3, integer=True))
    names = [n for n, _ in data.first_answer]
    bottom.barh(range(len(names)), [v for _, v in data.first_answer], color="#d08c2f")
    bottom.set_yticks(range(len(names)), names, fontsize=TEXT,
                      parse_math=False)  # a room's name for a specialty may hold `$…$`
    bottom.tick_params(axis="x", labelsize=TEXT)
    bottom.xaxis.set_major_locator(MaxNLocator(3))
    bottom.xaxis.set_major_formatter(FuncFormatter(
        lambda value, _: f"{value:g}".replace(".", data.decimal)))
    bottom.set_ylim(max(len(names), 4) - 0.5, -0.5)  # top down; one bar is not a slab
    for axes in (top, bottom):
        axes.spines[["top", "right"]].set_visible(False)
        axes.margins(x=0.02)

    def labels_size(axes: Axes) -> tuple[float, float]:
        """Pixels its tick labels take left of it and under it, with a margin each side."""
        left = max((t.get_window_extent(renderer).width for t in axes.get_yticklabels()
                    if t.get_text()), default=0.0)
        under = max((t.get_window_extent(renderer).height for t in axes.get_xticklabels()
                     if t.get_text()), default=0.0)
        return left + 2 * MARGIN, under + 2 * MARGIN

    chart.draw_without_rendering()  # tick labels are made at a draw: then they can be measured
    y = HEIGHT - MARGIN  # the top of a panel's block: its title, the axes, their labels
    placed: list[tuple[Axes, list[float]]] = []
    for axes, title, share in ((top, data.periods_title, 0.4), (bottom, data.first_title, 0.6)):
        under_block = y - share * (HEIGHT - MARGIN)
        text = chart.text(MARGIN / WIDTH, y / HEIGHT, textwrap.fill(title, TITLE_CHARS),
                          fontsize=TITLE, va="top", parse_math=False)
        axes_top = y - text.get_window_extent(renderer).height - MARGIN
        left, under = labels_size(axes)
        position = [left / WIDTH, (under_block + under) / HEIGHT,
                    (WIDTH - MARGIN - left) / WIDTH, (axes_top - under_block - under) / HEIGHT]
        axes.set_position(position)
        placed.append((axes, position))
        y = under_block
    chart.draw_without_rendering()  # each last tick label is centred on its axes' right end
    for axes, position in placed:
        right = axes.xaxis.get_tightbbox(renderer).x1  # ticks within its limits only
        position[2] -= max(0.0, right - (WIDTH - MARGIN)) / WIDTH
        axes.set_position(position)
    return chart


def render(data: ChartData) -> bytes:
    """The chart as PNG bytes, WIDTH × HEIGHT pixels."""
    out = io.BytesIO()
    figure(data).savefig(out, format="png", dpi=DPI)
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
