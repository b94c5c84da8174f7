"""The start's phases (`bot.startup`): what `casebot run` logs and writes for the benchmark."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from bot.startup import ENV, StartPhases


def test_phases_are_kept_in_order_once_each_and_written_where_asked(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> None:
    target = tmp_path / "phases.json"
    monkeypatch.setenv(ENV, str(target))
    phases = StartPhases()
    phases.mark("imports")
    phases.mark("crypto store")
    phases.mark("imports")  # a second mark of a name keeps the first
    with caplog.at_level(logging.INFO, logger="bot.startup"):
        phases.finish("first batch handled")
    phases.mark("after the start")  # nothing is noted once finished
    phases.finish("again")
    written = json.loads(target.read_text())
    assert [m["phase"] for m in written] == ["imports", "crypto store", "first batch handled"]
    walls = [m["wall"] for m in written]
    cpus = [m["cpu"] for m in written]
    assert walls == sorted(walls) and cpus == sorted(cpus)
    logged = [r.getMessage() for r in caplog.records if r.name == "bot.startup"]
    assert len(logged) == 1
    assert logged[0].startswith("started: imports at cpu ")
    assert "crypto store +" in logged[0] and "first batch handled +" in logged[0]


def test_no_file_without_the_variable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENV, raising=False)
    monkeypatch.chdir(tmp_path)
    phases = StartPhases()
    phases.mark("imports")
    phases.finish("first batch handled")
    assert list(tmp_path.iterdir()) == []
    assert [name for name, _, _ in phases.marks] == ["imports", "first batch handled"]
