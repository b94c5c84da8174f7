"""Regenerate tests/data/first_schema.sql: a database as casebot's first release made it.

The first release is commit 3a9d12c (2026-11-28, the first with the four default plugins:
specialties, cases, secrecy, volunteers). Run from the repository root:

    rm -rf /tmp/v1 && mkdir /tmp/v1 && git archive 3a9d12c | tar -x -C /tmp/v1
    PYTHONPATH=/tmp/v1 .venv/bin/python tests/data/make_first_schema.py \
        > tests/data/first_schema.sql

It drives that version's own App (its migrations, its commands, on its fake transport) and
dumps the database it wrote: two cases (one resolved), their reminder timers, a volunteer's
page and escalation timer, a room setting. No clinical text is stored, as then.
"""

import asyncio
import sqlite3
import sys
import tempfile
from pathlib import Path

from bot.testing import Harness  # the old version's, through PYTHONPATH
from plugins import DEFAULT_PLUGINS

ROOM = "!first:test"


async def build(path: Path) -> None:
    import importlib

    classes = [importlib.import_module(f"plugins.{n}").PLUGIN for n in DEFAULT_PLUGINS]
    async with Harness(classes, db_path=path) as h:
        h.add_room(ROOM, members=["@alice:test", "@bob:test", "@vol:test"])
        await h.say("@vol:test", "!volunteer dermato", room=ROOM)
        await h.say("@alice:test", "!case Plaques des coudes, psoriasis ? #dermato", room=ROOM)
        second = await h.say("@alice:test", "!case Douleur thoracique atypique #cardio",
                             room=ROOM)
        await h.say("@bob:test", "Un ECG ?", room=ROOM, thread_root=second)
        await h.say("@alice:test", "!resolve 2", room=ROOM)
        await h.app.set_room_setting(ROOM, "language", "en")


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "casebot.db"
        asyncio.run(build(path))
        conn = sqlite3.connect(path)
        sys.stdout.write("\n".join(conn.iterdump()) + "\n")
        conn.close()


if __name__ == "__main__":
    main()
