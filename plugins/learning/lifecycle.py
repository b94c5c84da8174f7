"""What the learning feature keeps of each case, from the lifecycle the cases feature
publishes (`plugins.cases.events`): its mirror (ids, times, specialties, status), who
answered, and the references cited in its thread (never the text around them)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from bot.events import Message, Redaction
from bot.plugin import Context, on
from bot.router import split_command
from plugins.cases.events import CaseChanged, CaseEdited, CaseOpened, CaseReplied
from plugins.cases.model import Case, redaction_applies
from plugins.learning.references import Reference, cited
from plugins.learning.store import ANSWERED, LearningStore
from plugins.secrecy.text import INLINE_SCAN


class CaseLog:
    """Follows the cases into the learning tables."""

    def __init__(self, store: LearningStore, sources: Callable[[str], tuple[str, ...]]) -> None:
        self.store = store
        self.sources = sources
        """A room's domains added to the references' allow-list (`learning.sources`)."""

    async def _cited(self, room_id: str, body: str, formatted: str | None) -> list[Reference]:
        """The references the message keeps (`cited`: none when it seems to identify a
        patient), found in a worker thread when the message is long (as secrecy scans it)."""
        extra = self.sources(room_id)
        if len(body) + len(formatted or "") <= INLINE_SCAN:
            return cited(body, formatted, extra)
        return await asyncio.to_thread(cited, body, formatted, extra)

    async def _cite(self, room_id: str, number: int, event_id: str, sender: str, at: float,
                    body: str, formatted: str | None = None) -> None:
        found = await self._cited(room_id, body, formatted)
        if found:
            await self.store.add_refs(room_id, number, event_id, sender, at,
                                      [(r.url, r.domain) for r in found])

    @on(CaseOpened)
    async def case_opened(self, ctx: Context, event: CaseOpened) -> None:
        case = event.case
        await self.store.mirror(case)
        await self._cite(case.room_id, case.number, case.root_event_id, case.poster,
                         case.opened_at, event.text)

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


def _kept(case: Case) -> tuple[object, ...]:
    """The fields of a case the learning tables keep (`LearningStore.mirror`)."""
    return (case.specialties, case.status, case.first_reply_at, case.resolved_at,
            case.resolved_by)
