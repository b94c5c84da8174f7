"""2. Warnings: a case's text, a reply in its thread or an edit that seems to identify a
patient is warned about (kinds only, never the values), or deleted at once in redact mode;
the warning is updated, or cleared, when the message is edited. `!stats` shows the counts."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from bot.content import Part, Rich, fill
from bot.events import Attachment, Redaction
from bot.plugin import Context, on
from bot.router import split_command
from plugins.cases.events import CaseEdited, CaseOpened, CaseReplied, StatsLines
from plugins.secrecy.base import SecrecyPart
from plugins.secrecy.detector import HIGH_CONFIDENCE, Finding
from plugins.secrecy.flags import Flag
from plugins.secrecy.photos import CLEAN_COMMANDS
from plugins.secrecy.redact import REDACT_COMMANDS
from plugins.secrecy.rules import onboard
from plugins.secrecy.text import html_of, scan_off_loop
from plugins.secrecy.words import kinds_text, redacted_notice


def warning(ctx: Context, sender: str, kinds: Iterable[str], edited: bool) -> Rich:
    key = "secrecy.warn.edited" if edited else "secrecy.warn"
    return Rich.of(
        fill(ctx.t(key), kinds=kinds_text(ctx, kinds), poster=ctx.pill(sender, notify=True)),
        ctx.t("secrecy.rule"),
        ctx.t("secrecy.fix", prefix=ctx.prefix),
    )


class Warnings(SecrecyPart):
    async def _check(
        self, ctx: Context, event_id: str, sender: str, root: str, text: str, *,
        edited: bool = False, formatted: str | None = None, body: str = "",
        may_redact: bool = True,
    ) -> None:
        """Warn about `text` (and what `formatted` shows beyond `body`, see `scan_message`);
        in redact mode, delete it at once for validated findings when `may_redact`."""
        findings: Sequence[Finding] = await scan_off_loop(text, formatted, body)
        thread = ctx.in_thread_of(root)
        known = self.flags.get(event_id)
        if not findings:
            if known is not None:
                self.flags.forget(event_id)
                if known.warning:
                    await thread.edit(known.warning, ctx.t("secrecy.cleared"))
            return
        kinds = frozenset(f.kind for f in findings)
        await self.count(ctx.room_id, kinds - (known.kinds if known else frozenset()))
        if may_redact and self.config_for(ctx.room_id).mode == "redact":
            sure = any(f.confidence >= HIGH_CONFIDENCE for f in findings)
            if sure and await ctx.redact(event_id, ctx.t("secrecy.reason")):
                self.flags.forget(event_id)
                await thread.reply(redacted_notice(ctx, sender, kinds))
                return
        update = edited and known is not None and known.warning is not None
        message = warning(ctx, sender, kinds, update)
        if known is not None and known.warning:
            await thread.edit(known.warning, message)
            sent: str | None = known.warning
        else:
            sent = await thread.reply(message)
        self.flags.remember(event_id, Flag(ctx.room_id, root, sender, kinds, sent))

    @on(CaseOpened)
    async def opened(self, ctx: Context, event: CaseOpened) -> None:
        """Under the new case's card, before anyone is paged: the first-case reminder, then
        the check of the case's text (redact mode already acted in `opening`)."""
        case = event.case
        await onboard(ctx, self.store, case.poster, case.root_event_id)
        formatted, body = html_of(ctx, case.root_event_id)
        await self._check(ctx, case.root_event_id, case.poster, case.root_event_id,
                         event.text, formatted=formatted, body=body, may_redact=False)

    @on(CaseReplied)
    async def replied(self, ctx: Context, event: CaseReplied) -> None:
        """A message (not a notice, not `!redact` or `!clean`) in a case's thread (photos:
        `photos.py`)."""
        reply = event.event
        if isinstance(reply, Attachment):
            return
        split = split_command(reply.body, ctx.prefixes)
        if reply.msgtype == "m.notice" or (split is not None and split[0] in
                                            (*REDACT_COMMANDS, *CLEAN_COMMANDS)):
            return
        await self._check(ctx, reply.event_id, reply.sender, event.case.root_event_id,
                         reply.body, formatted=reply.formatted_body, body=reply.body)

    @on(CaseEdited)
    async def edited(self, ctx: Context, event: CaseEdited) -> None:
        """An edit of a case's root or reply, by that message's author (cases publishes no
        other): checked again, its HTML too (an identifier may be there only); the warning
        is updated, or cleared."""
        edit = event.event
        await self._check(ctx, edit.original, edit.sender, event.case.root_event_id,
                         event.text, edited=True, formatted=edit.formatted_body,
                         body=edit.body)

    @on(Redaction)
    async def redaction(self, ctx: Context, event: Redaction) -> None:
        self.flags.redacted(ctx.room, event)

    @on(StatsLines)
    async def stats_lines(self, ctx: Context, event: StatsLines) -> list[tuple[Part, ...]]:
        """`!stats`: how many warnings of each kind (counts only) since `event.since`."""
        counts = await self.store.counts_since(event.room_id, event.since)
        if not counts:
            return [(ctx.t("secrecy.stats.none"),)]
        details = ", ".join(ctx.t("secrecy.stats.item", kind=kinds_text(ctx, [kind]),
                                  count=n) for kind, n in counts)
        return [(ctx.t("secrecy.stats", total=sum(n for _, n in counts), details=details),)]
