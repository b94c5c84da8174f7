"""The learning feature, declared: what the room learns from its cases.

A weekly digest per room (`digest`), the references shared in case threads (`!biblio`), a
member's FMC/DPC log as a CSV in an encrypted direct room (`!fmc`), and a chart under
`!stats`. Everything it knows of cases comes from the lifecycle the cases feature publishes
(`plugins.cases.events`), kept in its own tables (ids, times, specialties, roles, links).
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from bot.config import bounded, weekly_field
from bot.events import Message, Redaction
from bot.plugin import Context, Fired, Plugin, command, on, timer
from bot.router import Int, split_command
from plugins.cases.events import (
    CaseChanged,
    CaseEdited,
    CaseOpened,
    CaseReplied,
    StatsShown,
)
from plugins.cases.model import Case, redaction_applies
from plugins.learning.commands import MAX_DAYS, Answers, Period, SpecialtyOrDays
from plugins.learning.digest import Digests
from plugins.learning.references import Reference, cited
from plugins.learning.store import ANSWERED, MIGRATIONS, LearningStore
from plugins.learning.strings import STRINGS
from plugins.secrecy import Secrecy
from plugins.secrecy.text import INLINE_SCAN
from plugins.specialties import Specialties, Specialty


@dataclass(frozen=True, slots=True)
class LearningConfig:
    digest: str = weekly_field("lundi 08:00")
    """When the weekly digest is posted (room's time zone), or `off`."""
    sources: tuple[str, ...] = ()
    """Domains the room adds to the references' allow-list (e.g. `sfdermato.org`)."""
    biblio_limit: int = bounded(20, 1, 100)


class Learning(Plugin):
    name = "learning"
    Config = LearningConfig
    strings = STRINGS
    migrations = MIGRATIONS
    requires = (Specialties, Secrecy)
    """Secrecy: its detector decides which references a message may keep."""
    room_settings = ("digest", "sources")

    def __init__(self, bot: Any, config: LearningConfig) -> None:
        super().__init__(bot, config)
        self.store = LearningStore(bot.db)
        self.digests = Digests(bot, self.store, self.name,
                               lambda room: self.config_for(room).digest, self.names)
        self.answers = Answers(bot, self.store, self.names)
        self._rooms: set[str] = set()
        """Rooms with a case: the ones that get a digest."""

    async def start(self) -> None:
        await self.digests.start()
        self._rooms = set(await self.store.rooms())

    def names(self, ctx: Context, room_id: str, specialties: Sequence[str]) -> str:
        """Specialties as the room names them (or "unclassified")."""
        if not specialties:
            return ctx.t("learning.unclassified")
        label = functools.partial(self.required(Specialties).label, room_id, lang=ctx.lang)
        return ", ".join(label(s) for s in specialties)

    async def _cited(self, room_id: str, body: str, formatted: str | None) -> list[Reference]:
        """The references the message keeps (`cited`: none when it seems to identify a
        patient), found in a worker thread when the message is long (as secrecy scans it)."""
        extra = self.config_for(room_id).sources
        if len(body) + len(formatted or "") <= INLINE_SCAN:
            return cited(body, formatted, extra)
        return await asyncio.to_thread(cited, body, formatted, extra)

    async def _cite(self, room_id: str, number: int, event_id: str, sender: str, at: float,
                    body: str, formatted: str | None = None) -> None:
        found = await self._cited(room_id, body, formatted)
        if found:
            await self.store.add_refs(room_id, number, event_id, sender, at,
                                      [(r.url, r.domain) for r in found])

    # ---- the case lifecycle ------------------------------------------------------------------
    @on(CaseOpened)
    async def case_opened(self, ctx: Context, event: CaseOpened) -> None:
        case = event.case
        await self.store.mirror(case)
        await self._cite(case.room_id, case.number, case.root_event_id, case.poster,
                         case.opened_at, event.text)
        self._rooms.add(case.room_id)
        await self.digests.follow(case.room_id)

    @on(CaseChanged)
    async def case_changed(self, ctx: Context, event: CaseChanged) -> None:
        """Mirror what this feature keeps, when that changed (not at every answer's count)."""
        if _kept(event.case) != _kept(event.before):
            await self.store.mirror(event.case)

    @on(CaseReplied)
    async def case_replied(self, ctx: Context, event: CaseReplied) -> None:
        """References cited in the thread; who answered (not the poster, not a command)."""
        case, reply = event.case, event.event
        if not isinstance(reply, Message):
            return
        at = reply.timestamp / 1000
        await self._cite(case.room_id, case.number, reply.event_id, reply.sender, at,
                         reply.body, reply.formatted_body)
        if reply.sender != case.poster and split_command(reply.body, ctx.prefixes) is None:
            await self.store.add_role(case.room_id, case.number, reply.sender, ANSWERED, at)

    @on(CaseEdited)
    async def case_edited(self, ctx: Context, event: CaseEdited) -> None:
        """An edit by the message's author (cases publishes no other) replaces the message's
        references: a link it removes goes, one it adds is kept as cited by that message."""
        edit, case = event.event, event.case
        found = await self._cited(case.room_id, event.text, None)
        await self.store.replace_refs(case.room_id, case.number, edit.original, edit.sender,
                                      edit.timestamp / 1000, [(r.url, r.domain) for r in found])

    @on(Redaction)
    async def redaction(self, ctx: Context, event: Redaction) -> None:
        """A redacted message's references go with it (a redaction the homeserver applies:
        by its sender, or by a member with the redact power)."""
        sender = await self.store.citer(event.room_id, event.redacts)
        if sender is not None and redaction_applies(ctx.room, event, sender):
            await self.store.drop_refs(event.room_id, event.redacts)

    @on(Message)
    async def room_activity(self, ctx: Context, event: Message) -> None:
        """A room's digest follows its setting (changed with `!config set learning.digest`)."""
        if event.room_id in self._rooms:
            await self.digests.follow(event.room_id)

    @on(StatsShown)
    async def stats_shown(self, ctx: Context, event: StatsShown) -> None:
        await self.answers.chart(ctx, event.since, event.chart)

    @timer("digest")
    async def digest(self, fired: Fired) -> None:
        await self.digests.fired(fired)

    # ---- commands ----------------------------------------------------------------------------
    @command("biblio", "references",
             args=(SpecialtyOrDays("specialty", optional=True),
                   Int("days", optional=True, low=1, high=MAX_DAYS)),
             summary="learning.biblio.summary")
    async def biblio(self, ctx: Context, specialty: Specialty | int | None,
                     days: int | None) -> None:
        await self.answers.biblio(ctx, specialty, days, self.config_for(ctx.room_id).biblio_limit)

    @command("fmc", "dpc", args=(Period("period", optional=True, default=365),),
             summary="learning.fmc.summary")
    async def fmc(self, ctx: Context, period: int | str) -> None:
        await self.answers.fmc(ctx, period)


def _kept(case: Case) -> tuple[object, ...]:
    """The fields of a case the learning tables keep (`LearningStore.mirror`)."""
    return (case.specialties, case.status, case.first_reply_at, case.resolved_at,
            case.resolved_by)


__all__ = ["Learning", "LearningConfig"]

