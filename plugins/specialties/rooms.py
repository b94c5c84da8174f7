"""Per-room specialty sets: the configured base (defaults, then the YAML override for the room)
with the room admins' changes on top, stored as one override row per changed specialty.

Rows keep ids, names, aliases and keywords (room configuration, not clinical text). A removed
specialty keeps its row, so cases tagged with it still show its name, marked as removed.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bot.storage import Database, Migration
from plugins.specialties.catalog import Specialty, normalize, specialties_from_data

MIGRATIONS = (
    Migration("each room's changes to the specialty catalogue", """
    CREATE TABLE room_specialties (
        room_id TEXT NOT NULL,
        specialty_id TEXT NOT NULL,
        removed INTEGER NOT NULL DEFAULT 0,
        name TEXT,
        aliases TEXT,
        keywords_added TEXT NOT NULL DEFAULT '[]',
        keywords_removed TEXT NOT NULL DEFAULT '[]',
        PRIMARY KEY (room_id, specialty_id)
    )
    """),
)


@dataclass(frozen=True, slots=True)
class Override:
    """What a room changed about one specialty (None: unchanged)."""

    removed: bool = False
    name: str | None = None
    aliases: tuple[str, ...] | None = None
    keywords_added: tuple[str, ...] = ()
    keywords_removed: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class RoomSet:
    active: tuple[Specialty, ...]
    removed: Mapping[str, Specialty]
    changed: frozenset[str]
    """Ids the room's admins changed (shown as such by `!specialties`)."""


def _merge_keywords(keywords: Iterable[str], added: Iterable[str],
                    dropped: Iterable[str]) -> tuple[str, ...]:
    gone = {normalize(k) for k in dropped}
    result: list[str] = []
    seen: set[str] = set()
    for keyword in (*keywords, *added):
        key = normalize(keyword)
        if key and key not in gone and key not in seen:
            seen.add(key)
            result.append(keyword)
    return tuple(result)


def apply(base: Sequence[Specialty], overrides: Mapping[str, Override]) -> RoomSet:
    """The room's set: `base` with its overrides applied (new ones last, in stored order)."""
    by_id = {spec.id: spec for spec in base}
    order = [spec.id for spec in base]
    removed: dict[str, Specialty] = {}
    for sid, change in overrides.items():
        spec = by_id.get(sid)
        if spec is None:
            if change.name is None:
                continue  # a change to a specialty the configuration no longer has
            spec = Specialty(sid, change.name, change.name)
            order.append(sid)
        if change.name:
            spec = dataclasses.replace(spec, name_fr=change.name, name_en=change.name)
        if change.aliases is not None:
            spec = dataclasses.replace(spec, aliases=change.aliases)
        spec = dataclasses.replace(
            spec,
            keywords=_merge_keywords(spec.keywords, change.keywords_added,
                                     change.keywords_removed),
            strong=_merge_keywords(spec.strong, (), change.keywords_removed))
        by_id[sid] = spec
        if change.removed:
            removed[sid] = spec
    active = tuple(by_id[sid] for sid in order if sid not in removed)
    return RoomSet(active, removed, frozenset(overrides))


def yaml_override(base: Sequence[Specialty], data: Any, where: str) -> tuple[Specialty, ...]:
    """Apply one `specialties.rooms` entry (`add`: specialties, replacing same ids; `remove`:
    ids) to `base`. Raises ValueError naming `where` when the entry is not valid."""
    if not isinstance(data, Mapping) or set(data) - {"add", "remove"}:
        raise ValueError(f"{where}: expected a mapping with `add` and/or `remove`")
    remove = data.get("remove") or []
    if not isinstance(remove, list) or not all(isinstance(r, str) for r in remove):
        raise ValueError(f"{where}.remove: expected a list of specialty ids")
    unknown = set(remove) - {spec.id for spec in base}
    if unknown:
        raise ValueError(f"{where}.remove: unknown specialty {sorted(unknown)[0]!r}")
    try:
        added = specialties_from_data(data.get("add") or [])
    except ValueError as exc:
        raise ValueError(f"{where}.add: {exc}") from None
    replaced = {spec.id for spec in added}
    kept = [spec for spec in base if spec.id not in set(remove) | replaced]
    try:
        return specialties_from_data([
            {k: list(v) if isinstance(v, tuple) else v for k, v in dataclasses.asdict(s).items()}
            for s in (*kept, *added)])
    except ValueError as exc:
        raise ValueError(f"{where}: {exc}") from None


class RoomSpecialtyStore:
    """The override rows, all kept in memory (a few per room) and written through."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.rows: dict[str, dict[str, Override]] = {}

    async def load(self) -> None:
        self.rows.clear()
        for row in await self.db.fetchall(
                "SELECT * FROM room_specialties ORDER BY rowid"):
            self.rows.setdefault(row["room_id"], {})[row["specialty_id"]] = Override(
                removed=bool(row["removed"]), name=row["name"],
                aliases=tuple(json.loads(row["aliases"])) if row["aliases"] else None,
                keywords_added=tuple(json.loads(row["keywords_added"])),
                keywords_removed=tuple(json.loads(row["keywords_removed"])))

    def of(self, room_id: str) -> Mapping[str, Override]:
        return self.rows.get(room_id, {})

    async def put(self, room_id: str, specialty_id: str, change: Override) -> None:
        await self.db.execute(
            "INSERT INTO room_specialties (room_id, specialty_id, removed, name, aliases, "
            "keywords_added, keywords_removed) VALUES (?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (room_id, specialty_id) DO UPDATE SET removed = excluded.removed, "
            "name = excluded.name, aliases = excluded.aliases, "
            "keywords_added = excluded.keywords_added, "
            "keywords_removed = excluded.keywords_removed",
            (room_id, specialty_id, int(change.removed), change.name,
             json.dumps(list(change.aliases)) if change.aliases is not None else None,
             json.dumps(list(change.keywords_added), ensure_ascii=False),
             json.dumps(list(change.keywords_removed), ensure_ascii=False)))
        self.rows.setdefault(room_id, {})[specialty_id] = change

    async def reset(self, room_id: str) -> int:
        """Forget every change of the room; how many specialties had one."""
        count = len(self.rows.pop(room_id, {}))
        await self.db.execute("DELETE FROM room_specialties WHERE room_id = ?", (room_id,))
        return count
