"""`casebot directory import FILE`: load the Annuaire Santé extract into the bot's database.

Runs beside the bot (SQLite in WAL mode: the bot keeps reading the old directory until the
new one is committed). The trust tables are created first if the bot never ran.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import TextIO

from bot.config import Config
from bot.storage import Database
from plugins.trust.directory import DirectoryError, ImportResult, import_directory
from plugins.trust.store import MIGRATIONS

BAR = 30


class ProgressBar:
    """A one-line progress bar on a terminal stream, redrawn when a percent passes."""

    def __init__(self, out: TextIO) -> None:
        self.out = out
        self.shown = -1

    def __call__(self, done: int, total: int) -> None:
        percent = 100 * done // total if total else 100
        if percent == self.shown:
            return
        self.shown = percent
        filled = BAR * percent // 100
        self.out.write(f"\r[{'#' * filled}{'.' * (BAR - filled)}] {percent:3d} %")
        self.out.flush()


async def _prepare(db_path: Path) -> None:
    db = await Database.open(db_path)
    try:
        await db.migrate("trust", MIGRATIONS)
    finally:
        await db.close()


def run_import(config: Config, file: Path, out: TextIO | None = None) -> ImportResult:
    """Import `file` into the configured data directory's database, the progress bar on
    `out` (stderr by default); raises DirectoryError or OSError with a readable message."""
    out = out or sys.stderr
    db_path = config.data_dir / "casebot.db"
    asyncio.run(_prepare(db_path))
    result = import_directory(file, db_path, ProgressBar(out))
    out.write("\n")
    return result


def main(config: Config, file: Path) -> int:
    try:
        result = run_import(config, file)
    except (DirectoryError, OSError, UnicodeError) as exc:
        print(f"casebot: {exc}", file=sys.stderr)
        return 1
    print(f"{result.physicians} physicians imported from {result.rows} rows "
          f"({result.skipped} physician rows without a valid RPPS number or name skipped).")
    return 0
