"""The bot's own event and room types: what plugins see instead of nio's classes."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import ClassVar, Generic, TypeVar

from bot.text import shown_name

R = TypeVar("R")


class Unavailable(RuntimeError):
    """A service the bot needs (database, homeserver) cannot be used right now.

    Not a handler's fault: the App lets it through, and the sync loop keeps the batch and
    retries it once the service is back, so nothing is lost or answered twice."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class PluginEvent:
    """Base of what a plugin tells the others (`ctx.tell`): a notification, no answer. The
    plugin that tells defines its events (frozen dataclasses); subscribers declare
    `@on(TheEvent)` hooks. `Query` and `Gate` are the two other verbs' kinds."""

    __slots__ = ()


class Query(PluginEvent, Generic[R]):
    """A question a plugin asks the others (`ctx.ask`): each hook answers with one value of
    the type its class names in `answers` (or None: no answer). The asker gets the list of
    answers, checked: a hook answering another type is reported and left out."""

    __slots__ = ()
    answers: ClassVar[type | tuple[type, ...]] = object


class Gate(PluginEvent):
    """Something about to happen that another plugin may stop (`ctx.gate`): a hook raises
    `bot.plugin.Refusal` to refuse. A failing hook refuses too (fail closed)."""

    __slots__ = ()


class NotInRoom(RuntimeError):
    """The bot is not in the room (kicked, banned, gone): nothing is sent there. A timer
    whose message it was is dropped at once, not retried."""


class DownloadFailed(RuntimeError):
    """An attachment could not be read: gone, refused, or larger than the caller allows."""


@dataclass(frozen=True, slots=True)
class RoomInfo:
    """A snapshot of what the client knows about a room (kept from sync, no request)."""

    room_id: str
    name: str = ""
    encrypted: bool = True
    join_rule: str = "invite"
    history_visibility: str = "shared"
    members: frozenset[str] = frozenset()
    display_names: Mapping[str, str] = field(default_factory=dict)
    power_users: Mapping[str, int] = field(default_factory=dict)
    power_users_default: int = 0
    power_events: Mapping[str, int] = field(default_factory=dict)
    power_events_default: int = 0
    power_redact: int = 50
    power_invite: int = 50
    pinned_events: tuple[str, ...] = ()
    canonical_alias: str | None = None
    _shown: dict[str, str] = field(default_factory=dict, init=False, compare=False,
                                   repr=False)
    """Names as printed, kept with this snapshot (a card and a page print the same ones)."""

    def power_level(self, user_id: str) -> int:
        return int(self.power_users.get(user_id, self.power_users_default))

    def display_name(self, user_id: str) -> str:
        """The member's name as the bot prints it (`shown_name`: nothing hidden, no check
        mark nor the words of the verified mark), else their id."""
        shown = self._shown.get(user_id)
        if shown is None:
            shown = self._shown[user_id] = (
                shown_name(self.display_names.get(user_id) or "") or user_id)
        return shown

    def can_invite(self, user_id: str) -> bool:
        return self.power_level(user_id) >= self.power_invite

    def can_send_state(self, user_id: str, event_type: str) -> bool:
        needed = self.power_events.get(event_type, max(self.power_events_default, 50))
        return self.power_level(user_id) >= needed


@dataclass(frozen=True, slots=True)
class Event:
    room_id: str
    event_id: str
    sender: str
    timestamp: int
    """Origin server timestamp, milliseconds."""


@dataclass(frozen=True, slots=True)
class Message(Event):
    """A text message (m.text, m.notice, m.emote). Edits arrive as `Edit`, not as Message."""

    body: str
    msgtype: str = "m.text"
    formatted_body: str | None = None
    thread_root: str | None = None
    in_reply_to: str | None = None
    mentions: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Edit(Event):
    """An m.replace of `original`; `body` is the new content's body (without the `* `)."""

    original: str
    body: str
    msgtype: str = "m.text"
    thread_root: str | None = None
    formatted_body: str | None = None
    """The new content's HTML (`m.new_content.formatted_body`), when it has one."""


@dataclass(frozen=True, slots=True)
class Reaction(Event):
    relates_to: str
    key: str


@dataclass(frozen=True, slots=True)
class Redaction(Event):
    redacts: str


@dataclass(frozen=True, slots=True)
class MemberChange(Event):
    user_id: str
    membership: str
    prev_membership: str | None = None
    displayname: str = ""
    """The name the member gives with this event (a knock's name, for instance)."""
    reason: str = ""
    """The reason given with a knock, leave, kick or ban (at most 500 characters)."""


@dataclass(frozen=True, slots=True)
class StateChange(Event):
    """A room state event other than membership (encryption, join rules, power levels…)."""

    event_type: str
    state_key: str = ""


@dataclass(frozen=True, slots=True)
class Attachment(Event):
    """An image or file; its bytes come from `Context.download` (decrypted in memory)."""

    msgtype: str
    mimetype: str = ""
    size: int = 0
    url: str = ""
    encryption: Mapping[str, object] | None = None
    thread_root: str | None = None


@dataclass(frozen=True, slots=True)
class Undecryptable(Event):
    """A message the bot could not decrypt within the grace period."""

    thread_root: str | None = None
