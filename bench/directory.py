"""6. Directory import (`casebot directory import`): a generated Annuaire Santé extract with
the real 2026 header (`plugins.trust.directory.HEADER`), imported into a fresh database.

Figures: the import of the big file (100,000 activity rows; `--quick`: 30,000) against a
plain read-and-split of the same file (the floor: no parsing rules, no SQLite); the peak
Python heap (tracemalloc) and the peak resident memory of an import process (each size in
its own process) for the big file against a 10,000-row one: bounded memory means a
ratio near 1, whatever the file size. Checks: the physicians found are the ones written,
and importing the same file twice gives the same table.

The file is made-up: generated names, valid RPPS numbers (Luhn), no real person.
"""

from __future__ import annotations

import asyncio
import json
import random
import subprocess
import sys
import time
from pathlib import Path

from bench.report import BenchResult, Check, Figure, Target
from plugins.trust.directory import HEADER, import_directory

FIRST = ("Marie", "Jean", "Anne-Sophie", "Élodie", "François", "Hélène", "Jérôme", "Chloé",
         "Léa", "Noël", "Zoé", "Maël", "Inès", "Loïc", "Bénédicte", "Aurélien")
LAST = ("Martin", "Bernard", "Dubois", "Lefèvre", "Garçon", "D'Aubigné", "Le Goff", "Müller",
        "Nguyen", "Dupont-Moretti", "Fabre", "Rousseau", "Benoît", "Mercier", "Chevalier")
SPECIALTIES = (("SM54", "Médecine générale"), ("SM04", "Cardiologie et maladies vasculaires"),
               ("SM15", "Dermatologie et vénéréologie"), ("SM40", "Pédiatrie"),
               ("SM53", "Spécialiste en Médecine Générale"), ("", ""))
OTHERS = (("60", "Infirmier"), ("21", "Pharmacien"), ("40", "Chirurgien-Dentiste"),
          ("50", "Sage-Femme"), ("70", "Masseur-Kinésithérapeute"))
SMALL_ROWS = 10_000
"""The small file's rows (two write batches: memory is compared at steady state)."""


def luhn_key(digits: str) -> str:
    """The Luhn check digit to append to `digits`."""
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2 == 0:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return str((10 - total % 10) % 10)


def rpps_number(index: int) -> str:
    base = f"1{index:09d}"
    return base + luhn_key(base)


def write_extract(path: Path, rows: int, seed: int = 1) -> int:
    """Write a made-up extract of `rows` activity rows; return how many distinct physicians
    it holds (about 60 % of the people are physicians, with one to three activities)."""
    rand = random.Random(seed)
    column = {name: i for i, name in enumerate(HEADER)}
    physicians = 0
    written = person = 0
    with path.open("w", encoding="utf-8", newline="\n") as out:
        out.write("|".join(HEADER) + "|\n")
        while written < rows:
            person += 1
            number = rpps_number(person)
            physician = rand.random() < 0.6
            physicians += physician
            first, last = rand.choice(FIRST), rand.choice(LAST).upper()
            for activity in range(min(rand.randint(1, 3), rows - written)):
                cells = [""] * len(HEADER)
                cells[column["Type d'identifiant PP"]] = "8"
                cells[column["Identifiant PP"]] = number
                cells[column["Identification nationale PP"]] = "8" + number
                cells[column["Nom d'exercice"]] = last
                cells[column["Prénom d'exercice"]] = first
                code, label = ("10", "Médecin") if physician else rand.choice(OTHERS)
                cells[column["Code profession"]], cells[column["Libellé profession"]] = (
                    code, label)
                if physician and activity == 0:
                    sf = rand.choice(SPECIALTIES)
                    cells[column["Code savoir-faire"]] = sf[0]
                    cells[column["Libellé savoir-faire"]] = sf[1]
                cells[column["Code département (coord. structure)"]] = f"{rand.randint(1, 95):02d}"
                cells[column["Raison sociale site"]] = f"CABINET {last}"
                cells[column["Libellé commune (coord. structure)"]] = "VILLE"
                out.write("|".join(cells) + "|\n")
                written += 1
    return physicians


def _plain_read(path: Path) -> int:
    """The floor: read the file and split every line, nothing else."""
    count = 0
    with path.open("rb") as stream:
        for raw in stream:
            count += len(raw.decode("utf-8").split("|")) > 10
    return count


async def _database(path: Path) -> None:
    from bot.storage import Database
    from plugins.trust.store import MIGRATIONS

    db = await Database.open(path)
    await db.migrate("trust", MIGRATIONS)
    await db.close()


def _import_in_process(file: Path, db: Path) -> dict[str, float]:
    """Import in a fresh process; its peak resident memory (MiB) and Python heap peak."""
    code = (
        "import asyncio, json, resource, sys, tracemalloc\n"
        "from pathlib import Path\n"
        "from bench.directory import _database\n"
        "from plugins.trust.directory import import_directory\n"
        "file, db = Path(sys.argv[1]), Path(sys.argv[2])\n"
        "asyncio.run(_database(db))\n"
        "tracemalloc.start()\n"
        "result = import_directory(file, db)\n"
        "peak = tracemalloc.get_traced_memory()[1]\n"
        "print(json.dumps({'rss': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,"
        " 'heap': peak / 2**20, 'physicians': result.physicians}))\n"
    )
    out = subprocess.run([sys.executable, "-c", code, str(file), str(db)], check=True,
                         capture_output=True, text=True, cwd=Path(__file__).resolve().parent.parent)
    return dict(json.loads(out.stdout))


def _checksum(db: Path) -> tuple[int, int]:
    import sqlite3

    conn = sqlite3.connect(db)
    try:
        row = conn.execute("SELECT COUNT(*), SUM(LENGTH(rpps || last_name || first_name || "
                           "profession || specialty || department)) FROM trust_directory"
                           ).fetchone()
        return int(row[0]), int(row[1] or 0)
    finally:
        conn.close()


async def run(base: Path, quick: bool) -> BenchResult:
    await asyncio.to_thread(base.mkdir, parents=True, exist_ok=True)
    rows = 30_000 if quick else 100_000
    big, small = base / "big.txt", base / "small.txt"
    expected = await asyncio.to_thread(write_extract, big, rows)
    await asyncio.to_thread(write_extract, small, SMALL_ROWS, 2)
    result = BenchResult("directory", "directory import (generated extract)",
                         "plain read-and-split of the same file; memory: a 10,000-row file",
                         params={"rows": rows, "bytes": big.stat().st_size})

    began = time.perf_counter()
    await asyncio.to_thread(_plain_read, big)
    floor = time.perf_counter() - began
    db = base / "timed.db"
    await _database(db)
    began = time.perf_counter()
    first = await asyncio.to_thread(import_directory, big, db)
    took = time.perf_counter() - began
    before = _checksum(db)
    again = await asyncio.to_thread(import_directory, big, db)
    after = _checksum(db)

    small_run = await asyncio.to_thread(_import_in_process, small, base / "small.db")
    big_run = await asyncio.to_thread(_import_in_process, big, base / "big.db")
    label = f"{rows:,}".replace(",", " ")
    result.figures += [
        Figure(f"import, {label} rows", "s", took, floor),
        Figure("import throughput", "rows/s", rows / took, rows / floor),
        Figure(f"peak Python heap, {label} rows vs 10 000", "MiB", big_run["heap"],
               small_run["heap"], Target("ratio", "<=", 1.5)),
        Figure(f"peak resident memory, {label} rows vs 10 000", "MiB", big_run["rss"],
               small_run["rss"], Target("ratio", "<=", 1.3)),
    ]
    result.checks += [
        Check("every physician imported", first.physicians == expected == big_run["physicians"],
              f"{first.physicians} imported, {expected} written"),
        Check("importing twice gives the same table", before == after
              and again.physicians == first.physicians, f"{before} then {after}"),
    ]
    return result
