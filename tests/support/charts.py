"""The `!stats` chart on the Harness: what it would draw, kept instead of drawn."""

from __future__ import annotations

import pytest

from plugins.learning.charts import ChartData


def kept_charts(monkeypatch: pytest.MonkeyPatch) -> list[ChartData]:
    """The data of every chart asked for from now on, in order (a stand-in PNG is sent)."""
    kept: list[ChartData] = []

    async def keep(data: ChartData) -> bytes:
        kept.append(data)
        return b"\x89PNG"

    monkeypatch.setattr("plugins.learning.commands.draw", keep)
    return kept
