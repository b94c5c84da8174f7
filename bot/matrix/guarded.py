"""nio's client, kept from trusting what only a room member vouches for.

nio 0.26 applies decrypted events of state types (`m.room.power_levels`, `m.room.member`…)
to its room model, so any member could raise their own power or make a public room look
private by sending such an event encrypted. Here the room model is fed only by events that
were state events on the wire; and a decrypted payload nio cannot parse (a message without
`msgtype`, say, raises inside nio) is dropped instead of stopping the sync.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from nio import AsyncClient, MegolmEvent, RoomEncryptionEvent, RoomMemberEvent, SyncResponse
from nio import Event as NioEvent
from nio.exceptions import EncryptionError
from nio.rooms import MatrixRoom

from bot.matrix.convert import is_real_state

log = logging.getLogger(__name__)

for _name in ("nio.events", "nio.responses"):
    # nio logs the whole content of an event (or response) that fails its schema at
    # WARNING: clinical text would reach the log. Nothing of theirs is worth that.
    logging.getLogger(_name).setLevel(logging.CRITICAL)
for _name in ("nio.crypto", "nio.rooms"):
    logging.getLogger(_name).setLevel(logging.ERROR)  # key-sharing chatter


class GuardedClient(AsyncClient):
    """An `AsyncClient` whose room model only real state events can change."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.malformed: set[str] = set()
        """Ids of encrypted events whose decrypted payload nio could not parse."""
        self.observer: Callable[[Any, bool], None] | None = None
        """Called with each response before (False) and after (True) nio applies it to the
        room model, so a cache of room state (`bot.matrix.rooms`) knows what to rebuild."""

    async def receive_response(self, response: Any) -> None:
        observer = self.observer
        if observer is not None:
            observer(response, False)
        try:
            await super().receive_response(response)
            if isinstance(response, SyncResponse):
                self._forget_left(response)
        finally:
            if observer is not None:
                observer(response, True)

    def _forget_left(self, response: SyncResponse) -> None:
        """nio 0.26 ignores the sync's `leave` section: a bot kicked, banned or gone from a
        room kept it in `rooms`, its members and powers frozen, as if still there. The room
        is forgotten (a later invite and join bring its whole state again); that it was
        encrypted is remembered, so nothing is ever sent there in clear."""
        for room_id in response.rooms.leave:
            if room_id in response.rooms.join:
                continue  # left and joined again within the batch
            if self.rooms.pop(room_id, None) is not None:
                log.info("left %s (kicked, banned or gone): forgotten", room_id)
            self.invited_rooms.pop(room_id, None)

    def safe_decrypt(self, event: MegolmEvent, room_id: str) -> NioEvent | None:
        """The decrypted event, or None (no key yet, or a payload nio chokes on)."""
        if self.olm is None:
            return None
        event.room_id = room_id
        try:
            decrypted = self.olm._decrypt_megolm_no_error(event, room_id)
        except Exception:
            decrypted = False
        if decrypted is None:
            return None  # no key yet
        if not isinstance(decrypted, NioEvent):
            self.malformed.add(event.event_id)
            log.warning("dropped an encrypted event whose content could not be parsed")
            return None
        return decrypted

    def decrypt_event(self, event: MegolmEvent) -> Any:
        decrypted = self.safe_decrypt(event, event.room_id)
        if decrypted is None:
            raise EncryptionError("not decrypted")
        return decrypted

    def _handle_timeline_event(self, event: Any, room_id: str, room: MatrixRoom,
                               encrypted_rooms: set[str]) -> Any:
        if isinstance(event, MegolmEvent):
            return self.safe_decrypt(event, room_id)  # never applied to the room model
        if not is_real_state(getattr(event, "source", None) or {}, decrypted=False):
            return None  # a message event that merely bears a state event's type
        if isinstance(event, RoomEncryptionEvent):
            encrypted_rooms.add(room_id)
        if isinstance(event, RoomMemberEvent):
            if room.handle_membership(event):
                self._invalidate_session_for_member_event(room_id)
        elif isinstance(event, NioEvent):
            room.handle_event(event)
        return None

    def _handle_messages_response(self, response: Any) -> None:
        for index, event in enumerate(response.chunk):
            if isinstance(event, MegolmEvent):
                decrypted = self.safe_decrypt(event, response.room_id)
                if decrypted is not None:
                    response.chunk[index] = decrypted
