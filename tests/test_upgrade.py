"""A database made by casebot's first release (tests/data/first_schema.sql, made by
tests/data/make_first_schema.py from commit 3a9d12c) is migrated by today's code at start,
and its cases, timers, volunteers and room settings survive and keep working."""

from __future__ import annotations

import importlib
import sqlite3
from pathlib import Path

from bot.loading import CORE_MIGRATIONS
from bot.scheduler import MIGRATIONS as TIMER_MIGRATIONS
from bot.testing import Harness
from plugins import DEFAULT_PLUGINS

FIXTURE = Path(__file__).parent / "data" / "first_schema.sql"
ROOM = "!first:test"
PLUGINS = [importlib.import_module(f"plugins.{name}").PLUGIN for name in DEFAULT_PLUGINS]


def first_release_db(tmp_path: Path) -> Path:
    path = tmp_path / "casebot.db"
    conn = sqlite3.connect(path)
    conn.executescript(FIXTURE.read_text(encoding="utf-8"))
    conn.close()
    return path


async def test_first_release_database_is_migrated_and_keeps_its_data(tmp_path: Path) -> None:
    path = first_release_db(tmp_path)
    async with Harness(PLUGINS, db_path=path) as h:
        h.add_room(ROOM, members=["@alice:test", "@bob:test", "@vol:test"])
        versions = {r["component"]: r["version"]
                    for r in await h.db.fetchall("SELECT * FROM schema_version")}
        assert versions["core"] == len(CORE_MIGRATIONS)
        assert versions["timers"] == len(TIMER_MIGRATIONS) == 2
        for cls in PLUGINS:
            assert versions.get(cls.name, 0) == len(cls.migrations), cls.name
        cases = [tuple(r) for r in await h.db.fetchall(
            "SELECT number, specialties, status, poster FROM cases WHERE room_id = ? "
            "ORDER BY number", (ROOM,))]
        assert cases == [(1, "dermato", "open", "@alice:test"),
                         (2, "cardio", "resolved", "@alice:test")]
        timers = {r["key"] for r in await h.db.fetchall("SELECT key FROM timers")}
        assert {"unanswered:!first:test:1", "autoclose:!first:test:1"} <= timers
        # The room setting survived: the room answers in English.
        await h.say("@bob:test", "!cases", room=ROOM)
        listing = h.last().body
        assert listing.startswith("Open cases (1)") and "#1" in listing and "#2" not in listing
        # Old timers fire under the new code: no answer for 4 h → the poster is reminded,
        # in the thread of case 1, in English.
        h.clear()
        await h.advance(4 * 3600 + 1)
        reminders = h.in_thread("$ev2")
        assert reminders and "@alice:test" in reminders[-1].mentions
        # New cases continue the old numbering.
        await h.say("@alice:test", "!case Toux chronique #pneumo", room=ROOM)
        assert (await h.db.fetchval(
            "SELECT max(number) FROM cases WHERE room_id = ?", (ROOM,))) == 3
        # The volunteer registered under the first release is still paged.
        assert await h.db.fetchval(
            "SELECT count(*) FROM volunteers WHERE user_id = '@vol:test'") == 1
