"""Two federated homeservers (issue #24, groundwork of "a wider circle" across servers).

Server A holds casebot and a physician, server B another physician and the room: an encrypted
room on B that the bot on A serves, as a wider room of another region would be.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import urllib.request
from pathlib import Path
from urllib.parse import quote

import pytest

from bot.homeserver import LocalSynapse
from bot.matrix import Seen, UserClient
from tests.support.federation import FederatedPair, federated_lives

pytestmark = pytest.mark.live

FEDERATION_WAIT = 60.0
"""Seconds for an event to cross servers: a first contact fetches the other server's keys and
devices over federation, which a loaded machine may make slow."""


async def stored_type(hs: LocalSynapse, client: UserClient, room_id: str, event_id: str) -> str:
    """The event's type as the client's homeserver serves it (`m.room.encrypted` when sealed),
    read over plain HTTP (nio would hand back the decrypted event)."""
    assert client.client is not None
    req = urllib.request.Request(
        f"{hs.url}/_matrix/client/v3/rooms/{quote(room_id)}/event/{quote(event_id)}",
        headers={"Authorization": f"Bearer {client.client.access_token}"})

    def get() -> str:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return str(json.loads(resp.read())["type"])
    return await asyncio.to_thread(get)


async def test_physicians_on_two_servers_and_casebot_in_an_encrypted_room_on_the_other(
        federation: FederatedPair, tmp_path: Path) -> None:
    a, b = federation.a, federation.b
    async with federated_lives(federation, tmp_path) as (live_a, live_b):
        bot = live_a.bot_config()
        # By default the bot accepts invites from its own server only.
        bot.config = dataclasses.replace(bot.config, matrix=dataclasses.replace(
            bot.config.matrix, allowed_inviters=(f"@*:{a.server_name}", f"@*:{b.server_name}")))
        await bot.start()
        alice = await live_a.physician("alice")
        bruno = await live_b.physician("bruno")
        assert bot.user_id.endswith(f":{a.server_name}")
        assert alice.user_id.endswith(f":{a.server_name}")
        assert bruno.user_id.endswith(f":{b.server_name}")

        # Created on B by Bruno (room version 12 ids no longer name their server); the bot and
        # Alice join it over federation.
        room = await live_b.room_with(bruno, bot, others=[alice])
        assert alice.client is not None and alice.client.rooms[room].encrypted

        def event(event_id: str):
            return lambda e: e.event_id == event_id

        hello = await alice.say(room, "Bonjour depuis le serveur A")
        seen = await bruno.wait_for(event(hello), timeout=FEDERATION_WAIT)
        assert seen.decrypted and seen.body == "Bonjour depuis le serveur A"
        assert await stored_type(b, bruno, room, hello) == "m.room.encrypted"
        reply = await bruno.say(room, "Bien reçu depuis le serveur B")
        seen = await alice.wait_for(event(reply), timeout=FEDERATION_WAIT)
        assert seen.decrypted and seen.body == "Bien reçu depuis le serveur B"
        assert await stored_type(a, alice, room, reply) == "m.room.encrypted"

        root = await bruno.say(room, "!case Femme 45 ans, plaques érythémato-squameuses des "
                                     "coudes depuis 2 mois, psoriasis ? Quel traitement ?")

        def card(e: Seen) -> bool:
            return e.sender == bot.user_id and e.thread_root == root and "Cas #1" in e.body
        seen = await bruno.wait_for(card, timeout=FEDERATION_WAIT)
        assert seen.decrypted
        assert seen.body.startswith("Cas #1 · Dermatologie · ouvert")
        assert "psoriasis" in seen.body
        assert await stored_type(b, bruno, room, seen.event_id) == "m.room.encrypted"
        same = await alice.wait_for(event(seen.event_id), timeout=FEDERATION_WAIT)
        assert same.decrypted and same.body == seen.body
