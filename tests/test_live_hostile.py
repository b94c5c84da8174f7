"""A hostile member on the real Synapse: forged room state inside encrypted events.

The homeserver sees only `m.room.encrypted`; the decrypted payload says whatever the sender
wrote. Such events (and message events that merely bear a state type) must change nothing:
not the bot's idea of power levels, join rules, membership or pins, and not nio's room model.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from nio import RoomSendResponse
from nio.api import Api

from bot.matrix import UserClient
from tests.support.live import Live

CREATE = "!case Femme 52 ans, HTA résistante sous trithérapie, bilan à compléter ?"


async def forge(client: UserClient, room_id: str, event_type: str, content: dict[str, Any],
                encrypted: bool = True) -> str | None:
    """Send `event_type` as a message event: encrypted (with a `state_key` inside the
    payload, as a forger would) or in the clear (no `state_key`: not a state event; None
    when the homeserver refuses it)."""
    nio = client.client
    assert nio is not None and nio.olm is not None
    if encrypted:
        if nio.olm.should_share_group_session(room_id):
            await nio.share_group_session(room_id, ignore_unverified_devices=True)
        sealed = nio.olm.group_encrypt(room_id, {"type": event_type, "content": content,
                                                 "state_key": "", "room_id": room_id})
        method, path, data = Api.room_send(nio.access_token, room_id, "m.room.encrypted",
                                           sealed, uuid.uuid4())
    else:
        method, path, data = Api.room_send(nio.access_token, room_id, event_type, content,
                                           uuid.uuid4())
    resp = await nio._send(RoomSendResponse, method, path, data, (room_id,))
    if not encrypted and not isinstance(resp, RoomSendResponse):
        return None  # Synapse refuses some of these types as message events
    assert isinstance(resp, RoomSendResponse), (event_type, encrypted, resp.message)
    return str(resp.event_id)


async def test_forged_state_changes_nothing(live: Live) -> None:
    bot = await live.bot()
    owner = await live.physician("owner")
    troll = await live.physician("troll")
    room = await live.room_with(owner, bot, others=[troll], public=True)
    bot_id, troll_id, owner_id = bot.user_id, troll.user_id, owner.user_id

    for encrypted in (True, False):
        await forge(troll, room, "m.room.power_levels", {
            "users": {troll_id: 2**53 - 1, owner_id: 0, bot_id: 0}, "users_default": 100,
            "events_default": 0, "redact": 0}, encrypted)
        await forge(troll, room, "m.room.join_rules", {"join_rule": "invite"}, encrypted)
        await forge(troll, room, "m.room.create", {"creator": troll_id,
                                                   "additional_creators": [troll_id]},
                    encrypted)
        await forge(troll, room, "m.room.member", {"membership": "leave"}, encrypted)
        await forge(troll, room, "m.room.pinned_events", {"pinned": 5}, encrypted)
        await forge(troll, room, "m.room.history_visibility",
                    {"history_visibility": "joined"}, encrypted)

    def answer_to(event_id: str):
        return lambda e: e.sender == bot_id and e.answer_to == event_id

    # The troll is still power 0: both administration commands are refused.
    ask = await troll.say(room, '!specialty add sommeil "Médecine du sommeil"')
    refused = await troll.wait_for(answer_to(ask))
    assert refused.decrypted and "seuls les membres de niveau 50" in refused.body
    ask = await troll.say(room, "!config set cases.unanswered_reminder 1m")
    refused = await troll.wait_for(answer_to(ask))
    assert "seuls les membres de niveau 50" in refused.body

    # The room is still public: a case is refused, even to the real owner.
    ask = await owner.say(room, CREATE)
    refusal = await owner.wait_for(answer_to(ask))
    assert refusal.body.startswith("Je n’ouvre pas de cas dans ce salon")
    assert "le salon est public" in refusal.body

    # The real owner kept their power (a room admin's command goes through).
    ask = await owner.say(room, "!config set cases.unanswered_reminder 2h")
    changed = await owner.wait_for(lambda e: e.sender == bot_id
                                   and "cases.unanswered_reminder" in e.body)
    assert "2h" in changed.body
    await asyncio.sleep(0.5)
    assert not any(e.sender == bot_id and "erreur interne" in e.body.lower()
                   for e in owner.seen)
