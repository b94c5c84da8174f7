"""`casebot doctor`: what is wrong with this bot, in plain words, and what to do about it.

Read-only, so it runs beside the bot: no sync, no login, no new device. The configuration is
loaded, the Matrix side is checked with the saved access token (`bot.matrix.inspect`, the
crypto store read from an online copy), then the data directory and the database (opened
read-only). Each finding is `ok`, a `warning` (the bot works with less) or an `error` (it
cannot work); the exit status is 1 when there is an error.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import stat
import time
from collections.abc import Mapping
from pathlib import Path

from bot.backup import MAIN_DB, read_only
from bot.config import Config, ConfigError, Secrets, load
from bot.findings import Finding, Report
from bot.loading import known_plugins, known_schemas, load_plugin_classes
from bot.scheduler import OVERDUE_AFTER, OVERDUE_SQL
from bot.syncstore import HELD_KEY


def check_data_dir(data_dir: Path, report: Report) -> None:
    """Owner-only permissions on the data directory and everything in it."""
    if not data_dir.is_dir():
        report.error("data dir", f"{data_dir} does not exist",
                     "check data_dir, or run `casebot login` (or restore a backup)")
        return
    loose = [p for p in (data_dir, *data_dir.rglob("*"))
             if stat.S_IMODE(p.lstat().st_mode) & 0o077]
    if loose:
        shown = ", ".join(str(p.relative_to(data_dir)) or "." for p in loose[:5])
        report.warning("data dir", f"{len(loose)} path(s) readable by others: {shown}",
                       f"chmod -R go-rwx {data_dir}")
    else:
        report.ok("data dir", f"{data_dir} is owner-only")


def check_database(data_dir: Path, known: Mapping[str, int], report: Report,
                   now: float) -> None:
    """Integrity, schema versions, overdue timers and events waiting for their keys."""
    path = data_dir / MAIN_DB
    if not path.exists():
        report.warning("database", f"no {MAIN_DB} yet", "it is created at the first start")
        return
    try:
        conn = read_only(path)
        try:
            result = [row[0] for row in conn.execute("PRAGMA integrity_check")]
            versions = dict(conn.execute("SELECT component, version FROM schema_version"))
            overdue = conn.execute(OVERDUE_SQL, (now - OVERDUE_AFTER,)).fetchone()[0]
            failing = conn.execute("SELECT count(*) FROM timers WHERE attempts > 0").fetchone()[0]
            pending_raw = conn.execute("SELECT value FROM kv WHERE key = ?",
                                       (HELD_KEY,)).fetchone()
        finally:
            conn.close()
    except sqlite3.Error as exc:
        report.error("database", f"{path} cannot be read ({exc})",
                     "check the file's owner and the disk; restore a backup if it is damaged")
        return
    if result != ["ok"]:
        report.error("database", f"integrity check failed: {'; '.join(result[:3])}",
                     "stop the bot and restore the latest backup (`casebot restore`)")
    else:
        report.ok("database", "integrity check ok")
    newer = {c: v for c, v in versions.items() if c in known and v > known[c]}
    older = {c: v for c, v in versions.items() if c in known and v < known[c]}
    if newer:
        report.error("schema", "written by a newer casebot: " + ", ".join(
            f"{c} {v} (this casebot knows {known[c]})" for c, v in sorted(newer.items())),
            "upgrade casebot, or restore a backup made by this version")
    elif older:
        report.ok("schema", "older than this casebot, migrated at the next start: " + ", ".join(
            f"{c} {v} → {known[c]}" for c, v in sorted(older.items())))
    else:
        report.ok("schema", "up to date: " + ", ".join(
            f"{c} {v}" for c, v in sorted(versions.items())))
    try:
        pending = len(json.loads(pending_raw[0])) if pending_raw else 0
    except (ValueError, TypeError):
        pending = 0
    if pending:
        report.warning("decryption", f"{pending} event(s) wait for their room keys",
                       "senders whose devices do not share keys with the bot get a notice "
                       "after matrix.undecryptable_grace; see the members' devices above")
    else:
        report.ok("decryption", "no event waits for its keys")
    if overdue:
        report.warning("timers", f"{overdue} timer(s) more than {OVERDUE_AFTER / 60:.0f} min "
                       "overdue", "start the bot (`casebot run`); if it runs, its log says why "
                       "the timers are stuck")
    else:
        report.ok("timers", "no timer overdue")
    if failing:
        report.warning("timers", f"{failing} timer(s) failed and will be retried",
                       "the bot's log names the failing timer and the error")


def check_config(path: Path) -> tuple[Config, Secrets, dict[str, int]] | Report:
    """The configuration, its secrets and the schema versions this code knows; or a report
    of its problems (nothing else can be checked without it)."""
    report = Report()
    try:
        config, secrets = load(path, plugin_sections=frozenset(known_plugins()))
        plugins = load_plugin_classes(config)
    except ConfigError as exc:
        for problem in exc.problems:
            report.error("config", problem, f"fix {path} (see config.example.yaml)")
        return report
    return config, secrets, known_schemas(cls for cls, _ in plugins)


async def diagnose(path: Path, insecure_dev: bool = False) -> Report:
    """Every check, in order; later checks are skipped when an earlier one makes them moot."""
    loaded = check_config(path)
    if isinstance(loaded, Report):
        return loaded
    config, secrets, known = loaded
    report = Report()
    report.ok("config", f"{path} is valid")
    pickle_key = secrets.pickle_key
    if not pickle_key and not insecure_dev:
        report.error("secrets", "CASEBOT_PICKLE_KEY is not set: the crypto store cannot be "
                     "opened", "set it in the environment or in .env beside the configuration")
    else:
        from bot.matrix.inspect import INSECURE_DEV_PICKLE_KEY, check_matrix

        await check_matrix(config, pickle_key or INSECURE_DEV_PICKLE_KEY, report)
    check_data_dir(config.data_dir, report)
    await asyncio.to_thread(check_database, config.data_dir, known, report, time.time())
    return report


def main(path: Path, as_json: bool, insecure_dev: bool = False) -> int:
    report = asyncio.run(diagnose(path, insecure_dev))
    print(report.json() if as_json else report.text(), end="")
    return 1 if report.failed else 0


__all__ = ["Finding", "Report", "diagnose", "main"]
