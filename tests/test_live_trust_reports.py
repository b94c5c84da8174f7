"""A report stays between the reporter and the moderators, end to end: real Synapse, an
encrypted room, nio physicians, no moderation room set (issue 25, item 2).

Bob reports Carol's message in the room: Alice (the room's moderator) gets the report in an
encrypted direct room with the bot; the bot deletes Bob's `!report` from the room and answers
him in his own direct room; Carol gets nothing naming Bob or his reason, and the command
reaches her deleted. Then Bob reports from his direct room with the message's link: Carol's
client receives nothing at all.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from nio import RoomGetEventResponse, RoomPutAliasResponse

from bot.matrix import Seen, UserClient
from tests.support.live import BotHandle, Live, unique

pytestmark = pytest.mark.live


def private(bot: BotHandle, user: UserClient, room: str, text: str) -> Callable[[Seen], bool]:
    """The bot's message holding `text` in a room other than `room` (its direct room)."""
    return lambda e: (e.sender == bot.user_id and e.room_id != room and text in e.body
                      and e.decrypted)


async def barrier(client: UserClient, room: str) -> int:
    """Everything sent in `room` before now has reached `client`: it sees its own new message
    after them (a room's timeline is in order). Returns where that message is in `seen`."""
    mine = await client.say(room, "ok")
    await client.wait_for(lambda e: e.event_id == mine)
    return next(i for i, e in enumerate(client.seen) if e.event_id == mine)


async def test_a_report_reaches_the_moderator_privately_and_never_the_reported(
        live: Live) -> None:
    bot = await live.bot()
    alice = await live.physician("alice")  # the room's creator: its moderator
    bob = await live.physician("bob")
    carol = await live.physician("carol")
    room = await live.room_with(alice, bot, others=[bob, carol], bot_power=50)
    assert bob.client is not None and carol.client is not None and alice.client is not None

    rude = await carol.say(room, "Propos injurieux envers un confrère")
    await bob.wait_for(lambda e: e.event_id == rude)
    report = await bob.send(room, {
        "msgtype": "m.text", "body": "> <carol> …\n\n!report attaque personnelle",
        "m.relates_to": {"m.in_reply_to": {"event_id": rude}}})

    told = await alice.wait_for(private(bot, alice, room, "Signalement de"))
    direct = alice.client.rooms[told.room_id]
    assert direct.encrypted and set(direct.users) == {alice.user_id, bot.user_id}
    html = told.content["formatted_body"]
    assert f"https://matrix.to/#/{room}/{rude}" in html
    assert f"https://matrix.to/#/{bob.user_id}" in html
    assert f"https://matrix.to/#/{carol.user_id}" in html  # the message's author
    assert "Raison : attaque personnelle" in told.body and "injurieux" not in html

    ack = await bob.wait_for(private(bot, bob, room, "sont prévenus en privé"))
    assert set(bob.client.rooms[ack.room_id].users) == {bob.user_id, bot.user_id}
    assert "effacez-la" not in ack.body  # the bot could delete the command

    # Carol: the command reaches her deleted, and nothing of the bot names Bob or his reason.
    await carol.wait_for(lambda e: e.type == "m.room.redaction"
                         and e.content.get("redacts") == report)
    fetched = await carol.client.room_get_event(room, report)
    assert isinstance(fetched, RoomGetEventResponse), fetched
    assert fetched.event.source.get("content") == {}  # no ciphertext left to read
    end = await barrier(carol, room)
    bob_name = bob.user_id[1:].partition(":")[0]  # his display name: his localpart
    from_bot = [e for e in carol.seen[:end] if e.sender == bot.user_id]
    assert not [e for e in from_bot if "Signalement" in e.body or "attaque" in e.body
                or bob.user_id in str(e.content) or bob_name in str(e.content)]
    assert set(carol.client.rooms) == {room}  # no direct room was opened with her

    # From Bob's direct room, by link: Carol's client receives nothing at all.
    second = await carol.say(room, "Autre propos injurieux")
    await bob.wait_for(lambda e: e.event_id == second)
    await bob.say(ack.room_id, f"!signaler https://matrix.to/#/{room}/{second}?via=localhost "
                               "récidive")
    again = await alice.wait_for(private(bot, alice, room, "Raison : récidive"))
    assert again.room_id == told.room_id
    assert f"https://matrix.to/#/{room}/{second}" in again.content["formatted_body"]
    start = next(i for i, e in enumerate(carol.seen) if e.event_id == second)
    end = await barrier(carol, room)
    assert [e.event_id for e in carol.seen[start + 1:end]] == []


async def test_a_moderation_room_named_by_alias_is_found_through_the_directory(
        live: Live) -> None:
    """The alias is only in the homeserver's directory (the room states no canonical alias):
    the bot resolves it there, and the report goes to that room."""
    bot = await live.bot()
    alice = await live.physician("alice")
    bob = await live.physician("bob")
    carol = await live.physician("carol")
    room = await live.room_with(alice, bot, others=[bob, carol])
    mods = await live.room_with(alice, bot)
    assert alice.client is not None
    alias = f"#{unique('mods')}:localhost"
    put = await alice.client.room_put_alias(alias, mods)
    assert isinstance(put, RoomPutAliasResponse), put
    await alice.say(room, f"!config set trust.moderation_room {alias}")
    await alice.wait_for(lambda e: e.sender == bot.user_id and e.room_id == room
                         and "trust.moderation_room" in e.body)
    said = await carol.say(room, "Un message")
    await bob.wait_for(lambda e: e.event_id == said)
    await bob.send(room, {"msgtype": "m.text", "body": "!report",
                          "m.relates_to": {"m.in_reply_to": {"event_id": said}}})
    told = await alice.wait_for(lambda e: e.sender == bot.user_id and "Signalement de" in e.body)
    assert told.room_id == mods and told.decrypted
