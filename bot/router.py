"""Command parsing: declared arguments, generated usage lines, localized errors.

A command declares its arguments once; the same declaration parses the message, renders the
usage line (`!case [texte]`) in the room's language and explains what was wrong. The base `Arg`
lives in `bot.plugin` with the declarations (this module imports it, never the other way).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from bot.config import parse_duration
from bot.i18n import Catalog, echo
from bot.plugin import Arg, Context
from bot.text import fold

_USER_ID = re.compile(r"^@[^:\s]+:\S+$")
_PILL = re.compile(r"https://matrix\.to/#/(@[^\"'>\s?]+)")


class BadArguments(Exception):
    """A command's arguments did not parse; `reason` is a (key, values) pair for i18n."""

    def __init__(self, key: str, **values: object) -> None:
        super().__init__(key)
        self.key = key
        self.values = {k: echo(v) if isinstance(v, str) else v for k, v in values.items()}


@dataclass(frozen=True, slots=True)
class Int(Arg):
    low: int | None = None
    high: int | None = None

    def convert(self, raw: str, ctx: Context) -> int:
        try:
            value = int(raw)
        except ValueError:
            raise BadArguments("bad.int", value=raw) from None
        if (self.low is not None and value < self.low) or (
            self.high is not None and value > self.high
        ):
            raise BadArguments("bad.range", name=self.name, low=self.low, high=self.high)
        return value


@dataclass(frozen=True, slots=True)
class Duration(Arg):
    def convert(self, raw: str, ctx: Context) -> float:
        try:
            return float(parse_duration(raw))
        except ValueError:
            raise BadArguments("bad.duration", value=raw) from None


@dataclass(frozen=True, slots=True)
class Choice(Arg):
    choices: tuple[str, ...] = ()

    def convert(self, raw: str, ctx: Context) -> str:
        folded = fold(raw)
        for choice in self.choices:
            if fold(choice) == folded:
                return choice
        raise BadArguments("bad.choice", value=raw, choices=", ".join(self.choices))

    def placeholder(self, label: str) -> str:
        inner = "|".join(self.choices)
        return f"[{inner}]" if self.optional else f"<{inner}>"


@dataclass(frozen=True, slots=True)
class User(Arg):
    def convert(self, raw: str, ctx: Context) -> str:
        if not _USER_ID.match(raw):
            raise BadArguments("bad.user", value=raw)
        return raw


@dataclass(frozen=True, slots=True)
class Rest(Arg):
    """Everything after the previous arguments, as typed (line breaks kept); a subclass may
    convert it whole (`convert` gets the whole text)."""


@dataclass(frozen=True, slots=True)
class Many(Arg):
    """One or more words (zero or more when optional); converted by `item`."""

    item: Arg | None = None

    def convert(self, raw: str, ctx: Context) -> Any:
        return self.item.convert(raw, ctx) if self.item else raw

    def placeholder(self, label: str) -> str:
        return f"[{label}…]" if self.optional else f"<{label}>…"


@dataclass(frozen=True, slots=True)
class CommandSpec:
    name: str
    handler: Callable[..., Any]
    args: tuple[Arg, ...] = ()
    aliases: tuple[str, ...] = ()
    summary: str = ""
    """i18n key of the one-line description shown by help."""
    owner: str = ""
    extra_help: tuple[str, ...] = field(default_factory=tuple)
    section: str = "everyday"
    """Where `!help` lists it: `everyday` (the first screen), `volunteers`, `moderation` or
    `admin`."""
    order: int | None = None
    """Its place among the everyday commands `!help` describes (None: only named there)."""
    admin: bool = False
    """Only room admins may run it (refused before its arguments are read)."""
    checks: tuple[Callable[..., Any], ...] = ()
    """Run on (ctx, arguments) before the handler; they refuse by raising `Refusal`."""

    def usage(self, prefix: str, catalog: Catalog, lang: str) -> str:
        parts = [f"{prefix}{self.name}"]
        for arg in self.args:
            parts.append(arg.placeholder(catalog.label(lang, self.owner, arg.name)))
        return " ".join(parts)


def split_command(body: str, prefixes: str | Sequence[str]) -> tuple[str, str] | None:
    """`!case 45 ans…` -> ("case", "45 ans…"); None when the text is not a command.

    `prefixes` is one prefix or several (the room's aliases); the longest that fits wins.
    """
    text = _strip_reply_fallback(body).lstrip()
    choices = (prefixes,) if isinstance(prefixes, str) else prefixes
    prefix = max((p for p in choices if text.startswith(p)), key=len, default=None)
    if prefix is None:
        return None
    rest = text[len(prefix):]
    match = re.match(r"(\S+)", rest)
    if not match:
        return None
    return fold(match.group(1)), rest[match.end():].lstrip(" \t").removeprefix("\n")


def _strip_reply_fallback(body: str) -> str:
    lines = body.split("\n")
    if lines and lines[0].startswith("> <"):
        while lines and lines[0].startswith(">"):
            lines.pop(0)
        if lines and not lines[0].strip():
            lines.pop(0)
    return "\n".join(lines)


def tokenize(text: str) -> list[tuple[str, int]]:
    """Words with their end offsets; "double quotes" group words, pills become user ids."""
    text = _PILL.sub(lambda m: m.group(1), text)
    tokens: list[tuple[str, int]] = []
    i, n = 0, len(text)
    while i < n:
        if text[i].isspace():
            i += 1
            continue
        if text[i] in "\"«“":
            closing = {"\"": "\"", "«": "»", "“": "”"}[text[i]]
            end = text.find(closing, i + 1)
            if end < 0:
                raise BadArguments("bad.quote")
            tokens.append((text[i + 1:end].strip(), end + 1))
            i = end + 1
            continue
        j = i
        while j < n and not text[j].isspace():
            j += 1
        tokens.append((text[i:j], j))
        i = j
    return tokens


def parse_args(spec: CommandSpec, text: str, ctx: Context) -> dict[str, Any]:
    """Convert the text after the command name into keyword arguments for the handler."""
    values: dict[str, Any] = {}
    args = spec.args
    if args and isinstance(args[-1], Rest):
        head_args, rest_arg = args[:-1], args[-1]
    else:
        head_args, rest_arg = args, None
    tokens = tokenize(text) if head_args else []
    pos = 0
    consumed_to = 0
    for arg in head_args:
        if isinstance(arg, Many):
            items = [arg.convert(tok, ctx) for tok, _ in tokens[pos:]]
            if not items and not arg.optional:
                raise BadArguments("bad.missing", name=arg.name)
            values[arg.name] = items
            pos = len(tokens)
            consumed_to = len(text)
            continue
        if pos >= len(tokens):
            if not arg.optional:
                raise BadArguments("bad.missing", name=arg.name)
            values[arg.name] = arg.default
            continue
        values[arg.name] = arg.convert(tokens[pos][0], ctx)
        consumed_to = tokens[pos][1]
        pos += 1
    if rest_arg is not None:
        rest = text[consumed_to:].strip() if head_args else text.strip()
        if not rest and not rest_arg.optional:
            raise BadArguments("bad.missing", name=rest_arg.name)
        values[rest_arg.name] = rest_arg.convert(rest, ctx) if rest else rest_arg.default
    elif pos < len(tokens):
        raise BadArguments("bad.extra", value=tokens[pos][0])
    return values


def find(specs: Sequence[CommandSpec], name: str) -> CommandSpec | None:
    for spec in specs:
        if name == spec.name or name in spec.aliases:
            return spec
    return None


def resolve(specs: Sequence[CommandSpec], name: str, text: str
            ) -> tuple[CommandSpec | None, str]:
    """The command `name`, or its subcommand named by the first word of `text` (`!specialty
    add …` is the command "specialty add"), and the text left for its arguments."""
    word = re.match(r"\S+", text)
    if word:
        spec = find(specs, f"{name} {fold(word.group(0))}")
        if spec is not None:
            return spec, text[word.end():].lstrip(" \t")
    return find(specs, name), text


def family(specs: Sequence[CommandSpec], name: str) -> list[CommandSpec]:
    """The subcommands of `name` (`specialty add`, `specialty remove`…), in declaration order."""
    return [s for s in specs
            if any(n.startswith(f"{name} ") for n in (s.name, *s.aliases))]
