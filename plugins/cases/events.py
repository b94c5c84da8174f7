"""The case lifecycle, published by the cases plugin for the other features.

Data flows one way: cases publishes, secrecy and volunteers subscribe (`@on(CaseOpened)` …)
and never reach into the cases plugin or its store. A hook receives the publisher's context
(it answers in the case's thread with `ctx.in_thread_of(case.root_event_id)`); hooks run in
plugin load order, and what they return goes back to cases (`CardLines`, `StatsLines`).

In order, for one `!case`:
1. `CaseOpening` — before anything is stored; a hook may raise `Refusal` (secrecy: a room that
   is not private and encrypted, or a post it deleted in redact mode). Nothing is kept then,
   and the refusal is the answer.
2. the case is stored and numbered, its reminders armed; `CaseNumbered`: hooks settle what
   the card will show (volunteers choose and record whom they page), so the card is sent
   once, complete, and not edited seconds later;
3. its card is posted — always the first bot message of the thread; `CardLines` is
   published to fill it;
4. `CaseOpened` — the case exists and its card is in the thread: secrecy checks the text and
   onboards a first-time poster, volunteers page colleagues.
Later:
- `CaseReplied`: every message (not a notice) or attachment in a case's thread, commands
  included (`!resolve`, `!redact`…): subscribers filter what they need;
- `CaseEdited`: an edit, by its own author, of a case's root or of a reply in its thread
  (published before the case is retagged from the new text);
- `CaseChanged`: status, tags or the count of answers changed; the card is already redrawn.
  A reply that is the case's first answer publishes `CaseReplied`, then `CaseChanged`;
- `CaseRootGone`: the root was redacted by its poster or a member with the redact power, the
  bot included; the case is withdrawn (`CaseChanged` is published just before);
- `StatsLines`: `!stats`, each hook returns lines of counts; then `StatsShown` once the
  answer is sent (not for `!stats text`), with the figures to draw: hooks may add pictures in
  its thread.
Others may ask `CaseOfThread` which case a thread is (secrecy's `!redact`): cases answers
from its store, so the answer holds after a restart and no one else reads its tables.
Others may ask `OpenCase` to open a case on a message the bot posted itself (network: a case
relayed from another room), and `CaseStatusWanted` to resolve, reopen or withdraw a case as
its poster would (network: both cards of a relayed case follow the poster's act), and tell
`ReplyMirrored` when the bot copied into a case's thread a reply posted elsewhere (network:
an answer from the wider room counts as an answer; ✅ on it resolves, accepting it).
Others may publish `CardStale` to have a case's card redrawn (volunteers after `!take`); that
redraw publishes nothing, so a subscriber of `CaseChanged` never loops back into itself.
Texts carried by these events live in memory only; no subscriber may store or log them.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.events import Attachment, Edit, Message, PluginEvent
from plugins.cases.model import Case, ChartFigures

CASE_COMMANDS: tuple[str, ...] = ("case", "cas")
"""The command that opens a case, then its aliases (`!case`, `!cas`)."""


@dataclass(frozen=True, slots=True)
class CaseOpening(PluginEvent):
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
class CardLines(PluginEvent):
    """Drawing a case's card: each hook returns a list of lines (tuples of parts) to add."""

    case: Case


@dataclass(frozen=True, slots=True)
class PosterSigns(PluginEvent):
    """Drawing a case's card: each hook returns a short sign shown after the poster's name
    (text or a `bot.content.Part`: trust's bold "✔ (vérifié, annuaire RPPS)"), or "" for
    none."""

    case: Case


@dataclass(frozen=True, slots=True)
class StatsLines(PluginEvent):
    """`!stats` for the room since `since`: each hook returns a list of lines (counts only)."""

    room_id: str
    since: float


@dataclass(frozen=True, slots=True)
class StatsShown(PluginEvent):
    """`!stats` answered for the room since `since`: hooks may add pictures in its thread."""

    room_id: str
    since: float
    chart: ChartFigures


@dataclass(frozen=True, slots=True)
class CardStale(PluginEvent):
    """Published by another feature whose card lines changed: the card is redrawn."""

    room_id: str
    number: int


@dataclass(frozen=True, slots=True)
class CaseOfThread(PluginEvent):
    """Asked by another feature: the case whose thread `root` starts in `room_id`. The cases
    hook returns it (a `Case`), or None when that thread is no case."""

    room_id: str
    root: str


@dataclass(frozen=True, slots=True)
class OpenCase(PluginEvent):
    """Asked by another feature: open a case on `root`, a message the bot posted in `room_id`
    for `poster` (the bot's own messages are no commands). It goes the way of `!case`
    (`CaseOpening` may refuse: the `Refusal` comes back to the asker); cases answers the new
    `Case`."""

    room_id: str
    root: str
    poster: str
    text: str
    """The case's text (memory only)."""


@dataclass(frozen=True, slots=True)
class CaseStatusWanted(PluginEvent):
    """Asked by another feature: set case `number` of `room_id` to `status` (`resolved` by
    `by`, `open` again, or `withdrawn`) as `!resolve`, `!reopen` or a redaction would. Cases
    answers the case as it is then, or None when there is no such case."""

    room_id: str
    number: int
    status: str
    by: str


@dataclass(frozen=True, slots=True)
class ReplyMirrored(PluginEvent):
    """Told by another feature: the bot posted `event_id` in case `number`'s thread, a copy
    of `sender`'s reply in another room. Cases records it as `sender`'s reply (an answer
    unless the poster's) and publishes `CaseChanged` when it counted."""

    room_id: str
    number: int
    event_id: str
    sender: str
    at: float
