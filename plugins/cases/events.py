"""The case lifecycle, published by the cases plugin for the other features.

Data flows one way: cases publishes, secrecy and volunteers subscribe (`@on(CaseOpened)` …)
and never reach into the cases plugin or its store. A hook receives the publisher's context
(it answers in the case's thread with `ctx.in_thread_of(case.root_event_id)`).

In order, for one `!case`:
1. `CaseOpening` — before anything is stored; a hook may raise `Refusal` (secrecy: a room that
   is not private and encrypted, or a post it deleted in redact mode). Nothing is kept then.
2. the case is stored and numbered, its reminders armed, its card posted — the card is always
   the first bot message of the thread; `CardLines` is published to fill it;
3. `CaseOpened` — the case exists and its card is in the thread: secrecy checks the text and
   onboards a first-time poster, volunteers page colleagues.
Later: `CaseReplied` (a message or attachment in a case's thread, not a command),
`CaseEdited` (an edit, by its own author, of a case's root or of a reply in its thread),
`CaseChanged` (status, tags or replies changed; the card is already up to date),
`CaseRootGone` (the root was redacted: the case is withdrawn), `StatsLines` (for `!stats`).
Others may publish `CardStale` to have a case's card redrawn (volunteers after `!take`).
Texts carried by these events live in memory only; no subscriber may store or log them.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.events import Attachment, Edit, Message, PluginEvent
from plugins.cases.store import Case


@dataclass(frozen=True, slots=True)
class CaseOpening(PluginEvent):
    """A `!case` about to be opened (nothing stored yet): a hook may raise `Refusal`."""

    room_id: str
    event_id: str
    poster: str
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
    """A case changed (status, tags, replies); its card was already redrawn."""

    case: Case
    before: Case


@dataclass(frozen=True, slots=True)
class CaseReplied(PluginEvent):
    """A message or an attachment in a case's thread (its root excluded; commands too)."""

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
class CardLines(PluginEvent):
    """Drawing a case's card: each hook returns a list of lines (tuples of parts) to add."""

    case: Case


@dataclass(frozen=True, slots=True)
class StatsLines(PluginEvent):
    """`!stats` for the room since `since`: each hook returns a list of lines (counts only)."""

    room_id: str
    since: float


@dataclass(frozen=True, slots=True)
class CardStale(PluginEvent):
    """Published by another feature whose card lines changed: the card is redrawn."""

    room_id: str
    number: int
