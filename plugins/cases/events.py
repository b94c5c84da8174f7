"""The case lifecycle, told by the cases plugin to the other features, and what it asks them.

Data flows one way: cases tells (`ctx.tell`), asks (`ctx.ask`) and gates (`ctx.gate`);
secrecy, volunteers and the others subscribe (`@on(CaseOpened)` …) and never reach into the
cases plugin or its store. A hook receives the teller's context (it answers in the case's
thread with `ctx.in_thread_of(case.root_event_id)`); hooks run in plugin load order.

In order, for one `!case`:
1. gate `CaseOpening` — before anything is stored; a hook may raise `Refusal` (secrecy: a
   room that is not private and encrypted, or a post it deleted in redact mode). Nothing is
   kept then, and the refusal is the answer.
2. the case is stored and numbered, its reminders armed; tell `CaseNumbered`: hooks settle
   what the card will show (volunteers choose and record whom they page), so the card is
   sent once, complete;
3. its card is posted — always the first bot message of the thread; it asks `CardLines`
   and `PosterSigns` to fill it;
4. tell `CaseOpened` — the case exists and its card is in the thread: secrecy checks the
   text and onboards a first-time poster, volunteers page colleagues.
Later (told):
- `CaseReplied`: every message (not a notice) or attachment in a case's thread, commands
  included (`!resolve`, `!redact`…): subscribers filter what they need;
- `CaseEdited`: an edit, by its own author, of a case's root or of a reply in its thread
  (told before the case is retagged from the new text);
- `CaseChanged`: status, tags or the count of answers changed; the card is redrawn once
  the event's handlers are done. A reply that is the case's first answer tells
  `CaseReplied`, then `CaseChanged`;
- `CaseRootGone`: the root was redacted by its poster or a member with the redact power, the
  bot included; the case is withdrawn (`CaseChanged` is told just before);
- `StatsShown` once `!stats` is answered (not for `!stats text`), with the figures to draw:
  hooks may add pictures in its thread.
Asked: `StatsLines` (`!stats`: each hook answers lines of counts).
Others may ask `CaseOfThread` which case a thread is (secrecy's `!redact`): cases answers
from its store, so the answer holds after a restart and no one else reads its tables.
Others tell `CardDirty` when what they add to a card changed (volunteers after `!take`):
cases redraws the card once, after the event's handlers are done (`Context.after`), however
many marked it; a redraw tells nothing, so no subscriber loops back into itself.
Others may ask `OpenCase` to open a case on a message the bot posted itself (network: a case
relayed from another room; `CaseOpening` may refuse: the `Refusal` comes back to the asker),
and `CaseStatusWanted` to resolve, reopen or withdraw a case as its poster would (network:
both cards of a relayed case follow the poster's act), and tell `ReplyMirrored` when the bot
copied into a case's thread a reply posted elsewhere (network: an answer from the wider room
counts as an answer; ✅ on it resolves, accepting it).
Texts carried by these events live in memory only; no subscriber may store or log them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

from bot.content import Part
from bot.events import Attachment, Edit, Gate, Message, PluginEvent, Query
from bot.router import split_command
from plugins.cases.model import Case, ChartFigures

CASE_COMMANDS: tuple[str, ...] = ("case", "cas")
"""The command that opens a case, then its aliases (`!case`, `!cas`)."""


def case_text(body: str, prefixes: Sequence[str]) -> str | None:
    """A case post's text without its command (`!case …` -> `…`); None when `body` does not
    open a case (an edit that dropped the command, say)."""
    split = split_command(body, prefixes)
    return split[1] if split is not None and split[0] in CASE_COMMANDS else None


@dataclass(frozen=True, slots=True)
class CaseOpening(Gate):
    """A `!case` about to be opened (nothing stored yet): a hook may raise `Refusal`."""

    room_id: str
    event_id: str
    poster: str
    text: str
    """The case's text, without the command (memory only)."""


@dataclass(frozen=True, slots=True)
class CaseNumbered(PluginEvent):
    """A case was stored and numbered; its card is drawn next (no card, no message yet)."""

    case: Case
    text: str
    """The case's text, without the command (memory only)."""


@dataclass(frozen=True, slots=True)
class CaseOpened(PluginEvent):
    """A case was opened and its card posted in its thread."""

    case: Case
    text: str
    """The case's text, without the command (memory only)."""


@dataclass(frozen=True, slots=True)
class CaseChanged(PluginEvent):
    """A case changed (status, tags, count of answers); its card was already redrawn.
    `before` is the case as it was, to tell what changed."""

    case: Case
    before: Case


@dataclass(frozen=True, slots=True)
class CaseReplied(PluginEvent):
    """A message (not a notice) or an attachment in a case's thread, its root excluded;
    commands too. Published after the reply is recorded (`case` counts it)."""

    case: Case
    event: Message | Attachment


@dataclass(frozen=True, slots=True)
class CaseEdited(PluginEvent):
    """An edit of a case's root or of a reply in its thread, sent by that message's author.

    `text` is the new text (for the root: without the `!case` command)."""

    case: Case
    event: Edit
    text: str
    of_root: bool


@dataclass(frozen=True, slots=True)
class CaseRootGone(PluginEvent):
    """A case's root was redacted (by its poster, a moderator or the bot): it is withdrawn."""

    case: Case


@dataclass(frozen=True, slots=True)
class CardLines(Query[list[tuple[Part, ...]]]):
    """Drawing a case's card: each hook answers a list of lines (tuples of parts) to add."""

    answers: ClassVar[type] = list

    case: Case


@dataclass(frozen=True, slots=True)
class PosterSigns(Query[Part]):
    """Drawing a case's card: each hook returns a short sign shown after the poster's name
    (text or a `bot.content.Part`: trust's bold "✔ (vérifié, annuaire RPPS)"), or "" for
    none."""

    answers: ClassVar[tuple[type, ...]] = Part.__args__

    case: Case


@dataclass(frozen=True, slots=True)
class StatsLines(Query[list[tuple[Part, ...]]]):
    """`!stats` for the room since `since`: each hook answers a list of lines (counts only)."""

    answers: ClassVar[type] = list

    room_id: str
    since: float


@dataclass(frozen=True, slots=True)
class StatsShown(PluginEvent):
    """`!stats` answered for the room since `since`: hooks may add pictures in its thread."""

    room_id: str
    since: float
    chart: ChartFigures


@dataclass(frozen=True, slots=True)
class CardDirty(PluginEvent):
    """Told by another feature whose card lines changed: the card is redrawn once, after the
    event's handlers are done."""

    room_id: str
    number: int


@dataclass(frozen=True, slots=True)
class CaseOfThread(Query[Case]):
    """Asked by another feature: the case whose thread `root` starts in `room_id`. The cases
    hook answers it (a `Case`), or None when that thread is no case."""

    answers: ClassVar[type] = Case

    room_id: str
    root: str


@dataclass(frozen=True, slots=True)
class OpenCase(Query[Case]):
    """Asked by another feature: open a case on `root`, a message the bot posted in `room_id`
    for `poster` (the bot's own messages are no commands). It goes the way of `!case`
    (`CaseOpening` may refuse: the `Refusal` comes back to the asker); cases answers the new
    `Case`."""

    answers: ClassVar[type] = Case

    room_id: str
    root: str
    poster: str
    text: str
    """The case's text (memory only)."""


@dataclass(frozen=True, slots=True)
class CaseStatusWanted(Query[Case]):
    """Asked by another feature: set case `number` of `room_id` to `status` (`resolved` by
    `by`, `open` again, or `withdrawn`) as `!resolve`, `!reopen` or a redaction would. Cases
    answers the case as it is then, or None when there is no such case."""

    answers: ClassVar[type] = Case

    room_id: str
    number: int
    status: str
    by: str


@dataclass(frozen=True, slots=True)
class ReplyMirrored(PluginEvent):
    """Told by another feature: the bot posted `event_id` in case `number`'s thread, a copy
    of `sender`'s reply in another room. Cases records it as `sender`'s reply (an answer
    unless the poster's) and tells `CaseChanged` when it counted."""

    room_id: str
    number: int
    event_id: str
    sender: str
    at: float
