"""The start's phases (`bot.startup`): what `casebot run` logs and writes for the benchmark."""

from __future__ import annotations

import gc
import json
import logging
import weakref
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.startup import ENV, START_GC_THRESHOLD, StartPhases


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


class _Node:
    """Something in a reference cycle: only the cyclic collector frees it."""

    def __init__(self) -> None:
        self.me = self


@pytest.fixture
def collector() -> Iterator[None]:
    """The collector's settings as they were, whatever the test did to them."""
    thresholds = gc.get_threshold()
    yield
    gc.set_threshold(*thresholds)
    gc.unfreeze()


@pytest.mark.usefixtures("collector")
def test_the_collector_waits_for_the_end_of_the_start_then_frees_its_garbage(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENV, raising=False)
    thresholds = gc.get_threshold()
    phases = StartPhases()
    phases.pause_collector()
    assert gc.get_threshold() == (START_GC_THRESHOLD, *thresholds[1:])
    garbage = _Node()
    gone = weakref.ref(garbage)
    del garbage
    phases.mark("first sync")
    assert gone() is not None  # young collections are held back (a million allocations)
    phases.finish("first batch handled")
    assert gone() is None
    assert gc.get_threshold() == thresholds
    assert gc.get_freeze_count() > 0  # what the start built is set aside
    assert [name for name, _, _ in phases.marks] == [
        "first sync", "first batch handled", "garbage collected, the start's objects set aside"]


@pytest.mark.usefixtures("collector")
def test_a_start_that_did_not_pause_the_collector_leaves_it_alone(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENV, raising=False)
    thresholds, frozen = gc.get_threshold(), gc.get_freeze_count()
    phases = StartPhases()
    phases.finish("first batch handled")
    phases.pause_collector()  # too late: the start is over
    assert gc.get_threshold() == thresholds
    assert gc.get_freeze_count() == frozen
    assert [name for name, _, _ in phases.marks] == ["first batch handled"]
