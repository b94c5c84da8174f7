"""Volunteer tables: who volunteers for what, their availability, the pages sent and the
cases followed (from the case events: this feature never reads the cases tables).

Only ids, specialty ids, times and counts are stored: never any clinical text.
"""

from __future__ import annotations

import dataclasses
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from bot.storage import Database, Migration
from plugins.cases.model import Case

FOREVER = 1e18
"""`away_until` of someone away with no end date."""

VOLUNTEERS_AND_PAGES = """
    CREATE TABLE volunteers (
        room_id TEXT NOT NULL,
        user_id TEXT NOT NULL,
        specialty TEXT NOT NULL,
        since REAL NOT NULL,
        PRIMARY KEY (room_id, user_id, specialty)
    );
    CREATE INDEX volunteers_specialty ON volunteers (room_id, specialty);
    CREATE TABLE volunteer_prefs (
        user_id TEXT PRIMARY KEY,
        away_until REAL,
        quiet_start INTEGER,
        quiet_end INTEGER,
        tz TEXT,
        urgent INTEGER NOT NULL DEFAULT 0
    );
    CREATE TABLE volunteer_rotation (
        room_id TEXT NOT NULL,
        user_id TEXT NOT NULL,
        last_paged_at REAL NOT NULL,
        turn INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (room_id, user_id)
    );
    CREATE TABLE volunteer_pages (
        room_id TEXT NOT NULL,
        number INTEGER NOT NULL,
        user_id TEXT NOT NULL,
        round INTEGER NOT NULL,
        at REAL NOT NULL,
        PRIMARY KEY (room_id, number, user_id)
    );
    CREATE INDEX volunteer_pages_user ON volunteer_pages (user_id, at)
"""

PAGING_STATE = """
    CREATE TABLE volunteer_cases (
        room_id TEXT NOT NULL,
        number INTEGER NOT NULL,
        specialties TEXT NOT NULL DEFAULT '',
        urgent INTEGER NOT NULL DEFAULT 0,
        round INTEGER NOT NULL DEFAULT 1,
        due REAL,
        stopped INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (room_id, number)
    );
    CREATE TABLE volunteer_page_events (
        event_id TEXT PRIMARY KEY,
        room_id TEXT NOT NULL,
        number INTEGER NOT NULL
    )
"""

FOLLOWED_CASES = """
    ALTER TABLE volunteer_cases RENAME COLUMN specialties TO considered;
    ALTER TABLE volunteer_cases ADD COLUMN root_event_id TEXT NOT NULL DEFAULT '';
    ALTER TABLE volunteer_cases ADD COLUMN card_event_id TEXT;
    ALTER TABLE volunteer_cases ADD COLUMN poster TEXT NOT NULL DEFAULT '';
    ALTER TABLE volunteer_cases ADD COLUMN tags TEXT NOT NULL DEFAULT '';
    ALTER TABLE volunteer_cases ADD COLUMN open INTEGER NOT NULL DEFAULT 1;
    ALTER TABLE volunteer_cases ADD COLUMN replied INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE volunteer_cases ADD COLUMN taken_by TEXT;
    CREATE INDEX volunteer_cases_root ON volunteer_cases (room_id, root_event_id);
    CREATE INDEX volunteer_cases_card ON volunteer_cases (room_id, card_event_id);
    CREATE TABLE volunteer_replies (
        event_id TEXT PRIMARY KEY,
        room_id TEXT NOT NULL,
        number INTEGER NOT NULL,
        user_id TEXT NOT NULL,
        at REAL NOT NULL
    );
    CREATE INDEX volunteer_replies_case ON volunteer_replies (room_id, number, user_id)
"""


async def adopt_cases(db: Database) -> None:
    """A database from before the case events: copy once from the cases tables (when they
    exist) what this feature now keeps itself — each case's event ids, poster, tags, state
    and who took it (`taken_by`, while the cases table still has it), and colleagues'
    replies. From then on it comes only from the events; the cases tables are never read."""
    if not await db.fetchval("SELECT 1 FROM sqlite_master WHERE type = 'table' "
                             "AND name = 'cases'"):
        return
    columns = {row["name"] for row in await db.fetchall("PRAGMA table_info(cases)")}
    taken = "c.taken_by" if "taken_by" in columns else "NULL"
    await db.execute(
        "INSERT INTO volunteer_cases (room_id, number, considered, round, root_event_id, "
        "card_event_id, poster, tags, open, replied, taken_by) "
        "SELECT c.room_id, c.number, c.specialties, COALESCE((SELECT MAX(p.round) "
        "FROM volunteer_pages p WHERE p.room_id = c.room_id AND p.number = c.number), 1), "
        "c.root_event_id, c.card_event_id, c.poster, c.specialties, c.status = 'open', "
        f"c.replies > 0, {taken} FROM cases c WHERE true "
        "ON CONFLICT (room_id, number) DO UPDATE SET root_event_id = excluded.root_event_id, "
        "card_event_id = excluded.card_event_id, poster = excluded.poster, "
        "tags = excluded.tags, open = excluded.open, replied = excluded.replied, "
        "taken_by = excluded.taken_by")
    await db.execute(
        "INSERT OR IGNORE INTO volunteer_replies (event_id, room_id, number, user_id, at) "
        "SELECT r.event_id, r.room_id, r.number, r.sender, r.at FROM case_replies r "
        "JOIN cases c ON c.room_id = r.room_id AND c.number = r.number "
        "WHERE r.sender != c.poster")


AWAITING_TAG = """
    ALTER TABLE volunteer_cases ADD COLUMN awaiting INTEGER NOT NULL DEFAULT 0
"""


MIGRATIONS = (
    Migration("who volunteers for what, their availability, the rotation, the pages sent",
              VOLUNTEERS_AND_PAGES),
    Migration("where the paging of each case stands; the page messages (for reactions)",
              PAGING_STATE),
    Migration("the cases followed, kept from the case events (ids, poster, tags, state, "
              "taken_by); colleagues' replies for the stats", FOLLOWED_CASES),
    Migration("copy once from the cases tables what the volunteers now keep themselves",
              adopt_cases),
    Migration("whether a case's proposed specialties await confirmation", AWAITING_TAG),
)


@dataclass(frozen=True, slots=True)
class Prefs:
    """One person's availability (the same in every room)."""

    user_id: str
    away_until: float | None = None
    quiet: tuple[int, int] | None = None
    """Quiet hours as (start, end) minutes after local midnight; end < start spans midnight."""
    tz: str | None = None
    urgent: bool = False


@dataclass(frozen=True, slots=True)
class Followed:
    """A case as this feature follows it (from the case events), and where its paging stands."""

    room_id: str
    number: int
    root_event_id: str
    card_event_id: str | None
    poster: str
    tags: tuple[str, ...]
    """The case's specialties (named in the pages)."""
    considered: tuple[str, ...]
    """Specialties whose volunteers were already considered (retagging pages only new ones)."""
    urgent: bool
    round: int
    """The round last paged."""
    due: float | None
    """When the current escalation timer is due: an older one that fires is superseded."""
    stopped: bool
    """A colleague showed interest (🙋 / 👀): no more escalation."""
    open: bool
    replied: bool
    """Someone other than the poster answered in the thread."""
    taken_by: str | None
    awaiting: bool = False
    """Its tags are proposals nobody confirmed yet: only `considered` ones are paged."""

    @property
    def paging_tags(self) -> tuple[str, ...]:
        """The specialties its pages are for: its tags, or while they await confirmation
        the one(s) already paged for (the best guess, once the wait is over)."""
        return self.considered if self.awaiting else self.tags

    @property
    def escalating(self) -> bool:
        """Whether a colleague is still awaited: open, unanswered, untaken, no interest."""
        return self.open and not (self.replied or self.taken_by or self.stopped)


_FOLLOWED = ("room_id, number, root_event_id, card_event_id, poster, tags, considered, urgent, "
             "round, due, stopped, open, replied, taken_by, awaiting")


def _ids(text: str) -> tuple[str, ...]:
    return tuple(s for s in text.split(",") if s)


def _followed(row: Any) -> Followed:
    return Followed(row["room_id"], int(row["number"]), row["root_event_id"],
                    row["card_event_id"], row["poster"], _ids(row["tags"]),
                    _ids(row["considered"]), bool(row["urgent"]), int(row["round"]), row["due"],
                    bool(row["stopped"]), bool(row["open"]), bool(row["replied"]),
                    row["taken_by"], bool(row["awaiting"]))


def _prefs(user_id: str, row: Any) -> Prefs:
    """A volunteer's preferences from a row of volunteer_prefs columns (None: defaults)."""
    if row is None:
        return Prefs(user_id)
    quiet = None
    if row["quiet_start"] is not None and row["quiet_end"] is not None:
        quiet = (int(row["quiet_start"]), int(row["quiet_end"]))
    return Prefs(user_id, row["away_until"], quiet, row["tz"], bool(row["urgent"]))


CACHED = 4096
"""Cases whose followed state and pages are kept in memory (the store is their only writer)."""


class VolunteerStore:
    def __init__(self, db: Database) -> None:
        self.db = db
        self._followed: OrderedDict[tuple[str, int], Followed | None] = OrderedDict()
        self._paged: OrderedDict[tuple[str, int], list[str]] = OrderedDict()
        self._rounds: OrderedDict[tuple[str, int], dict[int, list[str]]] = OrderedDict()
        """Who each round paged, for the cases followed since the start (this store is the
        only writer of the pages: each is complete)."""
        self._enlisted: dict[str, frozenset[str]] = {}
        self._highest: dict[str, int] = {}
        """Per room, the highest case number followed (read once): cases are numbered
        upwards and never deleted, so a case above it has no row yet (`follow`)."""

    @staticmethod
    def _keep(cache: OrderedDict[tuple[str, int], Any], key: tuple[str, int],
              value: Any) -> None:
        cache[key] = value
        cache.move_to_end(key)
        while len(cache) > CACHED:
            cache.popitem(last=False)

    # ---- who volunteers ------------------------------------------------------------------
    async def enlisted(self, room_id: str) -> frozenset[str]:
        """The room's volunteers (of any specialty), kept in memory until they change."""
        found = self._enlisted.get(room_id)
        if found is None:
            rows = await self.db.fetchall(
                "SELECT DISTINCT user_id FROM volunteers WHERE room_id = ?", (room_id,))
            found = self._enlisted[room_id] = frozenset(r["user_id"] for r in rows)
        return found

    async def add(self, room_id: str, user_id: str, specialties: Iterable[str],
                  at: float) -> None:
        self._enlisted.pop(room_id, None)
        await self.db.executemany(
            "INSERT OR IGNORE INTO volunteers (room_id, user_id, specialty, since) "
            "VALUES (?, ?, ?, ?)", [(room_id, user_id, s, at) for s in specialties])

    async def remove(self, room_id: str, user_id: str,
                     specialties: Sequence[str] | None = None) -> int:
        self._enlisted.pop(room_id, None)
        if specialties is None:
            return await self.db.execute(
                "DELETE FROM volunteers WHERE room_id = ? AND user_id = ?", (room_id, user_id))
        marks = ", ".join("?" for _ in specialties)
        return await self.db.execute(
            f"DELETE FROM volunteers WHERE room_id = ? AND user_id = ? "
            f"AND specialty IN ({marks})", (room_id, user_id, *specialties))

    async def drop_specialty(self, room_id: str, specialty: str) -> list[str]:
        """Unregister every volunteer of `specialty` in the room; who they were."""
        self._enlisted.pop(room_id, None)
        async with self.db.transaction():
            rows = await self.db.fetchall(
                "SELECT user_id FROM volunteers WHERE room_id = ? AND specialty = ? "
                "ORDER BY user_id", (room_id, specialty))
            await self.db.execute("DELETE FROM volunteers WHERE room_id = ? AND specialty = ?",
                                  (room_id, specialty))
        return [r["user_id"] for r in rows]

    async def of_user(self, room_id: str, user_id: str) -> list[str]:
        rows = await self.db.fetchall(
            "SELECT specialty FROM volunteers WHERE room_id = ? AND user_id = ? "
            "ORDER BY specialty", (room_id, user_id))
        return [r["specialty"] for r in rows]

    async def listing(self, room_id: str) -> list[tuple[str, str]]:
        """(specialty, user) pairs of the room, by specialty then user."""
        rows = await self.db.fetchall(
            "SELECT specialty, user_id FROM volunteers WHERE room_id = ? "
            "ORDER BY specialty, user_id", (room_id,))
        return [(r["specialty"], r["user_id"]) for r in rows]

    async def candidates(self, room_id: str, specialties: Sequence[str], since: float
                         ) -> list[tuple[Prefs, int]]:
        """Volunteers of any of `specialties` with their preferences and how many pages they
        got since `since` (all rooms), least recently paged here first, then by id — in one
        query, as it runs for every new case.

        People paged in the same round share a time; `turn` keeps the order they were picked
        in, so the rotation is a true queue rather than favouring low ids.
        """
        if not specialties:
            return []
        marks = ", ".join("?" for _ in specialties)
        rows = await self.db.fetchall(
            "SELECT v.user_id, COALESCE(MAX(r.last_paged_at), 0) AS last, "
            "COALESCE(MAX(r.turn), 0) AS turn, p.away_until, p.quiet_start, p.quiet_end, "
            "p.tz, p.urgent, (SELECT COUNT(*) FROM volunteer_pages g "
            "WHERE g.user_id = v.user_id AND g.at > ?) AS pages FROM volunteers v "
            "LEFT JOIN volunteer_rotation r ON r.room_id = v.room_id AND r.user_id = v.user_id "
            "LEFT JOIN volunteer_prefs p ON p.user_id = v.user_id "
            f"WHERE v.room_id = ? AND v.specialty IN ({marks}) "
            "GROUP BY v.user_id ORDER BY last, turn, v.user_id",
            (since, room_id, *specialties))
        return [(_prefs(r["user_id"], r), int(r["pages"])) for r in rows]

    # ---- availability --------------------------------------------------------------------
    async def prefs(self, user_id: str) -> Prefs:
        row = await self.db.fetchone(
            "SELECT away_until, quiet_start, quiet_end, tz, urgent FROM volunteer_prefs "
            "WHERE user_id = ?", (user_id,))
        return _prefs(user_id, row)

    async def set_prefs(self, user_id: str, **changes: Any) -> None:
        """Change columns of `volunteer_prefs` (away_until, quiet_start, quiet_end, tz, urgent)."""
        async with self.db.transaction():
            await self.db.execute(
                "INSERT OR IGNORE INTO volunteer_prefs (user_id) VALUES (?)", (user_id,))
            sets = ", ".join(f"{k} = ?" for k in changes)
            await self.db.execute(f"UPDATE volunteer_prefs SET {sets} WHERE user_id = ?",
                                  (*changes.values(), user_id))

    # ---- pages -----------------------------------------------------------------------------
    async def record(self, room_id: str, number: int, users: Sequence[str], round_: int,
                     at: float) -> None:
        key = (room_id, number)
        known = self._paged.pop(key, None)
        if known is not None:  # rounds only grow: this round's names go last, sorted
            self._keep(self._paged, key, known + sorted(set(users) - set(known)))
        async with self.db.transaction():
            for user in users:
                await self.db.execute(
                    "INSERT OR IGNORE INTO volunteer_pages (room_id, number, user_id, round, at) "
                    "VALUES (?, ?, ?, ?, ?)", (room_id, number, user, round_, at))
                await self.db.execute(
                    "INSERT INTO volunteer_rotation (room_id, user_id, last_paged_at, turn) "
                    "VALUES (?1, ?2, ?3, (SELECT COALESCE(MAX(turn), 0) + 1 "
                    "FROM volunteer_rotation WHERE room_id = ?1)) "
                    "ON CONFLICT(room_id, user_id) DO UPDATE SET "
                    "last_paged_at = excluded.last_paged_at, turn = excluded.turn",
                    (room_id, user, at))
        rounds = self._rounds.get(key)
        if rounds is not None:  # a member is paged once per case: later rounds ignore them
            before = {u for names in rounds.values() for u in names}
            rounds[round_] = sorted({*rounds.get(round_, ()), *(set(users) - before)})

    async def paged(self, room_id: str, number: int) -> list[str]:
        key = (room_id, number)
        found = self._paged.get(key)
        if found is None:
            rows = await self.db.fetchall(
                "SELECT user_id FROM volunteer_pages WHERE room_id = ? AND number = ? "
                "ORDER BY round, user_id", (room_id, number))
            found = [r["user_id"] for r in rows]
            self._keep(self._paged, key, found)
        return list(found)

    async def paged_in_round(self, room_id: str, number: int, round_: int) -> list[str]:
        rounds = self._rounds.get((room_id, number))
        if rounds is not None:
            return list(rounds.get(round_, ()))
        rows = await self.db.fetchall(
            "SELECT user_id FROM volunteer_pages WHERE room_id = ? AND number = ? AND round = ? "
            "ORDER BY user_id", (room_id, number, round_))
        return [r["user_id"] for r in rows]

    async def add_page_event(self, room_id: str, number: int, event_id: str) -> None:
        await self.db.execute_later(
            "INSERT OR IGNORE INTO volunteer_page_events (event_id, room_id, number) "
            "VALUES (?, ?, ?)", (event_id, room_id, number))

    # ---- the cases followed ----------------------------------------------------------------
    async def follow(self, case: Case, considered: Sequence[str], urgent: bool,
                     round_: int = 1) -> None:
        """Start following a new case (a replay keeps the row already there)."""
        key = (case.room_id, case.number)
        self._followed.pop(key, None)
        highest = self._highest.get(case.room_id)
        if highest is None:
            found = await self.db.fetchval(
                "SELECT MAX(number) FROM volunteer_cases WHERE room_id = ?", (case.room_id,), 0)
            highest = max(int(found), self._highest.get(case.room_id, 0))
        sql = ("INSERT OR IGNORE INTO volunteer_cases (room_id, number, root_event_id, "
               "card_event_id, poster, tags, considered, urgent, round, open, replied, "
               "taken_by, awaiting) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, ?)")
        params = (case.room_id, case.number, case.root_event_id, case.card_event_id,
                  case.poster, ",".join(case.specialties), ",".join(considered), int(urgent),
                  round_, int(case.is_open), int(case.replies > 0), int(case.awaiting_tag))
        self._highest[case.room_id] = max(highest, case.number)
        if case.number > highest:  # new: its row is queued (no trip)
            await self.db.execute_later(sql, params)
            added = True
        else:  # a replay's case, perhaps followed already: the row count says
            added = bool(await self.db.execute(sql, params))
        if added:
            self._keep(self._paged, key, [])  # a case followed from now on: no page yet
            self._keep(self._rounds, key, {})
            self._keep(self._followed, key, Followed(
                case.room_id, case.number, case.root_event_id, case.card_event_id,
                case.poster, case.specialties, tuple(considered), urgent, round_, None, False,
                case.is_open, case.replies > 0, None, case.awaiting_tag))

    async def track(self, case: Case) -> Followed | None:
        """Keep what a `CaseChanged` says (tags, open, answered, card); the case as followed
        now, None when it is not followed."""
        before = await self.get(case.room_id, case.number)
        if before is None:
            return None
        # The card column only when it changes: SQLite rewrites an index entry for every
        # indexed column a statement sets, same value or not (a page more to commit).
        card = case.card_event_id is not None and case.card_event_id != before.card_event_id
        await self.db.execute_later(
            "UPDATE volunteer_cases SET tags = ?, open = ?, replied = ?, awaiting = ?"
            f"{', card_event_id = ?' if card else ''} WHERE room_id = ? AND number = ?",
            (",".join(case.specialties), int(case.is_open), int(case.replies > 0),
             int(case.awaiting_tag), *((case.card_event_id,) if card else ()), case.room_id,
             case.number))
        now = dataclasses.replace(before, tags=case.specialties, open=case.is_open,
                                  replied=case.replies > 0, awaiting=case.awaiting_tag,
                                  card_event_id=case.card_event_id or before.card_event_id)
        self._keep(self._followed, (case.room_id, case.number), now)
        return now

    async def get(self, room_id: str, number: int) -> Followed | None:
        key = (room_id, number)
        if key in self._followed:
            self._followed.move_to_end(key)
            return self._followed[key]
        row = await self.db.fetchone(
            f"SELECT {_FOLLOWED} FROM volunteer_cases WHERE room_id = ? AND number = ?",
            (room_id, number))
        found = None if row is None else _followed(row)
        self._keep(self._followed, key, found)
        return found

    async def by_root(self, room_id: str, root_event_id: str) -> Followed | None:
        row = await self.db.fetchone(
            f"SELECT {_FOLLOWED} FROM volunteer_cases WHERE room_id = ? AND root_event_id = ?",
            (room_id, root_event_id))
        return None if row is None else _followed(row)

    async def by_event(self, room_id: str, event_id: str) -> Followed | None:
        """The case whose root, card or page message `event_id` is (reactions on them)."""
        row = await self.db.fetchone(
            f"SELECT {_FOLLOWED} FROM volunteer_cases WHERE room_id = ?1 AND "
            "(root_event_id = ?2 OR card_event_id = ?2 OR number = (SELECT number FROM "
            "volunteer_page_events WHERE room_id = ?1 AND event_id = ?2))", (room_id, event_id))
        return None if row is None else _followed(row)

    async def update_case(self, room_id: str, number: int, **changes: Any) -> None:
        """Change columns of `volunteer_cases` (considered, round, due, stopped, open,
        taken_by, card_event_id); the cached copy follows."""
        key = (room_id, number)
        cached = self._followed.pop(key, None)
        if cached is not None:
            self._keep(self._followed, key, dataclasses.replace(cached, **{
                k: tuple(v) if k == "considered" else bool(v) if k in ("stopped", "open") else v
                for k, v in changes.items()}))
        if "considered" in changes:
            changes["considered"] = ",".join(changes["considered"])
        sets = ", ".join(f"{k} = ?" for k in changes)
        await self.db.execute_later(
            f"UPDATE volunteer_cases SET {sets} WHERE room_id = ? AND number = ?",
            (*changes.values(), room_id, number))

    async def last_round(self, room_id: str, number: int) -> int:
        return int(await self.db.fetchval(
            "SELECT MAX(round) FROM volunteer_pages WHERE room_id = ? AND number = ?",
            (room_id, number), 1))

    async def add_reply(self, event_id: str, room_id: str, number: int, user_id: str,
                        at: float) -> None:
        """A reply in a case's thread by someone other than its poster (for the stats)."""
        await self.db.execute_later(
            "INSERT OR IGNORE INTO volunteer_replies (event_id, room_id, number, user_id, at) "
            "VALUES (?, ?, ?, ?, ?)", (event_id, room_id, number, user_id, at))

    async def stats(self, room_id: str) -> list[tuple[str, int, int, list[float]]]:
        """Per volunteer or paged user of the room: pages received, replies written in others'
        cases, and the delays between each page and that user's first reply in the case.
        """
        rows = await self.db.fetchall(
            "SELECT u.user_id, "
            " (SELECT COUNT(*) FROM volunteer_pages p WHERE p.room_id = ?1 "
            "  AND p.user_id = u.user_id) AS pages, "
            " (SELECT COUNT(*) FROM volunteer_replies r WHERE r.room_id = ?1 "
            "  AND r.user_id = u.user_id) AS replies "
            "FROM (SELECT user_id FROM volunteers WHERE room_id = ?1 "
            "      UNION SELECT user_id FROM volunteer_pages WHERE room_id = ?1) u "
            "ORDER BY u.user_id", (room_id,))
        delays: dict[str, list[float]] = {}
        for row in await self.db.fetchall(
                "SELECT p.user_id, MIN(r.at) - p.at AS delay FROM volunteer_pages p "
                "JOIN volunteer_replies r ON r.room_id = p.room_id AND r.number = p.number "
                "AND r.user_id = p.user_id AND r.at >= p.at "
                "WHERE p.room_id = ? GROUP BY p.user_id, p.number", (room_id,)):
            delays.setdefault(row["user_id"], []).append(float(row["delay"]))
        return [(r["user_id"], int(r["pages"]), int(r["replies"]),
                 sorted(delays.get(r["user_id"], []))) for r in rows]
