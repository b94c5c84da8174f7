"""`!stats`: the room's figures (counts only), the other features' lines (`StatsLines`), then
`StatsShown` for the pictures drawn in its thread."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from bot.content import Bold, Part, Rich
from bot.i18n import human_duration
from bot.plugin import Clock, Context, command
from bot.router import Int
from plugins.cases.card import Line
from plugins.cases.events import StatsLines, StatsShown
from plugins.cases.model import CLOSED, OPEN, RESOLVED, WITHDRAWN
from plugins.cases.store import CaseStore, TagFigures
from plugins.specialties import Specialties

STATS_DAYS = Int("days", optional=True, default=30, low=1, high=3650)
STATS_SPECIALTIES = 4
"""`!stats` names the busiest specialties, sums the others: its text stays short in a thread."""


def plural(ctx: Context, key: str, count: int) -> str:
    """`key`'s "singular|plural" text for `count` (French: singular under 2; English: for 1)."""
    one, many = ctx.t(key, n=count).split("|")
    return one if (count < 2 if ctx.lang == "fr" else count == 1) else many


class Statistics:
    """The `!stats` commands of the cases feature."""

    def __init__(self, bot: Clock, store: CaseStore,
                 specialties: Callable[[], Specialties]) -> None:
        self.bot = bot
        self.store = store
        self.specialties = specialties

    @command("stats", args=(STATS_DAYS,), summary="cases.stats.summary")
    async def stats(self, ctx: Context, days: int) -> None:
        """The figures, then `StatsShown`: other features add pictures in the thread."""
        since = await self._stats(ctx, days)
        await ctx.tell(StatsShown(ctx.room_id, since,
                                  await self.store.chart(ctx.room_id, since)))

    @command("stats text", "stats texte", args=(STATS_DAYS,), summary="cases.stats_text.summary")
    async def stats_text(self, ctx: Context, days: int) -> None:
        await self._stats(ctx, days)

    async def _stats(self, ctx: Context, days: int) -> float:
        """The room's figures, then the other features' (`StatsLines`): counts only.
        Returns the start of the period."""
        since = self.bot.now() - days * 86400
        figures = await self.store.stats(ctx.room_id, since)

        def duration(seconds: float | None) -> str:
            return human_duration(ctx.t, seconds) if seconds is not None else ctx.t(
                "cases.stats.na")

        share = (f"{round(100 * figures.answered_within_hour / figures.counted)} %"
                 if figures.counted else ctx.t("cases.stats.na"))
        count = figures.by_status.get
        lines: list[tuple[Part, ...]] = [
            (Bold(ctx.t("cases.stats.header", days=days)),),
            (ctx.t("cases.stats.counts", opened=figures.opened, resolved=count(RESOLVED, 0),
                   withdrawn=count(WITHDRAWN, 0), closed=count(CLOSED, 0),
                   still_open=count(OPEN, 0)),),
            (ctx.t("cases.stats.times", first=duration(figures.median_first_reply),
                   resolution=duration(figures.median_resolution), within_hour=share),),
        ]
        if figures.per_specialty:
            lines.append((self._specialties_line(ctx, figures.per_specialty),))
        lines.extend(self._tagging_lines(ctx, figures.tagging))
        for added in await ctx.ask(StatsLines(ctx.room_id, since)):
            lines.extend(added)
        await ctx.reply(Rich(tuple(lines)))
        return since

    def _specialties_line(self, ctx: Context, per: Sequence[tuple[str, int, int]]) -> str:
        """The busiest specialties on one line, then how many others: a line however many."""
        label = self.specialties().label

        def item(name: str, opened: int, resolved: int) -> str:
            return ctx.t("cases.stats.specialty", name=name,
                         opened=plural(ctx, "cases.stats.n_opened", opened),
                         resolved=plural(ctx, "cases.stats.n_resolved", resolved))

        items = [item(label(ctx.room_id, spec, ctx.lang) if spec else
                      ctx.t("cases.unclassified"), opened, resolved)
                 for spec, opened, resolved in per[:STATS_SPECIALTIES]]
        if len(per) > STATS_SPECIALTIES:  # (no sum of theirs: a case may have two)
            items.append(plural(ctx, "cases.stats.n_others", len(per) - STATS_SPECIALTIES))
        return ctx.t("cases.stats.per_specialty", items=" · ".join(items))

    def _tagging_lines(self, ctx: Context, tags: TagFigures) -> list[Line]:
        """How often members corrected the tagger, per specialty and from what to what (ids,
        as `!specialty keywords` takes them), and what became of its proposals."""
        if not tags.tagged:
            return []
        label = self.specialties().label
        worst = [ctx.t("cases.stats.retagged_by", name=label(ctx.room_id, spec, ctx.lang),
                       changed=changed, cases=cases)
                 for spec, cases, changed in tags.per_specialty[:STATS_SPECIALTIES] if changed]
        lines: list[Line] = [(" · ".join([ctx.t(
            "cases.stats.retagged", changed=plural(ctx, "cases.stats.n_cases", tags.changed),
            tagged=tags.tagged, share=f"{round(100 * tags.changed / tags.tagged)} %"),
            *worst]),)]
        if tags.moves:
            moves = ", ".join(f"{a or '—'} → {b or '—'} ×{n}" for a, b, n in tags.moves)
            lines.append((ctx.t("cases.stats.moves", moves=moves),))
        if tags.proposed:
            lines.append((ctx.t("cases.stats.proposals",
                                proposed=plural(ctx, "cases.stats.n_cases", tags.proposed),
                                first=tags.as_proposed, other=tags.other_proposal),))
        if tags.changed:
            lines.append((ctx.t("cases.stats.tune", prefix=ctx.prefix),))
        return lines
