"""1. A case about to open: the room must be fit for health data; in redact mode, a post
carrying validated identifiers is deleted and its case refused."""

from __future__ import annotations

from bot.content import Rich
from bot.events import RoomInfo
from bot.plugin import Context, Refusal, on
from plugins.cases.events import CaseOpening
from plugins.secrecy.base import SecrecyPart
from plugins.secrecy.detector import HIGH_CONFIDENCE
from plugins.secrecy.text import html_of, scan_off_loop
from plugins.secrecy.words import redacted_notice


def problems(room: RoomInfo) -> list[str]:
    """The string keys of what makes a room unfit for cases (empty: fit)."""
    found: list[str] = []
    if not room.encrypted:
        found.append("secrecy.refuse.encryption")
    if room.join_rule == "public":
        found.append("secrecy.refuse.public")
    if room.history_visibility == "world_readable":
        found.append("secrecy.refuse.history")
    return found


class Opening(SecrecyPart):
    @on(CaseOpening)
    async def opening(self, ctx: Context, event: CaseOpening) -> None:
        """No case in a room unfit for health data (checked on every case: a room turned
        public refuses from then on). In redact mode, a post carrying validated identifiers
        is deleted and its case refused, so no case stays open behind a deleted post."""
        found = problems(ctx.room)
        if found:
            raise Refusal(Rich.of(ctx.t("secrecy.refuse"), *(ctx.t(p) for p in found)))
        if self.config_for(event.room_id).mode != "redact":
            return
        formatted, body = html_of(ctx, event.event_id)
        findings = await scan_off_loop(event.text, formatted, body)
        if not any(f.confidence >= HIGH_CONFIDENCE for f in findings):
            return
        if not await ctx.redact(event.event_id, ctx.t("secrecy.reason")):
            return  # not allowed to: the case opens and is warned about under its card
        kinds = frozenset(f.kind for f in findings)
        await self.count(event.room_id, kinds)
        raise Refusal(redacted_notice(ctx, event.poster, kinds))
