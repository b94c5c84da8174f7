"""`!help`: the everyday commands on one screen, a section, or one command's usage."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bot import content
from bot.i18n import Catalog, echo
from bot.plugin import Context
from bot.router import CommandSpec, family, find
from bot.text import fold

HELP_SECTIONS = {"admin": "admin", "administration": "admin", "volontaires": "volunteers",
                 "volunteers": "volunteers", "benevoles": "volunteers",
                 "moderation": "moderation", "moderateurs": "moderation",
                 "moderators": "moderation", "moderateur": "moderation",
                 "moderator": "moderation"}
"""`!help <word>` words (folded: `modération` too) that name a section, not a command."""
HELP_POINTERS = ("volunteers", "moderation", "admin")
"""The sections the others point to, in this order."""


class Help:
    """The `!help` command over the App's commands (the list it keeps filling at start)."""

    def __init__(self, commands: Sequence[CommandSpec], catalog: Catalog) -> None:
        self.commands = commands
        self.catalog = catalog

    async def show(self, ctx: Context, command: list[str]) -> None:
        """`!help`: everyday commands on one screen; `!help volontaires|moderation|admin`: a
        section; `!help <command>`: its usage, description and aliases."""
        name = " ".join(command).lstrip(ctx.prefix).lower() if command else ""
        section = HELP_SECTIONS.get(fold(name), "everyday" if not name else None)
        if section is not None:
            await ctx.reply(self.section(ctx, section))
            return
        subcommands = family(self.commands, name)
        if subcommands and find(self.commands, name) is None:
            await ctx.reply(content.Rich.of(*(
                (content.Bold(s.usage(ctx.prefix, self.catalog, ctx.lang)),
                 f" — {ctx.t(s.summary)}" if s.summary else "") for s in subcommands)))
            return
        spec = find(self.commands, name)
        if spec is None:
            await ctx.reply(ctx.t("unknown_command", name=echo(command[0]), prefix=ctx.prefix))
            return
        lines: list[Any] = [content.Bold(spec.usage(ctx.prefix, self.catalog, ctx.lang))]
        if spec.summary:
            lines.append(ctx.t(spec.summary))
        if spec.aliases:
            lines.append(ctx.t("help.aliases", aliases=", ".join(
                f"{ctx.prefix}{a}" for a in spec.aliases)))
        await ctx.reply(content.Rich.of(*lines))

    def section(self, ctx: Context, section: str) -> content.Rich:
        """A section of `!help`. The everyday one fits Element's thread panel: the commands
        declared with an `order`, in that order, each with its summary; the other everyday
        commands by name on one line (all described when none has an order); then where the
        other sections are."""
        specs = [s for s in self.commands if s.section == section]
        also: list[str] = []
        if section == "everyday" and any(s.order is not None for s in specs):
            described = sorted((s for s in specs if s.order is not None),
                               key=lambda s: s.order or 0)
            taken = {s.name for s in described} | {"help"}
            for spec in specs:
                head = spec.name.split(" ", 1)[0]
                if spec.order is None and head not in taken:
                    taken.add(head)
                    also.append(f"{ctx.prefix}{head}")
        else:
            described = sorted(specs, key=lambda s: s.owner == "core")  # features first
        lines: list[Any] = [ctx.t(f"help.header.{section}")]
        for spec in described:
            summary = ctx.t(spec.summary) if spec.summary else ""
            lines.append((content.Bold(spec.usage(ctx.prefix, self.catalog, ctx.lang)),
                          f" — {summary}" if summary else ""))
        if also:
            lines.append(ctx.t("help.also", commands=" · ".join(also)))
        for other in HELP_POINTERS:
            if other != section and any(c.section == other for c in self.commands):
                lines.append(ctx.t(f"help.more.{other}", prefix=ctx.prefix))
        lines.append(ctx.t("help.footer", prefix=ctx.prefix))
        return content.Rich.of(*lines)
