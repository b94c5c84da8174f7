"""The core against a real Synapse, in real encrypted rooms, with real nio clients."""

from __future__ import annotations

from tests.support.live import Live


async def test_help_in_encrypted_room_is_a_threaded_notice(live: Live) -> None:
    bot = await live.bot(plugins=[])
    alice = await live.physician("alice")
    room = await live.room_with(alice, bot)
    root = await alice.say(room, "!help")
    reply = await alice.wait_for(lambda e: e.sender == bot.user_id and e.thread_root == root)
    assert reply.decrypted
    assert reply.content["msgtype"] == "m.notice"
    assert "Commandes disponibles" in reply.body
    assert "!help" in reply.body
