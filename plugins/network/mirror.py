"""Answers come back: every message of a relayed case's thread (either side) is mirrored in
the other thread, naming its author and room; edits and redactions follow; the poster's ✅,
`!resolve` and `!reopen` apply to both cards. Each mirror is told to cases
(`ReplyMirrored`): an answer from the wider room counts as one (reminders, escalation), and
the poster's ✅ on it resolves accepting it.

Photos go only when secrecy checked them and found nothing (`PhotoClear`), or as `!clean`'s
copies (`PhotoCleaned`), re-uploaded encrypted with a caption naming author and room; files
that are not photos are not copied.

Mirrors are the bot's own messages, which the core never hands to a hook: they are never
mirrored again (no loop, no echo). Commands are not mirrored; a message holding identifying
data is not either (secrecy warns its author in its own room), until an edit makes it clean.
A source room that no longer names the wider room (`network.relay_to`), or a wider room that
no longer accepts it (`network.accept_from`; `off` only pauses new relays), stops the
mirroring; both keep their history.
"""

from __future__ import annotations

from bot import content
from bot.content import Bold, Part, Rich, fill
from bot.events import Message, Redaction
from bot.plugin import BotAPI, Context, on
from bot.router import split_command
from plugins.cases.events import (
    CaseChanged,
    CaseEdited,
    CaseReplied,
    CaseStatusWanted,
    ReplyMirrored,
)
from plugins.cases.model import OPEN, RESOLVED, Case, redaction_applies
from plugins.network.links import Links, room_name
from plugins.network.relay import kinds_found, text_lines
from plugins.network.store import NetworkStore, Relay
from plugins.secrecy.events import PhotoCleaned, PhotoClear

PHOTO_NAME = "photo"


class Mirrors:
    def __init__(self, bot: BotAPI, store: NetworkStore, links: Links,
                 component: str) -> None:
        self.bot = bot
        self.store = store
        self.links = links
        self.component = component

    async def _relays(self, room_id: str, root: str) -> list[Relay]:
        """The active relays the thread on `root` belongs to (a source thread may have
        several), while both rooms stay linked: the source names the wider room, which has
        not withdrawn its acceptance (a pause stops new relays only)."""
        found = []
        for relay in await self.store.of_thread(room_id, root):
            if (relay.active and relay.target_number is not None
                    and relay.target_room in await self.links.targets(relay.source_room)
                    and await self.links.accepts(relay.target_room, relay.source_room)
                    is not False):
                found.append(relay)
        return found

    def _mirror(self, ctx: Context, event_room: str, sender: str, text: str) -> Rich:
        origin = self.bot.room(event_room)
        head = fill(ctx.t("network.mirror"), who=Bold(origin.display_name(sender)),
                    room=room_name(ctx, origin))
        lines: list[tuple[Part, ...]] = text_lines(text)
        return Rich(((*head, *lines[0]), *lines[1:]))

    async def _post(self, ctx: Context, relay: Relay, case: Case, event_id: str, sender: str,
                    text: str) -> None:
        room, root, number = relay.other_side(case.room_id)
        there = ctx.in_room(room, root)
        if await kinds_found(text):
            return
        mirror = await there.send(self._mirror(there, case.room_id, sender, text))
        answer = case.room_id == relay.target_room and sender != relay.poster
        await self.store.add_mirror(relay.id, case.room_id, event_id, room, mirror,
                                    self.bot.now(), answer)
        if number is not None:
            await ctx.tell(ReplyMirrored(room, number, mirror, sender, self.bot.now()))
        if answer:
            self.bot.count(self.component, "answers")

    # ---- photos: only those checked clean, or !clean's copies -----------------------------
    @on(PhotoClear)
    async def photo_clear(self, ctx: Context, event: PhotoClear) -> None:
        """The photo as secrecy read it for its check (not downloaded again)."""
        photo = event.photo
        for relay in await self._relays(photo.room_id, event.root):
            await self._send_photo(ctx, relay, photo.room_id, photo.event_id, photo.sender,
                                   event.data, photo.mimetype, event.size)

    @on(PhotoCleaned)
    async def photo_cleaned(self, ctx: Context, event: PhotoCleaned) -> None:
        for relay in await self._relays(event.room_id, event.root):
            await self._send_photo(ctx, relay, event.room_id, event.event_id, event.sender,
                                   event.data, event.mimetype, event.size)

    async def _send_photo(self, ctx: Context, relay: Relay, from_room: str, event_id: str,
                          sender: str, data: bytes, mimetype: str,
                          size: tuple[int, int] | None) -> None:
        """The photo in the other thread, its caption naming its author and room."""
        room, root, _ = relay.other_side(from_room)
        there = ctx.in_room(room, root)
        origin = self.bot.room(from_room)
        caption = there.t("network.photo", who=origin.display_name(sender),
                          room=room_name(there, origin))
        file = await self.bot.upload(data, mimetype, PHOTO_NAME)
        body = content.attachment(file, PHOTO_NAME, mimetype, len(data), size)
        body["body"] = caption  # a caption (the file name stays in `filename`)
        mirror = await there.send(body)
        await self.store.add_mirror(relay.id, from_room, event_id, room, mirror,
                                    self.bot.now(), False)

    @on(CaseReplied)
    async def replied(self, ctx: Context, event: CaseReplied) -> None:
        message = event.event
        if not isinstance(message, Message) or message.sender == self.bot.user_id:
            return
        if split_command(message.body, ctx.prefixes) is not None:
            return
        case = event.case
        for relay in await self._relays(case.room_id, case.root_event_id):
            await self._post(ctx, relay, case, message.event_id, message.sender, message.body)

    @on(CaseEdited)
    async def edited(self, ctx: Context, event: CaseEdited) -> None:
        """An answer edited by its author: its mirror is edited (posted, if it was held)."""
        if event.of_root:
            return
        case, edit = event.case, event.event
        mirrors = await self.store.mirrors_of(case.room_id, edit.original)
        for relay in await self._relays(case.room_id, case.root_event_id):
            room, _, _ = relay.other_side(case.room_id)
            if room not in mirrors:
                await self._post(ctx, relay, case, edit.original, edit.sender, event.text)
                continue
            there = ctx.in_room(room)
            if not await kinds_found(event.text):
                await there.edit(mirrors[room], self._mirror(there, case.room_id, edit.sender,
                                                             event.text))

    @on(Redaction)
    async def redacted(self, ctx: Context, event: Redaction) -> None:
        """A mirrored message deleted (as the homeserver applies it): its mirror too."""
        mirrors = await self.store.mirrors_of(event.room_id, event.redacts)
        if not mirrors:
            return
        author = await self.bot.event_sender(event.room_id, event.redacts)
        if author is None or not redaction_applies(ctx.room, event, author):
            return
        for room, mirror_id in mirrors.items():
            await ctx.in_room(room).redact(mirror_id, "its original was deleted")

    @on(CaseChanged)
    async def changed(self, ctx: Context, event: CaseChanged) -> None:
        """The poster resolved or reopened one card: the other follows."""
        case, before = event.case, event.before
        if case.status == before.status or case.status not in (RESOLVED, OPEN):
            return
        relays = [r for r in await self.store.of_thread(case.room_id, case.root_event_id)
                  if r.active and r.target_number is not None]
        for relay in relays:
            await self.store.resolved(relay.id, self.bot.now() if case.status == RESOLVED
                                      else None)
        actor = getattr(ctx.source, "sender", None)
        if actor != case.poster:
            return
        for relay in relays:
            room, _, number = relay.other_side(case.room_id)
            if number is not None:
                await ctx.ask(CaseStatusWanted(room, number, case.status, actor))
