"""The cases table: ids, event ids, specialty ids, timestamps, status and counts — no text."""

from __future__ import annotations

import dataclasses
import json
import math
import sqlite3
from collections import Counter, OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from bot.storage import Database, Migration
from plugins.cases.model import (
    LISTS,
    MANUAL,
    SUGGESTED,
    WITHDRAWN,
    Case,
    ChartFigures,
)
from plugins.cases.sums import (
    BLOCK,
    DAY,
    PARTS,
    TEXT_METRICS,
    case_sums,
    class_middle,
    lower_median,
    of_cases,
)

CASES_AND_REPLIES = """
    CREATE TABLE cases (
        room_id TEXT NOT NULL,
        number INTEGER NOT NULL,
        root_event_id TEXT NOT NULL UNIQUE,
        card_event_id TEXT,
        poster TEXT NOT NULL,
        specialties TEXT NOT NULL DEFAULT '',
        tag_source TEXT NOT NULL DEFAULT 'none',
        status TEXT NOT NULL DEFAULT 'open',
        opened_at REAL NOT NULL,
        first_reply_at REAL,
        first_reply_by TEXT,
        replies INTEGER NOT NULL DEFAULT 0,
        resolved_at REAL,
        resolved_by TEXT,
        resolution_event_id TEXT,
        accepted_event_id TEXT,
        closed_at REAL,
        taken_by TEXT,
        PRIMARY KEY (room_id, number)
    );
    CREATE INDEX cases_room_status ON cases (room_id, status, opened_at);
    CREATE INDEX cases_room_opened ON cases (room_id, opened_at);
    CREATE TABLE case_replies (
        event_id TEXT PRIMARY KEY,
        room_id TEXT NOT NULL,
        number INTEGER NOT NULL,
        sender TEXT NOT NULL,
        at REAL NOT NULL
    );
    CREATE INDEX case_replies_case ON case_replies (room_id, number)
"""

COUNTED_REPLIES = """
    ALTER TABLE case_replies ADD COLUMN counts INTEGER NOT NULL DEFAULT 0;
    CREATE TRIGGER case_replies_count AFTER INSERT ON case_replies WHEN NEW.counts BEGIN
        UPDATE cases SET replies = replies + 1,
            first_reply_at = COALESCE(first_reply_at, NEW.at),
            first_reply_by = COALESCE(first_reply_by, NEW.sender)
        WHERE room_id = NEW.room_id AND number = NEW.number;
    END
"""


async def drop_taken_by(db: Database) -> None:
    """Who took a case is the volunteers feature's now, kept in its own table.

    The column goes (SQLite 3.35+ drops columns) once no case holds a value; otherwise it
    stays, unread here, so the volunteers' own migration can copy it (cases migrates first).
    """
    if sqlite3.sqlite_version_info < (3, 35):
        return
    columns = {row["name"] for row in await db.fetchall("PRAGMA table_info(cases)")}
    if "taken_by" in columns and not await db.fetchval(
            "SELECT 1 FROM cases WHERE taken_by IS NOT NULL LIMIT 1"):
        await db.execute("ALTER TABLE cases DROP COLUMN taken_by")


TAG_REVIEW = """
    ALTER TABLE cases ADD COLUMN auto_tag TEXT NOT NULL DEFAULT '';
    ALTER TABLE cases ADD COLUMN proposed TEXT NOT NULL DEFAULT '';
    ALTER TABLE cases ADD COLUMN pick_events TEXT NOT NULL DEFAULT '';
    CREATE INDEX cases_card ON cases (room_id, card_event_id);
    CREATE TABLE case_retags (
        room_id TEXT NOT NULL,
        number INTEGER NOT NULL,
        from_tag TEXT NOT NULL,
        to_tag TEXT NOT NULL,
        rank INTEGER NOT NULL,
        at REAL NOT NULL
    );
    CREATE INDEX case_retags_room ON case_retags (room_id, at)
"""


MIGRATIONS = (
    Migration("the cases and the messages of their threads", CASES_AND_REPLIES),
    Migration("replies counted by a trigger (answers only, not the poster's)",
              COUNTED_REPLIES),
    Migration("taken_by moves to the volunteers feature", drop_taken_by),
    Migration("the tagger's first guess, its proposals, and each retag by a member "
              "(specialty ids only), for the accuracy shown by !stats", TAG_REVIEW),
    Migration("who chose a case's specialties and how (the reaction's key, '' for !tag), "
              "for its card", """
    ALTER TABLE cases ADD COLUMN tagged_by TEXT;
    ALTER TABLE cases ADD COLUMN tag_pick TEXT NOT NULL DEFAULT ''
    """),
    Migration("per room and day (and 32-day block) of opening, the counts !stats shows, "
              "kept by triggers as cases change", case_sums),
)


@dataclass(frozen=True, slots=True)
class CaseStats:
    by_status: dict[str, int]
    counted: int
    """Cases that count for the answer rate (all but withdrawn ones)."""
    answered_within_hour: int
    median_first_reply: float | None
    median_resolution: float | None
    """Lower medians (the smaller middle value of an even count), rounded down to the unit
    `human_duration` shows: a minute under an hour, an hour under a day, else a day."""
    per_specialty: list[tuple[str, int, int]]
    """(specialty id or "" for unclassified, opened, resolved), busiest first."""
    tagging: TagFigures

    @property
    def opened(self) -> int:
        return sum(self.by_status.values())


@dataclass(frozen=True, slots=True)
class TagFigures:
    """How the tagger fared with the members, for cases opened in the period."""

    tagged: int
    """Cases the tagger gave a first specialty."""
    changed: int
    """Of those, cases whose first specialty a member then changed."""
    per_specialty: list[tuple[str, int, int]]
    """(the tagger's first specialty, cases, changed), most changed first."""
    moves: list[tuple[str, str, int]]
    """(from, to, retags) by members, most frequent first: what keywords to tune."""
    proposed: int
    """Cases whose tag was proposed for confirmation."""
    as_proposed: int
    """… confirmed with the first proposal."""
    other_proposal: int
    """… confirmed with another proposal."""


_COLUMNS = ", ".join(f.name for f in dataclasses.fields(Case) if f.init)


CACHED = 4096
"""Cases kept in memory (most recently used): a thread message looks its case up by root."""


class CaseStore:
    """The only writer of the cases tables, so it keeps the recent cases in memory: every
    write refreshes the cached copy from the database."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._cache: OrderedDict[tuple[str, int], Case] = OrderedDict()
        self._roots: dict[tuple[str, str], int] = {}
        self._replies: OrderedDict[tuple[str, str], tuple[int, str]] = OrderedDict()
        """(room, event id) -> (case number, sender) of recent thread messages (edits and
        reactions name them); the store writes them, so this copy is current."""
        self._not_roots: OrderedDict[tuple[str, str], None] = OrderedDict()
        """Recent events known not to start a case (replies looked up as roots)."""
        self._opened: dict[tuple[str, int], None] = {}
        """Recent cases this store opened (a row it inserted, not a replay's): every message
        of their threads was recorded through it, so one it has not kept (`_replies`) is
        new and its record needs no trip to the database (`add_reply`)."""

    def _remember(self, case: Case) -> Case:
        key = (case.room_id, case.number)
        self._cache[key] = case
        self._cache.move_to_end(key)
        self._roots[(case.room_id, case.root_event_id)] = case.number
        while len(self._cache) > CACHED:
            _, old = self._cache.popitem(last=False)
            self._roots.pop((old.room_id, old.root_event_id), None)
        return case

    async def _load(self, room_id: str, number: int) -> Case | None:
        row = await self.db.fetchone(
            f"SELECT {_COLUMNS} FROM cases WHERE room_id = ? AND number = ?", (room_id, number))
        return self._remember(Case.from_row(row)) if row else None

    async def _fresh(self, case: Case) -> Case:
        fresh = await self._load(case.room_id, case.number)
        assert fresh is not None
        return fresh

    async def open_case(self, room_id: str, root: str, poster: str,
                        specialties: Sequence[str], tag_source: str, at: float) -> Case:
        """Create the next case of the room (or return the one already made for `root`).
        A `SUGGESTED` case's specialties are also its proposals."""
        # One statement, so atomic: numbering and the unique root need no transaction. Its
        # row comes back only when it is new (a replay's root is already a case: read it).
        self._not_roots.pop((room_id, root), None)
        ids = ",".join(specialties)
        rows = await self.db.fetchall(
            "INSERT OR IGNORE INTO cases (room_id, number, root_event_id, poster, specialties, "
            "tag_source, status, opened_at, auto_tag, proposed) SELECT ?, "
            "COALESCE(MAX(number), 0) + 1, ?, ?, ?, ?, 'open', ?, ?, ? FROM cases "
            f"WHERE room_id = ? RETURNING {_COLUMNS}",
            (room_id, root, poster, ids, tag_source, at, specialties[0] if specialties else "",
             ids if tag_source == SUGGESTED else "", room_id))
        if not rows:
            case = await self.by_root(room_id, root)
            assert case is not None
            return case
        case = self._remember(Case.from_row(rows[0]))
        self._opened[(room_id, case.number)] = None
        while len(self._opened) > CACHED:
            del self._opened[next(iter(self._opened))]
        return case

    async def get(self, room_id: str, number: int) -> Case | None:
        cached = self._cache.get((room_id, number))
        if cached is not None:
            self._cache.move_to_end((room_id, number))
            return cached
        return await self._load(room_id, number)

    async def by_root(self, room_id: str, root: str) -> Case | None:
        number = self._roots.get((room_id, root))
        if number is not None:
            return await self.get(room_id, number)
        if (room_id, root) in self._not_roots or (room_id, root) in self._replies:
            return None  # (a case starts outside any thread: a thread message never does)
        row = await self.db.fetchone(
            f"SELECT {_COLUMNS} FROM cases WHERE room_id = ? AND root_event_id = ?",
            (room_id, root))
        if row:
            return self._remember(Case.from_row(row))
        self._not_roots[(room_id, root)] = None
        if len(self._not_roots) > CACHED:
            self._not_roots.popitem(last=False)
        return None

    def _keep_reply(self, room_id: str, event_id: str, number: int, sender: str) -> None:
        key = (room_id, event_id)
        self._replies[key] = (number, sender)
        self._replies.move_to_end(key)
        while len(self._replies) > 8 * CACHED:
            self._replies.popitem(last=False)

    async def _reply(self, room_id: str, event_id: str) -> tuple[int, str] | None:
        """The case number and sender of a thread message (None: not one)."""
        found = self._replies.get((room_id, event_id))
        if found is None:
            row = await self.db.fetchone(
                "SELECT number, sender FROM case_replies WHERE room_id = ? AND event_id = ?",
                (room_id, event_id))
            if row is None:
                return None
            found = (int(row["number"]), row["sender"])
            self._keep_reply(room_id, event_id, *found)
        return found

    async def by_reply(self, room_id: str, event_id: str) -> Case | None:
        found = await self._reply(room_id, event_id)
        return await self.get(room_id, found[0]) if found else None

    async def sender_of(self, room_id: str, event_id: str) -> str | None:
        """Who posted `event_id`: a case's root or a message of its thread (None: unknown)."""
        case = await self.by_root(room_id, event_id)
        if case is not None:
            return case.poster
        found = await self._reply(room_id, event_id)
        return found[1] if found else None

    async def update(self, case: Case, **changes: Any) -> Case:
        """Set columns of `case`; the result is the cached copy (current: every write goes
        through this store) with the changes, else the row read back."""
        stored = dict(changes)
        for field in LISTS:
            if field in stored:
                stored[field] = ",".join(stored[field])
        sets = ", ".join(f"{k} = ?" for k in stored)
        await self.db.execute_later(
            f"UPDATE cases SET {sets} WHERE room_id = ? AND number = ?",
            (*stored.values(), case.room_id, case.number))
        cached = self._cache.get((case.room_id, case.number))
        if cached is None:
            return await self._fresh(case)
        for field in LISTS:
            if field in changes:
                changes[field] = tuple(changes[field])
        return self._remember(dataclasses.replace(cached, **changes))

    async def by_card(self, room_id: str, card_event_id: str) -> Case | None:
        """The case whose card `card_event_id` is (numbered reactions on it)."""
        number = await self.db.fetchval(
            "SELECT number FROM cases WHERE room_id = ? AND card_event_id = ?",
            (room_id, card_event_id))
        return None if number is None else await self.get(room_id, int(number))

    async def retag(self, case: Case, chosen: Sequence[str], at: float, by: str,
                    pick: str = "") -> Case:
        """Member `by` chose `chosen` for the case (with the reaction `pick`, or `!tag`):
        kept as its tags (`MANUAL`), and counted as (first tag before, first chosen, its rank
        among the proposals or 0)."""
        before = case.specialties[0] if case.specialties else ""
        first = chosen[0] if chosen else ""
        rank = case.proposed.index(first) + 1 if first in case.proposed else 0
        async with self.db.transaction():
            await self.db.execute(
                "INSERT INTO case_retags (room_id, number, from_tag, to_tag, rank, at) "
                "VALUES (?, ?, ?, ?, ?, ?)", (case.room_id, case.number, before, first, rank, at))
            return await self.update(case, specialties=tuple(chosen), tag_source=MANUAL,
                                     tagged_by=by, tag_pick=pick)

    async def add_reply(self, case: Case, event_id: str, sender: str, at: float,
                        counts: bool) -> Case:
        """Record a thread message; `counts` says whether it is an answer (not the poster's).
        A replay's message is recorded once (and counted once, by the trigger): in a case
        this store opened, the messages it kept say so and the write is queued; elsewhere
        the database's row count says so."""
        sql = ("INSERT OR IGNORE INTO case_replies (event_id, room_id, number, sender, at, "
               "counts) VALUES (?, ?, ?, ?, ?, ?)")
        params = (event_id, case.room_id, case.number, sender, at, int(counts))
        if (case.room_id, case.number) not in self._opened:
            added = await self.db.execute(sql, params)
        elif added := (case.room_id, event_id) not in self._replies:
            await self.db.execute_later(sql, params)
        if added:
            self._keep_reply(case.room_id, event_id, case.number, sender)
        cached = self._cache.get((case.room_id, case.number))
        if added and counts:  # the trigger counted it, as below
            if cached is None:
                return await self._fresh(case)
            return self._remember(dataclasses.replace(
                cached, replies=cached.replies + 1,
                first_reply_at=cached.first_reply_at if cached.first_reply_at is not None
                else at, first_reply_by=cached.first_reply_by or sender))
        return cached or await self.get(case.room_id, case.number) or case

    async def responders(self, case: Case) -> list[str]:
        rows = await self.db.fetchall(
            "SELECT sender FROM case_replies WHERE room_id = ? AND number = ? AND sender != ? "
            "GROUP BY sender ORDER BY MIN(at)", (case.room_id, case.number, case.poster))
        return [r["sender"] for r in rows]

    async def listing(self, room_id: str, limit: int, specialty: str | None = None,
                      poster: str | None = None) -> list[Case]:
        query = f"SELECT {_COLUMNS} FROM cases WHERE room_id = ? AND status = 'open'"
        params: list[Any] = [room_id]
        if specialty:
            query += " AND (',' || specialties || ',') LIKE ?"
            params.append(f"%,{specialty},%")
        if poster:
            query += " AND poster = ?"
            params.append(poster)
        query += " ORDER BY opened_at DESC, number DESC LIMIT ?"
        params.append(limit)
        return [Case.from_row(r) for r in await self.db.fetchall(query, params)]

    async def open_counts(self, room_id: str) -> dict[str, int]:
        """How many open cases carry each specialty id."""
        counts: dict[str, int] = {}
        for row in await self.db.fetchall(
                "SELECT specialties, COUNT(*) AS n FROM cases WHERE room_id = ? "
                "AND status = 'open' AND specialties != '' GROUP BY specialties", (room_id,)):
            for spec in row["specialties"].split(","):
                counts[spec] = counts.get(spec, 0) + row["n"]
        return counts

    async def _sums(self, room_id: str, start: float, metrics: Sequence[str]
                    ) -> dict[str, Counter[Any]]:
        """metric -> key -> count over cases opened since `start`: whole 32-day blocks and
        days from the sums, the first partial day from the cases themselves."""
        day = math.ceil(start / DAY)
        block = -(-day // BLOCK) * BLOCK
        marks = ", ".join("?" * len(metrics))
        partial = "c.room_id = ? AND c.opened_at >= ? AND c.opened_at < ?"
        rows = await self.db.fetchall(
            "SELECT metric, key, SUM(n) AS n FROM ("
            "SELECT metric, key, n FROM case_sums WHERE room_id = ? AND span = 1 AND "
            f"metric IN ({marks}) AND start >= ? AND start < ? UNION ALL "
            f"SELECT metric, key, n FROM case_sums WHERE room_id = ? AND span = {BLOCK} AND "
            f"metric IN ({marks}) AND start >= ? UNION ALL "
            f"SELECT metric, key, 1 AS n FROM ({of_cases(partial)}) WHERE metric IN ({marks})"
            ") GROUP BY metric, key",
            (room_id, *metrics, day, block, room_id, *metrics, block,
             *(room_id, start, day * DAY) * PARTS, *metrics))
        found: dict[str, Counter[Any]] = {m: Counter() for m in metrics}
        for row in rows:
            if row["n"] > 0:
                found[row["metric"]][row["key"]] += row["n"]
        return found

    async def stats(self, room_id: str, start: float) -> CaseStats:
        """The room's figures for cases opened since `start`, from the sums (`case_sums`)."""
        sums = await self._sums(room_id, start, TEXT_METRICS)
        by_status = dict(sums["status"])
        spec, resolved = sums["spec"], sums["spec_resolved"]
        auto, changed = sums["auto"], sums["auto_changed"]
        per_tag = sorted(((tag, n, changed[tag]) for tag, n in auto.items()),
                         key=lambda item: (-item[2], -item[1], item[0]))
        moves = sorted(((*json.loads(pair), n) for pair, n in sums["move"].items()),
                       key=lambda item: (-item[2], item[0], item[1]))[:5]
        return CaseStats(
            by_status=by_status,
            counted=sum(by_status.values()) - by_status.get(WITHDRAWN, 0),
            answered_within_hour=sums["fast"][""],
            median_first_reply=lower_median(sums["first"]),
            median_resolution=lower_median(sums["resolution"]),
            per_specialty=sorted(((s, n, resolved[s]) for s, n in spec.items()),
                                 key=lambda item: (-item[1], item[0])),
            tagging=TagFigures(
                tagged=sum(auto.values()), changed=sum(changed.values()), per_specialty=per_tag,
                moves=moves, proposed=sums["proposed"][""],
                as_proposed=sums["as_proposed"][""], other_proposal=sums["other_proposal"][""]),
        )

    async def chart(self, room_id: str, start: float) -> ChartFigures:
        """Cases opened per day and the median delay to a first answer per specialty, for
        cases opened since `start`."""
        day = math.ceil(start / DAY)
        per_day = [(r["day"], r["n"]) for r in await self.db.fetchall(
            "SELECT ? - 1 AS day, COUNT(*) AS n FROM cases WHERE room_id = ? AND opened_at >= ? "
            "AND opened_at < ? UNION ALL SELECT start, SUM(n) FROM case_sums WHERE "
            "room_id = ? AND span = 1 AND metric = 'status' AND start >= ? GROUP BY start",
            (day, room_id, start, day * DAY, room_id, day)) if r["n"] > 0]
        delays: dict[str, Counter[int]] = {}
        for pair, n in (await self._sums(room_id, start, ("spec_first",)))["spec_first"].items():
            spec, low = json.loads(pair)
            delays.setdefault(spec, Counter())[low] += n
        first = [(spec, class_middle(lower_median(counts)), sum(counts.values()))
                 for spec, counts in delays.items()]
        return ChartFigures(per_day, sorted(first, key=lambda item: (-item[2], item[0])))
