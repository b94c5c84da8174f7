"""Trust end to end: real Synapse, encrypted rooms, nio physicians, a directory imported with
`casebot directory import` (a generated extract with the real header) before the bot starts.

(a) in a `verified` room an unverified member's `!case` is refused, then verified by a
moderator's ✅ it is opened (with ✔ on the card); (b) a report reaches the moderation room
with the link and without the reported text; (c) a knock is shown to the moderators with the
directory match and `!admit` invites.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from nio import RoomKnockResponse, RoomPutStateResponse

from bot.matrix import Seen, UserClient
from tests.support.live import REPO, BotHandle, Live
from tests.test_trust import DUPONT, MARTIN, extract

pytestmark = pytest.mark.live

CASE = "!case Femme 45 ans, plaques squameuses des coudes depuis 2 mois #dermato"


async def trusted_bot(live: Live, tmp: Path, admins: tuple[str, ...] = (),
                      handle: BotHandle | None = None, **trust: Any) -> BotHandle:
    """A bot whose database holds the directory, imported with `casebot directory import`
    (its own process, as an operator would) before the bot's first start. `admins` are the
    bot-wide admins (who may approve the first verifications); `handle` a bot registered
    beforehand (its id known, to invite it into rooms made before it starts)."""
    handle = handle or live.bot_config()
    handle.config = dataclasses.replace(handle.config, admins=admins,
                                        sections={**handle.config.sections, "trust": trust})
    config = handle.write_config(tmp / "config.yaml")
    done = await asyncio.to_thread(
        subprocess.run, [sys.executable, "-m", "bot", "directory", "import",
                         str(extract(tmp / "extract.txt")), "-c", str(config)],
        cwd=tmp, env={**os.environ, "PYTHONPATH": str(REPO)}, capture_output=True, text=True,
        timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("2 physicians imported from 5 rows"), done.stdout
    await handle.start()
    return handle


def from_bot(bot: BotHandle, room: str, text: str,
             root: str | None = None) -> Callable[[Seen], bool]:
    return lambda e: (e.sender == bot.user_id and e.room_id == room and text in e.body
                      and (root is None or e.answer_to == root))


async def test_a_verified_room_opens_cases_of_verified_members_only(live: Live,
                                                                     tmp_path: Path) -> None:
    alice = await live.physician("alice")  # the room's creator: its moderator, a bot admin
    bot = await trusted_bot(live, tmp_path, admins=(alice.user_id,), policy="verified")
    bob = await live.physician("bob")
    room = await live.room_with(alice, bot, others=[bob])

    refused_root = await bob.say(room, CASE)
    refused = await bob.wait_for(from_bot(bot, room, "seuls les médecins vérifiés",
                                          refused_root))
    assert refused.decrypted and "!verify <RPPS>" in refused.body

    ask = await bob.say(room, f"!verify {MARTIN}")
    notice = await alice.wait_for(from_bot(bot, room, "Demande de vérification", ask))
    assert notice.decrypted and notice.mentions == [alice.user_id]
    assert "MARTIN Jean — Médecin, Médecine générale" in notice.body
    assert MARTIN not in notice.body
    assert alice.client is not None
    await alice.client.joined_members(room)  # nio encrypts a reaction only once it has them
    await alice.react(room, notice.event_id, "✅")  # encrypted, as Element X sends it
    done = await bob.wait_for(from_bot(bot, room, "est vérifié", ask))
    assert bob.user_id in done.mentions

    root = await bob.say(room, CASE)
    card = await bob.wait_for(from_bot(bot, room, "Cas #1", root))
    assert card.body.startswith("Cas #1 · Dermatologie · ouvert")
    assert card.body.split("\n")[1].startswith("Posté par ") and (
        card.body.split("\n")[1].endswith(" ✔ (vérifié, annuaire RPPS)"))
    # The refused case left nothing behind: this one is number 1.
    assert not [e for e in bob.seen if e.answer_to == refused_root and "Cas #" in e.body]


async def test_a_report_reaches_the_moderation_room_without_the_text(live: Live,
                                                                      tmp_path: Path) -> None:
    bot = await trusted_bot(live, tmp_path)
    alice = await live.physician("alice")
    bob = await live.physician("bob")
    carol = await live.physician("carol")
    room = await live.room_with(alice, bot, others=[bob, carol])
    mods = await live.room_with(alice, bot)
    await alice.say(room, f"!config set trust.moderation_room {mods}")
    await alice.wait_for(from_bot(bot, room, "trust.moderation_room"))

    rude = await carol.say(room, "Propos injurieux envers un confrère")
    await bob.wait_for(lambda e: e.event_id == rude)
    await bob.send(room, {
        "msgtype": "m.text", "body": "> <carol> …\n\n!report attaque personnelle",
        "m.relates_to": {"m.in_reply_to": {"event_id": rude}}})
    told = await alice.wait_for(from_bot(bot, mods, "Signalement de"))
    assert told.decrypted and told.room_id == mods
    assert f"https://matrix.to/#/{room}/{rude}" in told.content["formatted_body"]
    assert "Raison : attaque personnelle" in told.body
    assert f"https://matrix.to/#/{bob.user_id}" in told.content["formatted_body"]
    assert "injurieux" not in told.body and "injurieux" not in told.content["formatted_body"]
    ack = await bob.wait_for(lambda e: e.sender == bot.user_id and e.room_id not in (room, mods)
                             and "sont prévenus en privé" in e.body)  # his direct room
    assert "injurieux" not in ack.body and "effacez-la vous-même" in ack.body  # no power
    # Nothing of the report was said in the room itself.
    assert not [e for e in alice.seen if e.room_id == room and e.sender == bot.user_id
                and "Signalement" in e.body]


async def test_a_knock_is_shown_to_the_moderators_and_admit_invites(live: Live,
                                                                    tmp_path: Path) -> None:
    bot = await trusted_bot(live, tmp_path, policy="verified")
    alice = await live.physician("alice")
    room = await live.room_with(alice, bot, bot_power=50)
    assert alice.client is not None
    put = await alice.client.room_put_state(room, "m.room.join_rules", {"join_rule": "knock"})
    assert isinstance(put, RoomPutStateResponse), put

    dave: UserClient = await live.physician("dave")
    assert dave.client is not None
    await dave.client.set_displayname("Dr Marie-Hélène Dupont")
    knocked = await dave.client.room_knock(room, reason=f"Cardiologue, RPPS {DUPONT}")
    assert isinstance(knocked, RoomKnockResponse), knocked

    shown = await alice.wait_for(from_bot(bot, room, "demande à entrer"))
    assert shown.decrypted and alice.user_id in shown.mentions
    assert "Dr Marie-Hélène Dupont demande à entrer" in shown.body
    assert "Annuaire : DUPONT Marie-Hélène — Médecin, Cardiologie" in shown.body
    assert f"!admit {dave.user_id}" in shown.body

    ask = await alice.say(room, f"!admit {dave.user_id}")
    await alice.wait_for(from_bot(bot, room, "est invité", ask))
    await alice.wait_joined(room, dave.user_id)  # invited, then dave's client joined
