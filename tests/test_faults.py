"""Fault suites, live on real Synapse processes: the bot stays up and loses nothing.

(a) Synapse stopped and restarted in the middle of a burst of 30 commands: every command is
    answered exactly once when it is back.
(b) A homeserver that answers 429 (its own rc_message limit on, low): replies come late, none
    is lost.
(c) The database turns read-only under the running bot: one clear log line, no crash, no
    flood; once writable again the commands sent meanwhile are answered, once.
(d) The bot stopped while 150 messages (5 commands among them) arrive in one room, more than
    a sync's timeline holds (100): every command within `max_catch_up` is answered after the
    restart (back-fill).

Every outcome is what a physician's client received (replies counted per command thread) or
what the bot's database holds; never a duration.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import logging
import sqlite3
import urllib.error
import urllib.request
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from bot.config import RateLimitConfig
from bot.homeserver import LocalSynapse
from bot.i18n import CORE_STRINGS
from bot.matrix import UserClient
from bot.storage import Database
from tests.support.live import BotHandle, Live, live_session, survive_outages

pytestmark = [pytest.mark.live, pytest.mark.faults]

INTERNAL = tuple(CORE_STRINGS["internal_error"][lang].split(",")[0] for lang in ("fr", "en"))
HELP = "!help"
"""Every help reply (whatever its sections) shows the usage of !help itself."""
OPEN = RateLimitConfig(commands=1000)
"""The bot's own per-user command limit, out of the way: these tests count every reply."""


# ---- helpers ------------------------------------------------------------------------------
def bot_replies(alice: UserClient, bot: BotHandle, roots: Sequence[str]) -> Counter[str]:
    wanted = set(roots)
    return Counter(e.answer_to for e in alice.seen
                   if e.sender == bot.user_id and e.answer_to in wanted)


async def all_answered(alice: UserClient, bot: BotHandle, roots: Sequence[str],
                       timeout: float = 60.0) -> None:
    """Wait (at most `timeout` s in all) until every root has a bot reply in its thread;
    fail naming those without."""
    wanted = set(roots)
    try:
        await alice.wait_for(lambda _: wanted <= set(bot_replies(alice, bot, roots)),
                             timeout=timeout)
    except TimeoutError:
        got = bot_replies(alice, bot, roots)
        missing = [i for i, r in enumerate(roots) if not got[r]]
        pytest.fail(f"{len(missing)} of {len(roots)} commands never answered "
                    f"(positions {missing})")


async def exactly_once(alice: UserClient, bot: BotHandle, roots: Sequence[str],
                       expect: str = HELP) -> None:
    """Every root answered once (after a pause that lets a duplicate show up)."""
    await asyncio.sleep(3)
    got = bot_replies(alice, bot, roots)
    assert all(got[r] == 1 for r in roots), \
        f"replies per command: {[got[r] for r in roots]}"
    bodies = [e.body for e in alice.seen if e.sender == bot.user_id]
    assert not [b for b in bodies if b.startswith(INTERNAL)], "an internal error was shown"
    for root in roots:
        reply = next(e for e in alice.seen
                     if e.sender == bot.user_id and e.answer_to == root)
        assert reply.decrypted and expect in reply.body, reply.body[:200]


async def open_bot(live: Live, plugins: Sequence[str] | None = (), **sections: Any
                   ) -> BotHandle:
    bot = live.bot_config(plugins=plugins, **sections)
    bot.config = dataclasses.replace(bot.config, rate_limit=OPEN)
    await bot.start()
    return bot


class Records(logging.Handler):
    """Log records of the in-process bot (its own loggers, not nio's)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.name.split(".")[0] in ("bot", "plugins"):
            self.records.append(record)

    def since(self, start: int, level: int = logging.WARNING) -> list[str]:
        return [f"{r.levelname} {r.name}: {r.getMessage()}" for r in self.records[start:]
                if r.levelno >= level]


async def met_the_fault(records: Records, mark: int, timeout: float = 30.0) -> list[str]:
    """The bot's warnings since `mark`, once it logged one (it meets a fault): at most
    `timeout` s."""
    for _ in range(int(timeout * 10)):
        if records.since(mark):
            break
        await asyncio.sleep(0.1)
    return records.since(mark)


@pytest.fixture
def records() -> Iterator[Records]:
    handler = Records()
    root = logging.getLogger()
    levels = {name: logging.getLogger(name).level for name in ("bot", "plugins")}
    root.addHandler(handler)
    for name in levels:
        logging.getLogger(name).setLevel(logging.INFO)
    try:
        yield handler
    finally:
        root.removeHandler(handler)
        for name, level in levels.items():
            logging.getLogger(name).setLevel(level)


# ---- (a) homeserver restart in the middle of a burst --------------------------------------
async def test_homeserver_restart_mid_burst_answers_every_command_once(
        live: Live, synapse: LocalSynapse) -> None:
    bot = await open_bot(live)
    alice = await live.physician("alice")
    survive_outages(alice)  # the physician's client waits for the homeserver; the bot may not
    room = await live.room_with(alice, bot)
    roots: list[str] = []
    ten_sent = asyncio.Event()

    async def burst() -> None:
        for i in range(30):
            roots.append(await alice.say(room, "!help" if i % 2 else "!aide"))
            if len(roots) == 10:
                ten_sent.set()

    sender = asyncio.create_task(burst())
    try:
        await asyncio.wait_for(ten_sent.wait(), timeout=60)
        await asyncio.to_thread(synapse.halt)  # commands in flight, replies being sent
        await asyncio.sleep(4)  # long enough for the bot's sends and syncs to fail
        await asyncio.to_thread(synapse.resume)
        await asyncio.wait_for(sender, timeout=120)
    finally:
        if not synapse.running:
            await asyncio.to_thread(synapse.resume)
        if not sender.done():
            sender.cancel()
    assert len(roots) == 30
    await all_answered(alice, bot, roots, timeout=60)
    await exactly_once(alice, bot, roots)
    assert bot.task is not None and not bot.task.done(), "the bot stopped"


# ---- (b) a homeserver that answers 429 ----------------------------------------------------
@pytest.fixture(scope="module")
def limited() -> Iterator[LocalSynapse]:
    """A Synapse of its own whose message rate limit is on, and low."""
    with LocalSynapse(limits={"rc_message": {"per_second": 1, "burst_count": 3}}) as hs:
        yield hs


@pytest.fixture
async def live_limited(limited: LocalSynapse, tmp_path: Path) -> AsyncIterator[Live]:
    async with live_session(limited, tmp_path) as session:
        yield session


def _send_raw(hs: LocalSynapse, token: str, room: str, n: int) -> list[int]:
    """Send `n` messages as fast as possible, without retries; return the HTTP statuses."""
    statuses = []
    for _ in range(n):
        req = urllib.request.Request(
            f"{hs.url}/_matrix/client/v3/rooms/{room}/send/m.room.message/{uuid.uuid4().hex}",
            method="PUT", data=json.dumps({"msgtype": "m.text", "body": "x"}).encode(),
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=10) as resp:
                statuses.append(resp.status)
        except urllib.error.HTTPError as err:
            statuses.append(err.code)
    return statuses


async def test_rate_limited_homeserver_replies_late_none_lost(
        live_limited: Live, limited: LocalSynapse) -> None:
    live = live_limited
    probe = await live.physician("probe")
    assert probe.client is not None
    probe_room = await probe.create_room("probe", encrypted=False)
    statuses = await asyncio.to_thread(_send_raw, limited, str(probe.client.access_token),
                                       probe_room, 8)
    assert 429 in statuses, f"the homeserver does not rate-limit: {statuses}"

    bot = await open_bot(live)
    alice = await live.physician("alice")
    await asyncio.to_thread(limited.exempt_from_rate_limits, alice.user_id)
    rooms = [await live.room_with(alice, bot) for _ in range(3)]
    roots: list[str] = []
    for i in range(4):  # 12 commands over 3 rooms: the bot's replies compete for the limit
        for room in rooms:
            roots.append(await alice.say(room, "!help" if i % 2 else "!aide"))
    await all_answered(alice, bot, roots, timeout=90)
    await exactly_once(alice, bot, roots)
    assert bot.task is not None and not bot.task.done(), "the bot stopped"


# ---- (c) the database becomes read-only, the disk full ---------------------------------------
CASES = [
    "!case Homme 58 ans, toux sèche depuis 3 mois, tabagisme ancien. Scanner ? #pneumo",
    "!case Femme 30 ans, céphalées matinales récentes, examen normal. Imagerie ? #neuro",
    "!case Enfant 6 ans, eczéma des plis résistant aux émollients. Traitement ? #dermato",
    "!case Homme 70 ans, FA découverte fortuitement, CHA2DS2-VASc 3. Anticoagulant ? #cardio",
    "!case Femme 45 ans, TSH à 8 sans symptôme. Traiter ? #endocrino",
]


@pytest.fixture
async def databases(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[dict[Path, Database]]:
    """Every database the bot opens, by path (to make the in-process bot's one unwritable).

    Closed at the end whatever happened: a bot that died without closing its database
    would leave aiosqlite's thread running and the test process could never exit."""
    opened: dict[Path, Database] = {}
    real_open = Database.open

    async def spy(cls: type[Database], path: Path | str) -> Database:
        db = await real_open(path)
        opened[Path(path)] = db
        return db

    monkeypatch.setattr(Database, "open", classmethod(spy))
    yield opened
    for db in opened.values():
        with contextlib.suppress(Exception):
            await asyncio.wait_for(db.close(), timeout=10)


class DatabaseFault:
    """Writes of the in-process bot's own connection fail as SQLite would make them fail.

    - "read-only": `PRAGMA query_only`, so every write gets SQLITE_READONLY, what SQLite says
      of a read-only file (chmod cannot do it: the tests may run as root);
    - "disk full": every INSERT/UPDATE/DELETE raises SQLITE_FULL (SQLite's "database or disk
      is full"), what a full disk gives; reads keep working, as on a full disk.
    """

    WORDS = {"read-only": ("read-only", "readonly", "lecture seule"),
             "disk full": ("disk full", "full", "plein")}

    def __init__(self, kind: str, db: Database) -> None:
        self.kind = kind
        self.db = db
        self.conn = db._conn

    async def on(self) -> None:
        if self.kind == "read-only":
            await self.conn.execute_fetchall("PRAGMA query_only = ON")
            return
        real = self.db._statement

        def failing(conn: sqlite3.Connection, sql: str, *args: Any) -> sqlite3.Cursor:
            """Every statement runs here, in aiosqlite's thread (queued writes too)."""
            if sql.lstrip().split(" ", 1)[0].upper() in ("INSERT", "UPDATE", "DELETE",
                                                         "REPLACE"):
                exc = sqlite3.OperationalError("database or disk is full")
                exc.sqlite_errorcode = sqlite3.SQLITE_FULL
                exc.sqlite_errorname = "SQLITE_FULL"
                raise exc
            return real(conn, sql, *args)

        self.db._statement = failing  # type: ignore[method-assign]

    async def off(self) -> None:
        if self.kind == "read-only":
            await self.conn.execute_fetchall("PRAGMA query_only = OFF")
        vars(self.db).pop("_statement", None)

    def named_in(self, line: str) -> bool:
        return any(word in line.lower() for word in self.WORDS[self.kind])


@pytest.mark.parametrize("kind", ["read-only", "disk full"])
async def test_unwritable_database_one_log_line_no_crash_nothing_lost(
        live: Live, databases: dict[Path, Database], records: Records, kind: str) -> None:
    bot = await open_bot(live, plugins=["specialties", "cases"])  # cases write the database
    fault = DatabaseFault(kind, databases[bot.config.data_dir / "casebot.db"])
    alice = await live.physician("alice")
    room = await live.room_with(alice, bot)
    first = await alice.say(room, "!case Femme 52 ans, HTA résistante sous trithérapie. "
                                  "Bilan ? #cardio")
    await alice.wait_for(lambda e: e.sender == bot.user_id and e.answer_to == first
                         and e.body.startswith("Cas #1"))

    mark = len(records.records)
    await fault.on()
    try:
        roots = [await alice.say(room, text) for text in CASES]
        await met_the_fault(records, mark)
        await asyncio.sleep(4)  # two retries (1 s, then 2 s apart): no crash, no line each
        during = records.since(mark)
        assert bot.task is not None and not bot.task.done(), "the bot stopped"
    finally:
        await fault.off()

    assert during, f"nothing logged while the database was {kind}"
    assert any(fault.named_in(line) for line in during), during
    assert not [line for line in during if "failed (ref" in line], \
        f"handlers failed instead of waiting: {during[:3]}"
    assert len(during) <= 2, f"{len(during)} log lines in 4 s: {during[:5]}"

    await all_answered(alice, bot, roots, timeout=60)
    await asyncio.sleep(3)
    cards = Counter(e.answer_to for e in alice.seen
                    if e.sender == bot.user_id and e.answer_to in roots
                    and e.body.startswith("Cas #"))
    assert all(cards[r] == 1 for r in roots), [cards[r] for r in roots]
    bodies = [e.body for e in alice.seen if e.sender == bot.user_id]
    assert not [b for b in bodies if b.startswith(INTERNAL)], "an internal error was shown"
    assert bot.task is not None and not bot.task.done(), "the bot stopped"

    after = await alice.say(room, "!help")
    await all_answered(alice, bot, [after], timeout=30)
    await bot.stop()
    with sqlite3.connect(bot.config.data_dir / "casebot.db") as conn:
        numbers = sorted(n for (n,) in conn.execute(
            "SELECT number FROM cases WHERE room_id = ?", (room,)))
        handled = {e for (e,) in conn.execute("SELECT event_id FROM handled_events")}
    assert numbers == [1, 2, 3, 4, 5, 6]
    assert set(roots) <= handled


async def test_stop_while_database_unwritable_still_closes_it(
        live: Live, databases: dict[Path, Database], records: Records) -> None:
    """SIGTERM on a bad day: the bot stops cleanly and closes its database, or aiosqlite's
    (non-daemon) thread would keep `casebot run` from ever exiting."""
    bot = await open_bot(live, plugins=["specialties", "cases"])
    db = databases[bot.config.data_dir / "casebot.db"]
    alice = await live.physician("alice")
    room = await live.room_with(alice, bot)
    root = await alice.say(room, "!help")
    await all_answered(alice, bot, [root])
    fault = DatabaseFault("read-only", db)
    mark = len(records.records)
    await fault.on()
    try:
        await alice.say(room, "!help")  # a batch in hand, its token not yet written
        assert await met_the_fault(records, mark), "the bot never met the read-only database"
        await bot.stop()  # raises if the shutdown failed
    finally:
        with contextlib.suppress(Exception):
            await fault.off()
    assert db._conn._connection is None, "the database was left open"
    thread = db._conn._thread
    if thread is not None:  # its worker ends just after the close completes
        await asyncio.to_thread(thread.join, 10)
        assert not thread.is_alive(), "the database's thread kept running"


# ---- (d) 150 messages while the bot is away -------------------------------------------------
async def test_catch_up_beyond_one_sync_timeline_answers_every_command(live: Live) -> None:
    bot = await open_bot(live)
    alice = await live.physician("alice")
    room = await live.room_with(alice, bot)
    warm = await alice.say(room, "!help")
    await all_answered(alice, bot, [warm])
    await bot.stop()

    commands = {5, 40, 75, 110, 145}  # two of them older than the last 100 events
    roots: list[str] = []
    for i in range(150):
        if i in commands:
            roots.append(await alice.say(room, "!help" if len(roots) % 2 else "!aide"))
        else:
            await alice.say(room, f"Message {i} de la discussion, sans commande.")
    await bot.start()
    await all_answered(alice, bot, roots, timeout=60)
    await exactly_once(alice, bot, roots)
