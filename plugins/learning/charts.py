"""The `!stats` picture: cases opened per week, median time to first answer per specialty.

Rendered with matplotlib's Agg backend (no display, no pyplot state: one `Figure` per call,
so renders in worker threads do not share anything). Call `render` off the event loop.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass

WIDTH, HEIGHT, DPI = 1000, 500, 100
"""Pixels of the picture (what the m.image event announces)."""


@dataclass(frozen=True, slots=True)
class ChartData:
    weeks: Sequence[tuple[str, int]]
    """(week label, cases opened), oldest first."""
    first_answer: Sequence[tuple[str, float]]
    """(specialty name, median hours to the first answer)."""
    weeks_title: str
    first_title: str


def render(data: ChartData) -> bytes:
    """The chart as PNG bytes, WIDTH × HEIGHT pixels."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(WIDTH / DPI, HEIGHT / DPI), dpi=DPI)
    FigureCanvasAgg(figure)
    left, right = figure.subplots(1, 2)
    labels = [w for w, _ in data.weeks]
    left.bar(range(len(labels)), [n for _, n in data.weeks],
             color="#2f6f9f")
    left.set_xticks(range(len(labels)), labels, rotation=45, ha="right", fontsize=8,
                    parse_math=False)
    left.set_title(data.weeks_title, fontsize=11, parse_math=False)
    left.yaxis.get_major_locator().set_params(integer=True)
    names = [n for n, _ in data.first_answer]
    right.barh(range(len(names)), [h for _, h in data.first_answer], color="#d08c2f")
    right.set_yticks(range(len(names)), names, fontsize=8,
                     parse_math=False)  # a room's name for a specialty may hold `$…$`
    right.invert_yaxis()
    right.set_title(data.first_title, fontsize=11, parse_math=False)
    figure.subplots_adjust(left=0.06, right=0.98, bottom=0.2, top=0.9, wspace=0.45)
    out = io.BytesIO()
    figure.savefig(out, format="png", dpi=DPI)
    return out.getvalue()
