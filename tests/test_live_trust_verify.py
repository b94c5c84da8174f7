"""Who may confirm a verification (issue 25, item 1), end to end: real Synapse, encrypted
rooms, nio physicians, the directory imported by `casebot directory import`.

Alice, verified, creates a room of her own, invites the bot and her second account; the
second account asks `!verify <a colleague's number>` and Alice approves (✅ and command): both
are refused and the second account stays unverified. The bot admin, told in an encrypted
direct room, confirms from there; a verified moderator of the operator's verification room
confirms the real colleague there. And (item 4) a display name carrying the mark is printed
without it, while the real mark is the bot's bold.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.live import Live, unique
from tests.test_live_trust import CASE, from_bot, trusted_bot
from tests.test_trust import DUPONT, MARTIN

pytestmark = pytest.mark.live


async def test_a_room_of_ones_own_does_not_verify_a_second_account(live: Live,
                                                                     tmp_path: Path) -> None:
    admin = await live.physician("admin")
    alice = await live.physician("alice")
    alice2 = await live.physician("alicebis")
    bob = await live.physician("bob")
    handle = live.bot_config()
    # The operator's verification room, made by Alice before the bot starts (its id goes in
    # the YAML); she invites the bot once it runs.
    vroom = await alice.create_room(unique("verification"), invite=[bob.user_id])
    await bob.wait_joined(vroom, bob.user_id)
    bot = await trusted_bot(live, tmp_path, admins=(admin.user_id,), handle=handle,
                            verification_rooms=[vroom])
    assert alice.client is not None and bob.client is not None
    await alice.client.room_invite(vroom, bot.user_id)
    await alice.wait_joined(vroom, bot.user_id)
    own = await live.room_with(alice, bot, others=[alice2])  # Alice is its admin

    # Alice is verified by the bot admin, from the direct room the bot opens with him.
    ask = await alice.say(own, f"!verify {DUPONT}")
    await alice.wait_for(from_bot(bot, own, "seul un administrateur du bot", ask))
    told = await admin.wait_for(lambda e: e.sender == bot.user_id
                                and "Demande de vérification" in e.body)
    assert told.decrypted and told.room_id not in (own, vroom)
    assert "DUPONT Marie-Hélène" in told.body and "ne correspond pas" in told.body
    await admin.say(told.room_id, f"!verify approve {alice.user_id}")
    await admin.wait_for(from_bot(bot, told.room_id, "est vérifié"))
    await alice.wait_for(from_bot(bot, own, "est vérifié", ask))

    # The attack: her second account asks for a colleague's number, she approves.
    attack = await alice2.say(own, f"!verify {MARTIN}")
    notice = await alice.wait_for(from_bot(bot, own, "Demande de vérification", attack))
    assert "Ce salon n’en est pas un" in notice.body
    await alice.client.joined_members(own)  # nio encrypts a reaction only once it has them
    await alice.react(own, notice.event_id, "✅")
    rule = "Une vérification vaut dans tous les salons"
    await alice.wait_for(lambda e: from_bot(bot, own, rule)(e) and e.body.startswith(rule))
    command = await alice.say(own, f"!verify approve {alice2.user_id}")
    refused = await alice.wait_for(from_bot(bot, own, rule, command))
    assert refused.body.startswith(rule)
    # The name mismatch reached the bot admin, not only Alice.
    await admin.wait_for(lambda e: e.sender == bot.user_id and e.room_id == told.room_id
                         and "MARTIN Jean" in e.body and "ne correspond pas" in e.body)
    status = await alice2.say(own, "!verify")
    answer = await alice2.wait_for(from_bot(bot, own, "Votre demande", status))
    assert "attend un modérateur" in answer.body  # not verified
    withdraw = await alice2.say(own, "!verify forget")
    await alice2.wait_for(from_bot(bot, own, "effacée", withdraw))

    # The real colleague, in the verification room: its verified moderator confirms him.
    await bob.client.set_displayname("Dr Jean Martin")
    real = await bob.say(vroom, f"!verify {MARTIN}")
    await bob.wait_for(from_bot(bot, vroom, "Demande envoyée aux modérateurs", real))
    notice = await alice.wait_for(from_bot(bot, vroom, "Demande de vérification", real))
    assert "Le nom affiché correspond à l’annuaire" in notice.body
    await alice.client.joined_members(vroom)
    await alice.react(vroom, notice.event_id, "✅")
    done = await bob.wait_for(from_bot(bot, vroom, "est vérifié", real))
    assert bob.user_id in done.mentions


async def test_a_display_name_cannot_forge_the_mark_on_a_card(live: Live, tmp_path: Path) -> None:
    """Item 4 with real member events: a name carrying the mark is printed without it; the
    real mark is the bot's bold."""
    admin = await live.physician("admin")
    bot = await trusted_bot(live, tmp_path, admins=(admin.user_id,))
    eve = await live.physician("eve")
    bob = await live.physician("bob")
    room = await live.room_with(admin, bot, others=[eve, bob])
    assert eve.client is not None and bob.client is not None
    await eve.client.set_displayname("Dr Eve ✔\ufe0f (vérifié, annuaire\u200b RPPS)")
    forged = await eve.say(room, CASE)
    card = await eve.wait_for(from_bot(bot, room, "Cas #", forged))
    assert card.body.split("\n")[1] == "Posté par Dr Eve"
    assert "✔" not in card.content["formatted_body"]

    await bob.client.set_displayname("Dr Jean Martin")
    ask = await bob.say(room, f"!verify {MARTIN}")
    await bob.wait_for(from_bot(bot, room, "seul un administrateur du bot", ask))
    await admin.say(room, f"!verify approve {bob.user_id}")
    await bob.wait_for(from_bot(bot, room, "est vérifié", ask))
    real = await bob.say(room, CASE)
    card = await bob.wait_for(from_bot(bot, room, "Cas #", real))
    assert card.body.split("\n")[1] == "Posté par Dr Jean Martin ✔ (vérifié, annuaire RPPS)"
    assert "Dr Jean Martin <b>✔ (vérifié, annuaire RPPS)</b>" in card.content["formatted_body"]
