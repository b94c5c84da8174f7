"""6. Directory import (`casebot directory import`): a generated Annuaire Santé extract with
the real 2026 header (`plugins.trust.directory.HEADER`), imported into a fresh database.

Figures: the import of the big file (100,000 activity rows; `--quick`: 30,000) against a
plain read-and-split of the same file (the floor: no parsing rules, no SQLite); the peak
Python heap (tracemalloc) and the peak resident memory of an import process (each size in
its own process) for the big file against a 10,000-row one: bounded memory means a
ratio near 1, whatever the file size. Checks: the physicians found are the ones written,
and importing the same file twice gives the same table.

The bot beside an import: the bot's `!case` answer time (the Harness on the same database
file, its cases written to SQLite) while `casebot directory import` runs in another process
on a bigger file (300,000 rows; `--quick`: 100,000) and replaces the directory that file
gave before (the monthly update), against the same answers with no import running. An
import used to hold SQLite's write lock for its whole run (2.4 M rows: a `!case` waited
18.7 s); it now holds it one batch at a time.

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
ROOT = Path(__file__).resolve().parent.parent
BESIDE_ROWS = 300_000
"""The file imported while the bot answers (`--quick`: 100,000)."""
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


_BESIDE = (
    "import sys\n"
    "from pathlib import Path\n"
    "from plugins.trust.directory import import_directory\n"
    "print('started', flush=True)\n"
    "import_directory(Path(sys.argv[1]), Path(sys.argv[2]))\n"
)


async def _answer_times(file: Path, db: Path) -> tuple[list[float], list[float], float]:
    """The bot's `!case` answer times (s) with no import running, then while another
    process imports `file` into the bot's database; and how long that import took."""
    from bench.corpus import case_command
    from bench.inprocess import CONFIG
    from bot.testing import Harness
    from plugins.cases import Cases
    from plugins.specialties import Specialties
    from plugins.trust import Trust

    async with Harness([Specialties, Cases, Trust], config=CONFIG, db_path=db) as h:
        h.add_room("!room:bench", members=["@dr:bench"])
        count = 0

        async def answer() -> float:
            nonlocal count
            count += 1
            sent = len(h.sent)
            began = time.perf_counter()
            await h.say("@dr:bench", case_command(count), room="!room:bench")
            took = time.perf_counter() - began
            if len(h.sent) == sent:
                raise RuntimeError("a !case got no answer")
            return took

        for _ in range(5):  # warm-up: the first answers load what later ones reuse
            await answer()
        idle = [await answer() for _ in range(50)]
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-c", _BESIDE, str(file), str(db), stdout=asyncio.subprocess.PIPE,
            cwd=ROOT)
        assert proc.stdout is not None
        await proc.stdout.readline()
        began = time.perf_counter()
        finished = asyncio.create_task(proc.wait())
        during: list[float] = []
        while not finished.done():
            during.append(await answer())
            await asyncio.sleep(0.02)  # a busy room: about 40 commands a second
        import_took = time.perf_counter() - began
        if await finished:
            raise RuntimeError("the import beside the bot failed")
    return idle, during, import_took


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


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
    big, small, beside = base / "big.txt", base / "small.txt", base / "beside.txt"
    expected = await asyncio.to_thread(write_extract, big, rows)
    beside_rows = 100_000 if quick else BESIDE_ROWS
    await asyncio.to_thread(write_extract, beside, beside_rows, 3)
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
    bot_db = base / "bot.db"
    await _database(bot_db)
    await asyncio.to_thread(import_directory, beside, bot_db)  # as big: the monthly update
    idle, during, import_took = await _answer_times(beside, bot_db)
    label = f"{rows:,}".replace(",", " ")
    beside_label = f"{beside_rows:,}".replace(",", " ")
    note = (f"{len(during)} answers during a {import_took:.1f} s import of {beside_label} "
            f"rows, against {len(idle)} with no import")
    result.figures += [
        Figure(f"import, {label} rows", "s", took, floor),
        Figure("import throughput", "rows/s", rows / took, rows / floor),
        Figure(f"peak Python heap, {label} rows vs 10 000", "MiB", big_run["heap"],
               small_run["heap"], Target("ratio", "<=", 1.5)),
        Figure(f"peak resident memory, {label} rows vs 10 000", "MiB", big_run["rss"],
               small_run["rss"], Target("ratio", "<=", 1.3)),
        Figure("!case answer during an import, longest", "ms", 1000 * max(during),
               1000 * max(idle), Target("value", "<=", 500), note=note),
        Figure("!case answer during an import, p95", "ms", 1000 * _percentile(during, 0.95),
               1000 * _percentile(idle, 0.95), note=note),
    ]
    result.checks += [
        Check("every physician imported", first.physicians == expected == big_run["physicians"],
              f"{first.physicians} imported, {expected} written"),
        Check("importing twice gives the same table", before == after
              and again.physicians == first.physicians, f"{before} then {after}"),
    ]
    return result
