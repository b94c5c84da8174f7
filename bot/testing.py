"""Fast plugin tests: a fake transport, a fake clock and a harness that drives the App.

The fake keeps what the homeserver would: every sent event (with its transaction-id
deduplication), room state, and the time. No network: a test runs in milliseconds.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.app import App
from bot.config import Config
from bot.events import (
    Attachment,
    DownloadFailed,
    Edit,
    Event,
    MemberChange,
    Message,
    Reaction,
    Redaction,
    RoomInfo,
    StateChange,
)
from bot.plugin import Plugin
from bot.storage import Database

BOT = "@casebot:test"
START = 1_800_000_000.0


@dataclass
class Sent:
    room_id: str
    event_type: str
    content: dict[str, Any]
    event_id: str

    @property
    def body(self) -> str:
        return str(self.content.get("body", ""))

    @property
    def html(self) -> str:
        return str(self.content.get("formatted_body", ""))

    @property
    def thread_root(self) -> str | None:
        rel = self.content.get("m.relates_to") or {}
        return rel.get("event_id") if rel.get("rel_type") == "m.thread" else None

    @property
    def reply_to(self) -> str | None:
        """The event this message replies to in the main timeline (not in a thread)."""
        rel = self.content.get("m.relates_to") or {}
        return None if rel.get("rel_type") else (rel.get("m.in_reply_to") or {}).get("event_id")

    @property
    def mentions(self) -> list[str]:
        return list((self.content.get("m.mentions") or {}).get("user_ids", []))

    @property
    def replaces(self) -> str | None:
        rel = self.content.get("m.relates_to") or {}
        return rel.get("event_id") if rel.get("rel_type") == "m.replace" else None

    @property
    def file_url(self) -> str | None:
        """The mxc:// address of an encrypted attachment the bot sent."""
        return (self.content.get("file") or {}).get("url")


@dataclass
class Uploaded:
    """A file the bot uploaded (the fake keeps it in clear: a test reads the bytes back)."""

    url: str
    data: bytes
    mimetype: str
    filename: str


class FakeClock:
    def __init__(self, start: float = START) -> None:
        self.value = start

    def __call__(self) -> float:
        return self.value


@dataclass
class FakeTransport:
    user_id: str = BOT
    rooms: dict[str, RoomInfo] = field(default_factory=dict)
    sent: list[Sent] = field(default_factory=list)
    redacted: list[str] = field(default_factory=list)
    state: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)
    files: dict[str, bytes] = field(default_factory=dict)
    invited: list[tuple[str, str]] = field(default_factory=list)
    uploads: list[Uploaded] = field(default_factory=list)
    direct: dict[str, str] = field(default_factory=dict)
    """Each user's direct room, as the bot's `m.direct` would remember it."""
    senders: dict[tuple[str, str], str] = field(default_factory=dict)
    """(room, event id) → sender of every event the homeserver has: delivered or sent."""
    aliases: dict[str, str] = field(default_factory=dict)
    """The homeserver's room directory: alias → room id."""
    texts: dict[tuple[str, str], str] = field(default_factory=dict)
    """(room, event id) → a delivered message's text, as its author last edited it."""
    fail_sends: int = 0
    _txns: dict[str, str] = field(default_factory=dict)
    _ids: itertools.count = field(default_factory=lambda: itertools.count(1))

    def room(self, room_id: str) -> RoomInfo | None:
        return self.rooms.get(room_id)

    def room_ids(self) -> tuple[str, ...]:
        return tuple(self.rooms)

    async def invite(self, room_id: str, user_id: str) -> bool:
        room = self.rooms.get(room_id)
        if room is None or not room.can_invite(self.user_id):
            return False
        self.invited.append((room_id, user_id))
        return True

    async def send(self, room_id: str, event_type: str, body: dict[str, Any],
                   txn_id: str) -> str:
        if txn_id in self._txns:
            return self._txns[txn_id]
        if self.fail_sends:
            self.fail_sends -= 1
            raise ConnectionError("fake send failure")
        event_id = f"$bot{next(self._ids)}"
        self._txns[txn_id] = event_id
        self.sent.append(Sent(room_id, event_type, body, event_id))
        self.senders[(room_id, event_id)] = self.user_id
        return event_id

    async def redact(self, room_id: str, event_id: str, reason: str, txn_id: str) -> bool:
        room = self.rooms.get(room_id)
        own = any(s.event_id == event_id for s in self.sent)  # as on Matrix: no power needed
        if room is None or (not own and room.power_level(self.user_id) < room.power_redact):
            return False
        self.redacted.append(event_id)
        return True

    async def put_state(self, room_id: str, event_type: str, body: dict[str, Any],
                        state_key: str = "") -> bool:
        self.state.append((room_id, event_type, body))
        if event_type == "m.room.pinned_events" and room_id in self.rooms:
            self.rooms[room_id] = dataclasses.replace(
                self.rooms[room_id], pinned_events=tuple(body.get("pinned", ())))
        return True

    async def get_state(self, room_id: str, event_type: str,
                        state_key: str = "") -> dict[str, Any] | None:
        for room, kind, content in reversed(self.state):
            if room == room_id and kind == event_type:
                return content
        room_info = self.rooms.get(room_id)
        if event_type == "m.room.pinned_events" and room_info and room_info.pinned_events:
            return {"pinned": list(room_info.pinned_events)}
        return None

    async def download(self, attachment: Attachment, limit: int = 20 * 1024 * 1024) -> bytes:
        data = self.files.get(attachment.url)
        if data is None or len(data) > limit:
            raise DownloadFailed("gone or larger than allowed")
        return data

    async def upload(self, data: bytes, mimetype: str, filename: str) -> dict[str, Any]:
        url = f"mxc://test/upload{next(self._ids)}"
        self.files[url] = data
        self.uploads.append(Uploaded(url, data, mimetype, filename))
        return {"url": url, "key": {"kty": "oct", "alg": "A256CTR", "k": "fake",
                                    "key_ops": ["encrypt", "decrypt"], "ext": True},
                "iv": "fake", "hashes": {"sha256": "fake"}, "v": "v2"}

    async def direct_room(self, user_id: str) -> str:
        """The user's direct room while they are in it alone with the bot, else a new
        encrypted one."""
        room_id = self.direct.get(user_id)
        if room_id is None or self.rooms[room_id].members != {self.user_id, user_id}:
            room_id = f"!direct{next(self._ids)}:test"
            self.rooms[room_id] = RoomInfo(room_id, members=frozenset([self.user_id, user_id]))
            self.direct[user_id] = room_id
        return room_id

    async def event_sender(self, room_id: str, event_id: str) -> str | None:
        return self.senders.get((room_id, event_id))

    async def message_text(self, room_id: str, event_id: str) -> str | None:
        return self.texts.get((room_id, event_id))

    async def resolve_alias(self, alias: str) -> str | None:
        return self.aliases.get(alias)


class Harness:
    """An App on a fake transport, an in-memory database and a fake clock.

    Use as `async with Harness([MyPlugin]) as h:`; `h.say(...)` posts a message as a user
    and returns its event id; `h.sent` lists what the bot sent.
    """

    def __init__(self, plugins: Sequence[type[Plugin]] = (), config: Config | None = None,
                 sections: dict[str, Any] | None = None, db_path: Path | str = ":memory:",
                 clock: FakeClock | None = None, transport: FakeTransport | None = None) -> None:
        base = config or Config(data_dir=Path("/nonexistent"))
        self.sections = sections if sections is not None else dict(base.sections)
        self.config = dataclasses.replace(base, sections=self.sections)
        self.plugin_classes = list(plugins)
        self.db_path = db_path
        self.clock = clock or FakeClock()
        self.transport = transport or FakeTransport()
        self._ids = itertools.count(1)
        self.app: App

    async def __aenter__(self) -> Harness:
        from bot.config import ConfigError
        from bot.loading import configure, with_required

        problems: list[str] = []
        specs = [(cls, configure(cls, self.sections.get(cls.name), problems))
                 for cls in with_required(self.plugin_classes)]
        if problems:
            raise ConfigError(problems)
        self.db = await Database.open(self.db_path)
        self.app = App(self.config, self.transport, self.db, specs, now=self.clock)
        await self.app.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.app.stop()
        await self.db.close()

    # ---- rooms ---------------------------------------------------------------------------
    def add_room(self, room_id: str = "!room:test", members: Sequence[str] = (),
                 powers: dict[str, int] | None = None, **fields: Any) -> RoomInfo:
        info = RoomInfo(room_id, members=frozenset([*members, self.transport.user_id]),
                        power_users=powers or {}, **fields)
        self.transport.rooms[room_id] = info
        return info

    def update_room(self, room_id: str, **fields: Any) -> None:
        self.transport.rooms[room_id] = dataclasses.replace(self.transport.rooms[room_id],
                                                            **fields)

    # ---- events --------------------------------------------------------------------------
    def _new_id(self) -> str:
        """Unique across harnesses too, as on a homeserver (a restarted bot sees new ids)."""
        return f"$ev{next(self._ids)}.{id(self):x}"

    def _ts(self) -> int:
        return int(self.clock() * 1000)

    async def deliver(self, *events: Event) -> None:
        transport = self.transport
        for event in events:
            transport.senders[(event.room_id, event.event_id)] = event.sender
            if isinstance(event, Message):
                transport.texts[(event.room_id, event.event_id)] = event.body
            elif (isinstance(event, Edit) and event.sender
                  == transport.senders.get((event.room_id, event.original))):
                transport.texts[(event.room_id, event.original)] = event.body
        await self.app.handle_batch(list(events))

    async def say(self, sender: str, body: str, room: str = "!room:test",
                  thread_root: str | None = None, **fields: Any) -> str:
        event = Message(room, self._new_id(), sender, self._ts(), body,
                        thread_root=thread_root, **fields)
        await self.deliver(event)
        return event.event_id

    async def edit(self, sender: str, original: str, body: str, room: str = "!room:test",
                   thread_root: str | None = None) -> str:
        event = Edit(room, self._new_id(), sender, self._ts(), original, body,
                     thread_root=thread_root)
        await self.deliver(event)
        return event.event_id

    async def react(self, sender: str, target: str, key: str, room: str = "!room:test") -> str:
        event = Reaction(room, self._new_id(), sender, self._ts(), target, key)
        await self.deliver(event)
        return event.event_id

    async def redact(self, sender: str, target: str, room: str = "!room:test") -> str:
        event = Redaction(room, self._new_id(), sender, self._ts(), target)
        await self.deliver(event)
        return event.event_id

    async def member(self, user_id: str, membership: str, room: str = "!room:test",
                     prev: str | None = None, **fields: Any) -> None:
        info = self.transport.rooms[room]
        members = set(info.members)
        if membership == "join":
            members.add(user_id)
        else:
            members.discard(user_id)
        self.update_room(room, members=frozenset(members))
        await self.deliver(MemberChange(room, self._new_id(), user_id, self._ts(), user_id,
                                        membership, prev, **fields))

    async def state_change(self, room: str, event_type: str, sender: str = "@admin:test",
                           **fields: Any) -> None:
        self.update_room(room, **fields)
        await self.deliver(StateChange(room, self._new_id(), sender, self._ts(), event_type))

    async def attach(self, sender: str, data: bytes, mimetype: str = "image/jpeg",
                     room: str = "!room:test", thread_root: str | None = None,
                     msgtype: str = "m.image") -> str:
        url = f"mxc://test/{next(self._ids)}"
        self.transport.files[url] = data
        event = Attachment(room, self._new_id(), sender, self._ts(), msgtype, mimetype,
                           len(data), url, None, thread_root)
        await self.deliver(event)
        return event.event_id

    # ---- time ----------------------------------------------------------------------------
    async def advance(self, seconds: float) -> int:
        """Move the clock forward and fire the timers now due; return how many fired."""
        self.clock.value += seconds
        return await self.app.scheduler.run_due()

    # ---- what the bot did ---------------------------------------------------------------
    @property
    def sent(self) -> list[Sent]:
        return self.transport.sent

    def last(self) -> Sent:
        return self.transport.sent[-1]

    def last_message(self) -> Sent:
        """The last new message the bot sent: edits (a card redrawn once the event's
        handlers are done) and reactions left out."""
        return next(s for s in reversed(self.transport.sent)
                    if s.replaces is None and s.event_type == "m.room.message")

    def in_thread(self, root: str) -> list[Sent]:
        return [s for s in self.transport.sent if s.thread_root == root]

    def answers(self, event_id: str) -> list[Sent]:
        """What the bot sent about `event_id`: in its thread, or as replies to it (a command
        in the main timeline is answered with replies; threads are for cases)."""
        return [s for s in self.transport.sent
                if s.thread_root == event_id or s.reply_to == event_id]

    def as_edited(self, sent: Sent) -> Sent:
        """`sent` as it reads now: the content of its last edit (`m.new_content`), under its
        own event id (a case card is edited in place)."""
        content = sent.content
        for s in self.transport.sent:
            if s.replaces == sent.event_id:
                content = s.content["m.new_content"]
        return Sent(sent.room_id, sent.event_type, content, sent.event_id)

    def file(self, sent: Sent) -> bytes:
        """The bytes of an attachment the bot sent (as the recipient would decrypt them)."""
        assert sent.file_url is not None, "not an attachment"
        return self.transport.files[sent.file_url]

    def clear(self) -> None:
        self.transport.sent.clear()
