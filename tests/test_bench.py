"""Smoke tests of the benchmarks (bench/): every code path with tiny sizes, no timing asserted."""

from __future__ import annotations

import itertools
import json
import math
from pathlib import Path

import pytest

from bench import (
    burst,
    dbgrowth,
    directory,
    inprocess,
    latency,
    photos,
    scale,
    scanner,
    tagger,
)
from bench.__main__ import parse
from bench.corpus import kilobyte_texts
from bench.report import BenchResult, Figure, Target, percentile, table, write_json
from bench.world import bot_environment
from bot.homeserver import LocalSynapse


def test_figures_ratios_targets_table_and_json(tmp_path: Path) -> None:
    res = BenchResult("demo", "a title", "a floor")
    res.add(Figure("p50", "ms", 110, 100, Target("ratio", "<=", 1.15)),
            Figure("speed", "events/s", 1500, None, Target("value", ">=", 2000)),
            Figure("nothing", "", 0, 0))
    res.check("answered", False, "1 lost")
    first, second, third = res.figures
    assert first.ratio == pytest.approx(1.1) and first.met is True
    assert second.ratio is None and second.met is False
    assert third.ratio is None and third.met is None
    assert not res.correct
    text = table([res])
    assert "1.10×" in text and "FAILED: answered" in text and "✗" in text
    write_json(tmp_path / "r.json", [res], {"quick": True})
    data = json.loads((tmp_path / "r.json").read_text())
    assert data["benchmarks"]["demo"]["figures"][0]["ratio"] == 1.1
    assert data["benchmarks"]["demo"]["correct"] is False
    assert data["machine"]["cores"] >= 1


def test_percentile_and_corpus() -> None:
    assert percentile([3, 1, 2, 4], 50) == 2.5
    assert percentile([5], 99) == 5
    assert math.isnan(percentile([], 50))
    texts = kilobyte_texts(3, with_identifiers=True)
    assert len(texts) == 3 and all(1000 <= len(t.encode()) <= 1024 for t in texts)


def test_command_line() -> None:
    assert parse([]).which == ["inprocess", "db", "scanner", "tagger", "learning", "directory",
                               "photos", "latency", "burst", "scale"]
    args = parse(["scale", "latency", "--quick", "--rooms", "5"])
    assert args.which == ["latency", "scale"] and args.quick and args.rooms == 5
    with pytest.raises(SystemExit):
        parse(["nope"])


async def test_directory_benchmark_checks_what_it_imports(tmp_path: Path) -> None:
    res = await directory.run(tmp_path, quick=True)
    assert res.correct, res.checks
    assert [c.name for c in res.checks] == ["every physician imported",
                                            "importing twice gives the same table"]
    assert all(f.value > 0 and f.baseline for f in res.figures)


async def test_inprocess_and_database_benchmarks(tmp_path: Path) -> None:
    res = await inprocess.run(tmp_path / "in", rounds=4, texts=3, passes=2)
    assert res.correct, res.checks
    assert {f.name for f in res.figures} >= {"throughput", "secrecy scan, clean 1 KiB post"}
    assert all(f.value > 0 and f.baseline for f in res.figures)
    res = await dbgrowth.run(tmp_path / "db", cases=300, real_rounds=4)
    assert res.correct, res.checks
    assert all(f.value > 0 for f in res.figures)


async def test_scanner_benchmark(monkeypatch: pytest.MonkeyPatch) -> None:
    assert all(len(make(1000)) == 1000 for make in scanner.FAMILIES.values())
    res = await scanner.run(repeats=1)
    assert {f.name for f in res.figures} == {f"{name}, 40 KiB" for name in scanner.FAMILIES}
    assert all(f.value > 0 and f.baseline for f in res.figures)
    # the verdict, with made-up timings: linear passes, quadratic or slow fails the run
    for cost, correct in ((lambda n: n / 1e4, True), (lambda n: n * n / 1e8, False),
                          (lambda n: n / 100, False)):
        monkeypatch.setattr(scanner, "best_ms", lambda scan, text, repeats, c=cost: c(len(text)))
        assert (await scanner.run(repeats=1)).correct is correct


async def test_tagger_benchmark() -> None:
    res = await tagger.run(repeats=1)
    assert res.correct, res.checks
    assert [f.name for f in res.figures] == ["classify, per typical post",
                                             "classify, 40 KiB post",
                                             "first classify of a new room set"]
    assert all(f.value > 0 and f.baseline for f in res.figures)


async def test_photos_benchmark(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """One format, one repeat, two pictures of the evaluation set (standing for the held-out
    one too): every figure is there and the quality counts add up (the full run is
    `python -m bench photos`)."""
    from tests.support import photos as samples

    few = list(itertools.islice(samples.evaluation_set(size=(640, 480)), 0, 101, 100))
    monkeypatch.setattr(samples, "evaluation_set", lambda: iter(few))
    monkeypatch.setattr(samples, "held_out_set", lambda: iter(few))
    monkeypatch.setattr(photos, "FORMATS", ("JPEG",))
    monkeypatch.setattr(photos, "TWELVE_MP", (800, 600))
    res = await photos.run(tmp_path, repeats=1)
    assert res.correct, res.checks
    names = {f.name for f in res.figures}
    assert {"inspect, 12 MP JPEG", "inspect, 12 MP JPEG, processor time", "clean, 12 MP JPEG",
            "memory for one 12 MP HEIF",
            "faces found (tuning set)", "written false alarms (tuning set)",
            "faces found (held out)", "written false alarms (held out)"} <= names
    assert all(f.value >= 0 for f in res.figures)
    quality = photos.quality(quick=False)
    assert sum(total for name, (_, total) in quality.items()
               if name in ("faces found", "face false alarms")) == len(few)


def test_the_bots_run_with_their_bytecode_cached_as_installed(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYTHONDONTWRITEBYTECODE", "1")
    env = bot_environment(tmp_path, tmp_path / "tree", tmp_path / "phases.json")
    assert "PYTHONDONTWRITEBYTECODE" not in env
    assert env["PYTHONPYCACHEPREFIX"] == str(tmp_path / "pycache")
    assert env["PYTHONPATH"] == str(tmp_path / "tree")
    assert env["CASEBOT_START_PHASES"] == str(tmp_path / "phases.json")


@pytest.fixture
def no_waiting(monkeypatch: pytest.MonkeyPatch) -> None:
    """Shorter pauses (they wait for late duplicates or let a bot settle, nothing else)."""
    monkeypatch.setattr(latency, "SETTLE", 0.2)
    monkeypatch.setattr(burst, "SETTLE", 0.2)
    monkeypatch.setattr(scale, "IDLE", 0.2)
    monkeypatch.setattr(scale, "SYNC_GAP", 0.1)


@pytest.mark.live
@pytest.mark.usefixtures("no_waiting")
async def test_latency_and_burst_tiny(synapse: LocalSynapse, tmp_path: Path) -> None:
    res = await latency.run(synapse, tmp_path / "latency", cases=2)
    assert res.correct, res.checks
    res = await burst.run(synapse, tmp_path / "burst", cases=4, clients=2, rooms=1)
    assert res.correct, res.checks
    assert [f.value for f in res.figures if f.name.startswith("replies")] == [0, 0]


@pytest.mark.live
@pytest.mark.usefixtures("no_waiting")
async def test_scale_tiny(synapse: LocalSynapse, tmp_path: Path) -> None:
    res = await scale.run(synapse, tmp_path / "scale", rooms=2, every=1, history=2, syncs=2,
                          restarts=2)
    assert res.correct, res.checks
    assert all(f.value > 0 and f.baseline for f in res.figures if f.unit in ("s", "MiB"))
    # the phases of both bots' starts, as `casebot run` and the echo bot wrote them
    notes = "\n".join(res.notes)
    assert "casebot restart, median of 2" in notes and "echo bot restart, median of 2" in notes
    for phase in ("imports", "crypto store", "cross-signing", "migrations, plugins started",
                  "first sync (request, nio applying it)", "first batch handled",
                  "garbage collected, the start's objects set aside",
                  "first answer sent", "first answer received"):
        assert f"  {phase} " in notes, phase
