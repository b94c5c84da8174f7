"""3. `!redact`: a flagged message of a case's thread removed on request."""

from __future__ import annotations

from bot.content import fill
from bot.events import Message
from bot.plugin import Context, Refusal, command
from plugins.cases.events import CaseOfThread
from plugins.secrecy.base import SecrecyPart
from plugins.secrecy.flags import target

REDACT_COMMANDS = ("redact", "masquer")


async def is_case(ctx: Context, root: str) -> bool:
    """Whether the thread of `root` is a case: cases answers from its table, so it holds
    after a restart (nothing flagged then) and for a case nobody wrote in since."""
    return bool(await ctx.ask(CaseOfThread(ctx.room_id, root)))


class Redact(SecrecyPart):
    @command(*REDACT_COMMANDS, summary="secrecy.redact.summary")
    async def redact(self, ctx: Context) -> None:
        event = ctx.event
        assert isinstance(event, Message)
        root = event.thread_root
        flagged = self.flags.in_thread(event.room_id, root)
        if not root or not (flagged or await is_case(ctx, root)):
            raise Refusal(ctx.t("secrecy.redact.where", prefix=ctx.prefix))
        found = target(event, flagged, ctx.is_admin())
        if found is None:
            raise Refusal(ctx.t("secrecy.redact.nothing"))
        flag = dict(flagged)[found]
        if await ctx.redact(found, ctx.t("secrecy.reason")):
            self.flags.forget(found)
            await ctx.reply(ctx.t("secrecy.redact.done"))
        else:
            await ctx.reply(
                fill(ctx.t("secrecy.redact.cannot"), poster=ctx.pill(flag.sender, notify=True))
            )
