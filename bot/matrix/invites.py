"""The invite policy: join a room when a user of `matrix.allowed_inviters` (by default, any user
of the bot's own homeserver) invites the bot; decline any other invite."""

from __future__ import annotations

import asyncio
import fnmatch
import logging

from nio import InviteMemberEvent, JoinError, SyncResponse

from bot.config import Config
from bot.matrix.session import Session

log = logging.getLogger(__name__)

JOIN_RETRIES = (2.0, 5.0, 15.0, 60.0)
"""Seconds before each new try of a join that failed: a room on another server may refuse
the join of an invite it has not finished handling (seen: "You are not invited to this
room" seconds after the invite came), and the invite is not in the next syncs again."""


class InvitePolicy:
    """Answers the invites of each sync response, with the session's client."""

    def __init__(self, config: Config, session: Session) -> None:
        self.config = config
        self.session = session
        self.user_id = session.user_id
        self._retrying: set[asyncio.Task[None]] = set()

    def allowed(self, inviter: str) -> bool:
        patterns = self.config.matrix.allowed_inviters or (
            f"@*:{self.user_id.split(':', 1)[1]}",)
        return any(fnmatch.fnmatchcase(inviter, p) for p in patterns)

    async def answer(self, resp: SyncResponse) -> None:
        """Join the rooms an allowed inviter invited the bot to; leave the others."""
        client = self.session.client
        assert client is not None
        for room_id, info in resp.rooms.invite.items():
            inviter = next((e.sender for e in info.invite_state
                            if isinstance(e, InviteMemberEvent)
                            and e.state_key == self.user_id and e.membership == "invite"), None)
            if inviter is None:
                continue
            if self.allowed(inviter):
                if not await self._join(room_id, last=False):
                    task = asyncio.create_task(self._join_later(room_id))
                    self._retrying.add(task)
                    task.add_done_callback(self._retrying.discard)
            else:
                await client.room_leave(room_id)
                log.info("declined an invite to %s from a user not in allowed_inviters", room_id)

    async def _join(self, room_id: str, last: bool) -> bool:
        client = self.session.client
        assert client is not None
        resp = await client.join(room_id)
        if isinstance(resp, JoinError):
            log.warning("could not join %s: %s%s", room_id, resp.message,
                        "" if last else " (tried again later)")
            return False
        log.info("joined %s on invite", room_id)
        return True

    async def _join_later(self, room_id: str) -> None:
        """Try a failed join again, a few times, off the sync loop."""
        for n, delay in enumerate(JOIN_RETRIES, 1):
            await asyncio.sleep(delay)
            if await self._join(room_id, last=n == len(JOIN_RETRIES)):
                return
