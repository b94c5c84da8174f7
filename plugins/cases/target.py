"""Typed arguments of the cases commands: which case (its number, else the thread's), the
specialties of `!tag`, the filter of `!cases`.

Converters are synchronous: they check the form of a number and name the room's
specialties (kept in memory by the specialties feature); whether the numbered case exists is
for the command's check (`Cases.case_for`), which reads the store.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from bot.content import Rich
from bot.i18n import LANGUAGES
from bot.plugin import Context, Refusal
from bot.router import Arg, Many, Rest
from bot.text import fold
from plugins.specialties import Specialty, SpecialtyArg

MAX_CASE_DIGITS = 9
UNKNOWN_SPECIALTY = "cases.unknown_specialty"


class NotACaseNumber(ValueError):
    """A word shaped like a number that names no case (`²`, `٣`, twenty digits)."""


def case_number(word: str) -> int | None:
    """The case number `word` names (`12`, `#12`), None when it is not a number at all.

    Only ASCII digits, at most `MAX_CASE_DIGITS` of them; other numerals (`²`, `٣`) and longer
    numbers raise `NotACaseNumber`, so a command can answer clearly instead of failing.
    """
    digits = word.lstrip("#")
    if not digits.isnumeric():
        return None
    if not (digits.isascii() and digits.isdigit() and len(digits) <= MAX_CASE_DIGITS):
        raise NotACaseNumber(word)
    return int(digits)


def numbered_usage(ctx: Context, command: str) -> str:
    """How to run `command` on a case named by its number (`!resolve <n°> [résumé]`)."""
    return ctx.prefix + ctx.t(f"cases.usage.{command}")


def bad_number(ctx: Context, command: str) -> Refusal:
    return Refusal(Rich.of(ctx.t("cases.bad_number", max=MAX_CASE_DIGITS),
                           ctx.t("usage", usage=numbered_usage(ctx, command))))


@dataclass(frozen=True, slots=True)
class CaseNumber(Arg):
    """A case's number (`12`, `#12`); any other word is no number (None: the case of the
    thread the command is in). A number no case can have refuses, showing `command`'s usage
    with a number."""

    command: str = ""

    def convert(self, raw: str, ctx: Context) -> int | None:
        try:
            return case_number(raw)
        except NotACaseNumber:
            raise bad_number(ctx, self.command) from None


@dataclass(frozen=True, slots=True)
class TagWords(Many):
    """`!tag [n°] <spécialité>…`: optionally the case's number first, then specialties of
    the room (a word naming none refuses). Items are that number and `Specialty`s; see
    `split_tag_words`. The label is the whole placeholder (`[n°] <spécialité>`)."""

    command: str = "tag"

    def convert(self, raw: str, ctx: Context) -> int | Specialty:
        number = CaseNumber(self.name, command=self.command).convert(raw, ctx)
        if number is not None:
            return number
        return SpecialtyArg(self.name, unknown=UNKNOWN_SPECIALTY).convert(raw, ctx)

    def placeholder(self, label: str) -> str:
        return f"{label}…"


def split_tag_words(ctx: Context, words: Sequence[int | Specialty]
                    ) -> tuple[int | None, list[str]]:
    """The case number (None: the thread's case) and the specialty ids of `!tag`'s words.
    A number anywhere but first names no specialty; no specialty at all refuses too."""
    number = words[0] if words and isinstance(words[0], int) else None
    ids: list[str] = []
    for word in words[1:] if number is not None else words:
        if isinstance(word, int):
            raise Refusal(ctx.t(UNKNOWN_SPECIALTY, name=str(word), prefix=ctx.prefix))
        if word.id not in ids:
            ids.append(word.id)
    if not ids:
        raise Refusal(ctx.t(UNKNOWN_SPECIALTY, name="—", prefix=ctx.prefix))
    return number, ids


def number_in(values: dict[str, Any]) -> int | None:
    """The case number a command's parsed arguments name (None: the thread's case)."""
    if "number" in values:
        return values["number"]
    words = values.get("specialties") or ()
    return words[0] if words and isinstance(words[0], int) else None


@dataclass(frozen=True, slots=True)
class Listing:
    """What `!cases` lists: the open cases of a specialty, the member's own, or all."""

    specialty: str | None = None
    mine: bool = False


@dataclass(frozen=True, slots=True)
class CasesFilter(Rest):
    """`!cases [spécialité|mine]`: a specialty of the room, or words for "mine" in any
    language (`cases.filter.mine`: "mes cas" needs no quotes)."""

    def convert(self, raw: str, ctx: Context) -> Listing:
        word = fold(raw.strip().strip('"«»“” ').lstrip("#"))
        mine = {fold(w.strip()) for lang in LANGUAGES
                for w in ctx.bot.catalog.t(lang, "cases.filter.mine").split(",")}
        if word in mine:
            return Listing(mine=True)
        return Listing(SpecialtyArg(self.name, unknown=UNKNOWN_SPECIALTY).convert(raw, ctx).id)
