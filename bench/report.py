"""What a benchmark returns (figures against a same-run baseline, correctness checks), the
printed table, `results.json` and the description of the machine the numbers come from."""

from __future__ import annotations

import json
import math
import os
import platform
import sqlite3
import statistics
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any, Literal


@dataclass(frozen=True, slots=True)
class Target:
    """A goal on the ratio (value / baseline) or on the value itself."""

    on: Literal["ratio", "value"]
    op: Literal["<=", ">="]
    limit: float

    def met(self, figure: Figure) -> bool | None:
        measured = figure.ratio if self.on == "ratio" else figure.value
        if measured is None or math.isnan(measured):
            return None
        return measured <= self.limit if self.op == "<=" else measured >= self.limit

    def __str__(self) -> str:
        what = "×" if self.on == "ratio" else ""
        return f"{self.op} {self.limit:g}{what}"


@dataclass(frozen=True, slots=True)
class Figure:
    """One measured number of casebot, with the baseline's number from the same run."""

    name: str
    unit: str
    value: float
    baseline: float | None = None
    target: Target | None = None
    note: str = ""

    @property
    def ratio(self) -> float | None:
        if self.baseline is None or self.baseline == 0 or math.isnan(self.baseline):
            return None
        return self.value / self.baseline

    @property
    def met(self) -> bool | None:
        return self.target.met(self) if self.target else None


@dataclass(frozen=True, slots=True)
class Check:
    """A correctness condition: the benchmark fails (exit status 1) when one is false."""

    name: str
    ok: bool
    detail: str = ""


@dataclass
class BenchResult:
    name: str
    title: str
    baseline: str
    """What the baseline column is."""
    figures: list[Figure] = field(default_factory=list)
    checks: list[Check] = field(default_factory=list)
    params: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0
    error: str | None = None
    notes: list[str] = field(default_factory=list)
    """Lines printed after the table (e.g. the phases of casebot's start)."""

    @property
    def correct(self) -> bool:
        return self.error is None and all(c.ok for c in self.checks)

    def add(self, *figures: Figure) -> None:
        self.figures.extend(figures)

    def check(self, name: str, ok: bool, detail: str = "") -> None:
        self.checks.append(Check(name, ok, detail))

    def as_json(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "baseline": self.baseline,
            "params": self.params,
            "seconds": round(self.seconds, 1),
            "error": self.error,
            "correct": self.correct,
            "figures": [
                {**asdict(f), "target": str(f.target) if f.target else None,
                 "ratio": _round(f.ratio), "met": f.met, "value": _round(f.value),
                 "baseline": _round(f.baseline)}
                for f in self.figures
            ],
            "checks": [asdict(c) for c in self.checks],
            "notes": self.notes,
        }


def _round(value: float | None) -> float | None:
    if value is None or math.isnan(value):
        return None
    return float(f"{value:.4g}")


# ---- numbers ---------------------------------------------------------------------------------
def percentile(values: Sequence[float], pct: float) -> float:
    """The `pct` percentile (0-100), linear between closest ranks; NaN for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = (len(ordered) - 1) * pct / 100
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else math.nan


def fmt(value: float | None) -> str:
    if value is None or math.isnan(value):
        return "—"
    if abs(value) >= 100:
        return f"{value:,.0f}".replace(",", " ")
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


# ---- output ----------------------------------------------------------------------------------
def table(results: Sequence[BenchResult]) -> str:
    """The results as a Markdown table (readable on a terminal too)."""
    rows = [("benchmark", "figure", "casebot", "baseline", "ratio", "target", "")]
    for res in results:
        if res.error:
            rows.append((res.name, f"ERROR: {res.error}", "", "", "", "", "✗"))
        for fig in res.figures:
            met = {True: "✓", False: "✗", None: ""}[fig.met]
            ratio = f"{fig.ratio:.2f}×" if fig.ratio is not None else "—"
            rows.append((res.name, f"{fig.name} ({fig.unit})" if fig.unit else fig.name,
                         fmt(fig.value), fmt(fig.baseline), ratio,
                         str(fig.target) if fig.target else "", met))
        for chk in res.checks:
            if not chk.ok:
                rows.append((res.name, f"FAILED: {chk.name}", chk.detail, "", "", "", "✗"))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = []
    for n, row in enumerate(rows):
        cells = [c.ljust(w) if i < 2 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths,
                                                                                  strict=True))]
        lines.append("| " + " | ".join(cells) + " |")
        if n == 0:
            lines.append("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(lines)


def baselines(results: Sequence[BenchResult]) -> str:
    return "\n".join(f"- {r.name}: {r.title}; baseline = {r.baseline}." for r in results)


def write_json(path: Path, results: Sequence[BenchResult], run: dict[str, Any]) -> None:
    data = {**run, "machine": machine(),
            "benchmarks": {r.name: r.as_json() for r in results}}
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n")


def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "not installed"


def machine() -> dict[str, Any]:
    """What the numbers depend on: CPU, cores, memory, OS, Python and the main libraries."""
    cpu = platform.processor() or platform.machine()
    mem_kb = 0
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_kb = int(line.split()[1])
    except OSError:
        pass
    return {
        "cpu": cpu,
        "cores": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
        else os.cpu_count(),
        "memory_gib": round(mem_kb / 2**20, 1),
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "matrix-nio": _version("matrix-nio"),
        "synapse": _version("matrix-synapse"),
    }


def describe_machine() -> str:
    m = machine()
    return (f"{m['cpu']}, {m['cores']} cores, {m['memory_gib']} GiB, {m['os']}, "
            f"Python {m['python']}, SQLite {m['sqlite']}, matrix-nio {m['matrix-nio']}, "
            f"Synapse {m['synapse']}")
