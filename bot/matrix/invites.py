"""The invite policy: join a room when a user of `matrix.allowed_inviters` (by default, any user
of the bot's own homeserver) invites the bot; decline any other invite."""

from __future__ import annotations

import fnmatch
import logging

from nio import InviteMemberEvent, JoinError, SyncResponse

from bot.config import Config
from bot.matrix.session import Session

log = logging.getLogger(__name__)


class InvitePolicy:
    """Answers the invites of each sync response, with the session's client."""

    def __init__(self, config: Config, session: Session) -> None:
        self.config = config
        self.session = session
        self.user_id = session.user_id

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
                resp_join = await client.join(room_id)
                if isinstance(resp_join, JoinError):
                    log.warning("could not join %s: %s", room_id, resp_join.message)
                else:
                    log.info("joined %s on invite", room_id)
            else:
                await client.room_leave(room_id)
                log.info("declined an invite to %s from a user not in allowed_inviters", room_id)
