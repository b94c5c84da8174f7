"""The rules: `!rules`, `!rules pin`, and the reminder under a member's first case."""

from __future__ import annotations

from bot.content import Part, Rich, fill
from bot.plugin import Context, command
from plugins.secrecy.base import SecrecyPart
from plugins.secrecy.events import RulesLines
from plugins.secrecy.store import SecrecyStore


async def added_rules(ctx: Context, first_case: bool) -> list[tuple[Part, ...]]:
    """Other features' lines after the rules (`RulesLines`: the conduct charter)."""
    return [line for lines in await ctx.ask(RulesLines(ctx.room_id, first_case))
            for line in lines]


async def onboard(ctx: Context, store: SecrecyStore, user_id: str, root: str) -> None:
    """The first time `user_id` opens a case in the room: a short reminder under the card
    (three lines, the full rules one command away), naming them without a ping. Not to a
    poster who is no member (a case relayed from another room: the bot posted it)."""
    if user_id not in ctx.room.members or not await store.first_time(ctx.room_id, user_id):
        return
    await ctx.in_thread_of(root).reply(
        Rich.of(
            fill(ctx.t("secrecy.onboarding"), name=ctx.room.display_name(user_id)),
            ctx.t("secrecy.onboarding.rule"),
            fill(ctx.t("secrecy.onboarding.more"), prefix=ctx.prefix),
            *await added_rules(ctx, first_case=True),
        )
    )


class Rules(SecrecyPart):
    def rules_text(self, ctx: Context) -> str:
        """The room's rules text, else the configured one for its language, else built-in."""
        shared = self.config_for(ctx.room_id).rules_text.strip()
        custom = self.config.rules_text_en if ctx.lang == "en" else self.config.rules_text_fr
        return shared or custom.strip() or ctx.t("secrecy.rules")

    @command("rules", "regles", summary="secrecy.rules.summary", order=5)
    async def rules(self, ctx: Context) -> None:
        await ctx.reply(Rich.of(self.rules_text(ctx), *await added_rules(ctx, False)))

    @command("rules pin", "regles pin", "regles epingler", admin=True,
             summary="secrecy.rules.pin.summary", section="admin")
    async def pin_rules(self, ctx: Context) -> None:
        event_id = await ctx.send(
            Rich.of(self.rules_text(ctx), *await added_rules(ctx, False)), in_thread=False)
        # The current pins, from the homeserver: our copy may be a sync behind, and a pin
        # someone added meanwhile must not be dropped.
        current = await self.bot.get_state(ctx.room_id, "m.room.pinned_events") or {}
        listed = current.get("pinned")
        pinned = [p for p in (listed if isinstance(listed, list) else ())
                  if isinstance(p, str) and p != event_id] + [event_id]
        if not await self.bot.put_state(ctx.room_id, "m.room.pinned_events", {"pinned": pinned}):
            await ctx.reply(ctx.t("secrecy.pin.failed"))
