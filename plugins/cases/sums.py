"""The counts `!stats` shows, per room and day (and 32-day block) of a case's opening, kept
by triggers as cases change (`case_sums`): a period's figures read at most 31 + 1 days of
rows, whatever its length. Ids, keys and counts only."""

from __future__ import annotations

from collections.abc import Mapping
from itertools import pairwise
from typing import Any

from bot.storage import Database
from plugins.cases.model import MANUAL, RESOLVED, WITHDRAWN

DAY = 86400
BLOCK = 32
"""Days summed together in the block rows: a period reads its whole blocks, then the days at
its start, then the cases of its first, partial day (at most 31 + 1 days of rows, whatever
the period's length)."""
SPANS = (1, BLOCK)

CHART_STEPS = (60, 120, 180, 300, 600, 900, 1200, 1800, 2700, 3600, 5400, 7200, 10800,
               14400, 21600, 28800, 43200, 64800, 86400, 2 * 86400, 3 * 86400, 5 * 86400,
               7 * 86400, 14 * 86400, 30 * 86400)
"""Lower bounds (seconds) of the chart's delay classes per specialty (the first is 0): a
median within a class's bounds, ~1.5× wide, rather than a row per distinct minute."""

TEXT_METRICS = ("status", "fast", "spec", "spec_resolved", "first", "resolution", "auto",
                 "auto_changed", "proposed", "as_proposed", "other_proposal", "move")
"""What the sums count per room and day (or block) of opening; `key` says which:
status: the case's status · fast: answered within the hour (not withdrawn) · spec,
spec_resolved: per specialty id ("" unclassified), opened / resolved · first, resolution:
per delay rounded down to the unit shown (minute under an hour, hour under a day, day) ·
auto, auto_changed: per tagger's first specialty, tagged / first specialty changed by a member
· proposed, as_proposed, other_proposal: tags proposed to confirm, confirmed as first proposed
/ as another · move: ["from", "to"] retags by members · spec_first (the chart's): per
["specialty", delay class]."""


def _display_class(delay: str) -> str:
    """SQL: `delay` rounded down to the unit `human_duration` shows (monotone, so the median
    of the classes is the class of the median)."""
    delay = f"({delay})"
    return (f"(CASE WHEN {delay} < 3600 THEN CAST(max({delay}, 0) / 60 AS INTEGER) * 60 "
            f"WHEN {delay} < 86400 THEN CAST({delay} / 3600 AS INTEGER) * 3600 "
            f"ELSE CAST({delay} / 86400 AS INTEGER) * 86400 END)")


def _chart_class(delay: str) -> str:
    """SQL: the lower bound of `delay`'s class among `CHART_STEPS`."""
    delay = f"({delay})"
    steps = " ".join(f"WHEN {delay} < {high} THEN {low}"
                     for low, high in pairwise((0, *CHART_STEPS)))
    return f"(CASE {steps} ELSE {CHART_STEPS[-1]} END)"


def _parts(r: str) -> list[tuple[str, str, str, bool]]:
    """What one case row (`r`: NEW, OLD or a table alias) adds to the sums:
    (metric, key, condition, one per specialty)."""
    first = f"{r}.first_reply_at - {r}.opened_at"
    first_tag = (f"(CASE WHEN instr({r}.specialties, ',') THEN substr({r}.specialties, 1, "
                 f"instr({r}.specialties, ',') - 1) ELSE {r}.specialties END)")
    manual = f"{r}.tag_source = '{MANUAL}'"
    answered = f"{r}.first_reply_at IS NOT NULL"
    return [
        ("status", f"{r}.status || ''", "1", False),  # (no column affinity: a compound
        # SELECT gives its first SELECT's to every row, and the delay classes are integers)
        ("fast", "''", f"{r}.status != '{WITHDRAWN}' AND {first} <= 3600", False),
        ("spec", "s.value", "1", True),
        ("spec_resolved", "s.value", f"{r}.status = '{RESOLVED}'", True),
        ("first", _display_class(first), answered, False),
        ("resolution", _display_class(f"{r}.resolved_at - {r}.opened_at"),
         f"{r}.status = '{RESOLVED}' AND {r}.resolved_at IS NOT NULL", False),
        ("spec_first", f"json_array(s.value, {_chart_class(first)})", answered, True),
        ("auto", f"{r}.auto_tag", f"{r}.auto_tag != ''", False),
        ("auto_changed", f"{r}.auto_tag",
         f"{r}.auto_tag != '' AND {manual} AND {r}.auto_tag != {first_tag}", False),
        ("proposed", "''", f"{r}.proposed != ''", False),
        ("as_proposed", "''",
         f"{r}.proposed != '' AND {manual} AND {r}.auto_tag = {r}.specialties", False),
        ("other_proposal", "''",
         f"{r}.proposed != '' AND {manual} AND {r}.auto_tag != {r}.specialties AND "
         f"instr(',' || {r}.proposed || ',', ',' || {r}.specialties || ',') > 0", False),
    ]


def _specs(r: str) -> str:
    """SQL: `r`'s specialty ids as a JSON array ([""]: unclassified). Ids are [a-z0-9_]; a
    value that is not (never written) counts under no specialty rather than failing."""
    listed = f"'[\"' || replace({r}.specialties, ',', '\",\"') || '\"]'"
    return (f"(CASE WHEN {r}.specialties = '' THEN '[\"\"]' WHEN json_valid({listed}) "
            f"THEN {listed} ELSE '[]' END)")


def _of_row(r: str) -> str:
    """SQL: the (metric, key) rows case row `r` adds, inside a trigger."""
    return " UNION ALL ".join(
        f"SELECT '{metric}' AS metric, {key} AS key"
        + (f" FROM json_each({_specs(r)}) s" if fanned else "") + f" WHERE {cond}"
        for metric, key, cond, fanned in _parts(r))


def of_cases(where: str) -> str:
    """SQL: (room_id, opened_at, metric, key) for every case `where` selects (alias c) and
    its members' retags; `where`'s parameters repeat once per part (`PARTS` times)."""
    selects = [
        f"SELECT c.room_id AS room_id, c.opened_at AS opened_at, '{metric}' AS metric, "
        f"{key} AS key FROM cases c" + (f", json_each({_specs('c')}) s" if fanned else "")
        + f" WHERE ({where}) AND {cond}"
        for metric, key, cond, fanned in _parts("c")]
    selects.append(
        "SELECT c.room_id, c.opened_at, 'move', json_array(r.from_tag, r.to_tag) FROM "
        "case_retags r JOIN cases c ON c.room_id = r.room_id AND c.number = r.number "
        f"WHERE ({where}) AND r.from_tag != r.to_tag")
    return " UNION ALL ".join(selects)


PARTS = len(_parts("c")) + 1

_SPAN_ROWS = " UNION ALL ".join(f"SELECT {span} AS span" for span in SPANS)
_START = "CAST({t} / 86400 AS INTEGER) / p.span * p.span"
_UPSERT = ("INSERT INTO case_sums (room_id, span, start, metric, key, n) {select} "
           "ON CONFLICT (room_id, span, metric, start, key) DO UPDATE SET n = n + excluded.n")


def _add_row(r: str, sign: int) -> str:
    return _UPSERT.format(select=(
        f"SELECT {r}.room_id, p.span, {_START.format(t=f'{r}.opened_at')}, x.metric, x.key, "
        f"{sign} FROM ({_SPAN_ROWS}) p, ({_of_row(r)}) x WHERE true"))


def _update_row() -> str:
    """SQL: OLD's counts out and NEW's in, as one statement that writes only the counts that
    move (a first answer: 2-4 keys, not 24 out and 24 in)."""
    rows = " UNION ALL ".join(
        f"SELECT {r}.room_id AS room_id, p.span AS span, "
        f"{_START.format(t=f'{r}.opened_at')} AS start, x.metric AS metric, x.key AS key, "
        f"{sign} AS n FROM ({_SPAN_ROWS}) p, ({_of_row(r)}) x"
        for r, sign in (("OLD", -1), ("NEW", 1)))
    return _UPSERT.format(select=(
        f"SELECT room_id, span, start, metric, key, SUM(n) FROM ({rows}) WHERE true "
        "GROUP BY room_id, span, start, metric, key HAVING SUM(n) != 0"))


def _add_moves(room: str, opened: str, retag: str, sign: int, source: str) -> str:
    """SQL: count the retag rows `retag` of `source` under the case's room and opening."""
    return _UPSERT.format(select=(
        f"SELECT {room}, p.span, {_START.format(t=opened)}, 'move', "
        f"json_array({retag}.from_tag, {retag}.to_tag), {sign} FROM ({_SPAN_ROWS}) p, "
        f"{source}"))


_CHANGED = " OR ".join(f"OLD.{c} IS NOT NEW.{c}" for c in (
    "status", "first_reply_at", "resolved_at", "specialties", "tag_source", "auto_tag",
    "proposed"))


async def case_sums(db: Database) -> None:
    """The sums table, the triggers that keep it as cases change, and its first contents."""
    await db.execute("""
        CREATE TABLE case_sums (
            room_id TEXT NOT NULL,
            span INTEGER NOT NULL,
            metric TEXT NOT NULL,
            start INTEGER NOT NULL,
            key NOT NULL,
            n INTEGER NOT NULL,
            PRIMARY KEY (room_id, span, metric, start, key)
        ) WITHOUT ROWID""")
    await db.execute(
        "CREATE TRIGGER case_sums_fixed BEFORE UPDATE OF room_id, number, opened_at ON cases "
        "WHEN OLD.room_id IS NOT NEW.room_id OR OLD.number IS NOT NEW.number OR "
        "OLD.opened_at IS NOT NEW.opened_at BEGIN "
        "SELECT RAISE(ABORT, 'a case keeps its room, number and opening time'); END")
    await db.execute(f"CREATE TRIGGER case_sums_insert AFTER INSERT ON cases BEGIN "
                     f"{_add_row('NEW', 1)}; END")
    await db.execute(f"CREATE TRIGGER case_sums_update AFTER UPDATE ON cases WHEN {_CHANGED} "
                     f"BEGIN {_update_row()}; END")
    await db.execute(
        f"CREATE TRIGGER case_sums_delete AFTER DELETE ON cases BEGIN {_add_row('OLD', -1)}; "
        + _add_moves("OLD.room_id", "OLD.opened_at", "r", -1,
                     "case_retags r WHERE r.room_id = OLD.room_id AND r.number = OLD.number "
                     "AND r.from_tag != r.to_tag")
        + "; DELETE FROM case_retags WHERE room_id = OLD.room_id AND number = OLD.number; END")
    await db.execute(
        "CREATE TRIGGER case_sums_retag AFTER INSERT ON case_retags "
        "WHEN NEW.from_tag != NEW.to_tag BEGIN "
        + _add_moves("c.room_id", "c.opened_at", "NEW", 1,
                     "cases c WHERE c.room_id = NEW.room_id AND c.number = NEW.number")
        + "; END")
    await db.execute(_UPSERT.format(select=(
        f"SELECT x.room_id, p.span, {_START.format(t='x.opened_at')}, x.metric, x.key, "
        f"COUNT(*) FROM ({_SPAN_ROWS}) p, ({of_cases('1')}) x GROUP BY 1, 2, 3, 4, 5")))


def lower_median(counts: Mapping[Any, int]) -> Any:
    """The smaller middle value of `counts` (value -> how many), None when empty."""
    rank = (sum(n for n in counts.values() if n > 0) + 1) // 2
    if not rank:
        return None
    for value in sorted(v for v, n in counts.items() if n > 0):
        rank -= counts[value]
        if rank <= 0:
            return value
    return None


def class_middle(low: int) -> float:
    """A delay class's representative: between its bounds (the last: its lower bound)."""
    steps = (0, *CHART_STEPS)
    index = steps.index(low)
    return (low + steps[index + 1]) / 2 if index + 1 < len(steps) else float(low)
