"""A wider circle end to end (issue #24): real Synapse, encrypted rooms, nio physicians.

Room A (Alice's practice) names room B (a wider room where Zoé volunteers for dermatology) and
B accepts A. Alice's case gets no answer, the bot offers it, Alice reacts 🔁; the case appears
in B as the bot's post with its own card and pages Zoé, whose answer comes back in A's thread
naming her and B; her edit and her deletion follow; Alice's ✅ in A resolves both cards. A case
holding a phone number is not relayed: Alice is told the kind, never the number. The case's
marker word is nowhere in the bot's data directory nor its logs. Then the same flow with B on
another homeserver that federates with the bot's.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from pathlib import Path

import pytest

from bot.matrix import Seen, UserClient
from tests.support.federation import FederatedPair, federated_lives
from tests.support.live import BotHandle, Live

pytestmark = pytest.mark.live

MARKER = "zorglubite"
CASE = f"!case Femme 45 ans, plaques squameuses des coudes depuis 2 mois, {MARKER} ? #dermato"
PHONE = "!case Homme 60 ans, prurit diffus, rappeler au 06 12 34 56 78 #dermato"
PLUGINS = ("specialties", "cases", "secrecy", "volunteers", "trust", "learning", "network")
FEDERATION_WAIT = 90.0


def from_bot(bot: BotHandle, match: Callable[[Seen], bool]) -> Callable[[Seen], bool]:
    return lambda e: e.sender == bot.user_id and e.type == "m.room.message" and match(e)


def replaced(bot: BotHandle, event_id: str, start: str) -> Callable[[Seen], bool]:
    """The bot's edit of `event_id` whose new text starts with `start`."""
    return lambda e: (e.sender == bot.user_id and e.relation.get("rel_type") == "m.replace"
                      and e.relation.get("event_id") == event_id
                      and str(e.content.get("m.new_content", {}).get("body", ""))
                      .startswith(start))


async def command(client: UserClient, bot: BotHandle, room: str, text: str,
                  wait: float, thread_root: str | None = None,
                  match: Callable[[Seen], bool] | None = None) -> Seen:
    """Type `text`; the bot's answer to it (or the bot's message that `match`es)."""
    sent = await client.say(room, text, thread_root=thread_root)
    if match is None:
        def match(e: Seen) -> bool:
            return e.room_id == room and e.relation.get("m.in_reply_to", {}).get(
                "event_id") == sent
    return await client.wait_for(from_bot(bot, match), timeout=wait)


async def link_rooms(bot: BotHandle, alice: UserClient, room_a: str, zoe: UserClient,
                     room_b: str, wait: float) -> None:
    for who, room, setting, value in ((alice, room_a, "relay_to", room_b),
                                      (zoe, room_b, "accept_from", room_a)):
        await command(who, bot, room, f"!config set network.{setting} {value}", wait,
                      match=lambda e, r=room, s=setting: e.room_id == r
                      and f"a réglé network.{s} sur" in e.body)
    done = await command(zoe, bot, room_b, "!volunteer dermato", wait)
    assert done.body.startswith("Vous êtes bénévole ici pour : Dermatologie."), done.body


async def relay_answer_resolve(bot: BotHandle, alice: UserClient, room_a: str,
                               zoe: UserClient, room_b: str, wait: float,
                               edits: bool) -> None:
    """(a): offered, 🔁, relayed with its card, Zoé paged and answering, her answer in A,
    (b) when `edits`: her edit and deletion follow; Alice's ✅ resolves both cards."""
    assert alice.client is not None and zoe.client is not None
    name_a = alice.client.rooms[room_a].display_name
    name_b = zoe.client.rooms[room_b].display_name
    root = await alice.say(room_a, CASE)
    card_a = await alice.wait_for(from_bot(bot, lambda e: e.thread_root == root
                                           and e.body.startswith("Cas #1 · Dermatologie")),
                                  timeout=wait)
    offer = await alice.wait_for(from_bot(bot, lambda e: e.thread_root == root
                                          and "pas de réponse depuis" in e.body),
                                 timeout=wait)
    assert offer.decrypted and alice.user_id in offer.mentions
    assert f"« {name_b} » (membres : 1) : réagissez 🔁" in offer.body, offer.body
    await alice.react(room_a, offer.event_id, "🔁")

    copy = await zoe.wait_for(from_bot(bot, lambda e: e.room_id == room_b
                                       and e.body.startswith("🔁 Cas relayé")), timeout=wait)
    assert copy.decrypted and copy.thread_root is None
    assert copy.body.startswith(f"🔁 Cas relayé depuis « {name_a} » par ")
    assert CASE.removeprefix("!case ") in copy.body
    card_b = await zoe.wait_for(from_bot(bot, lambda e: e.thread_root == copy.event_id
                                         and e.body.startswith("Cas #1 · Dermatologie")),
                                timeout=wait)
    assert f"Relayé depuis « {name_a} »" in card_b.body and root in card_b.body
    page = await zoe.wait_for(from_bot(bot, lambda e: e.thread_root == copy.event_id
                                       and "un avis ?" in e.body), timeout=wait)
    assert page.mentions == [zoe.user_id]
    await alice.wait_for(replaced(bot, card_a.event_id, "Cas #1 · Dermatologie · ouvert"),
                         timeout=wait)

    answer = await zoe.say(room_b, "Psoriasis probable : dermocorticoïde",
                           thread_root=copy.event_id)
    zoe_name = zoe.client.rooms[room_b].user_name(zoe.user_id)
    mirror = await alice.wait_for(from_bot(bot, lambda e: e.thread_root == root
                                           and f"({name_b}) : " in e.body), timeout=wait)
    assert mirror.decrypted
    assert mirror.body == f"{zoe_name} ({name_b}) : Psoriasis probable : dermocorticoïde"
    if edits:
        await zoe.edit(room_b, answer, "Psoriasis très probable")
        await alice.wait_for(replaced(bot, mirror.event_id, f"{zoe_name} ({name_b}) : "
                                      "Psoriasis très probable"), timeout=wait)
        await zoe.client.room_redact(room_b, answer)
        await alice.wait_for(lambda e: e.type == "m.room.redaction" and e.sender == bot.user_id
                             and e.content.get("redacts") == mirror.event_id, timeout=wait)
    await alice.react(room_a, root, "✅")
    await alice.wait_for(replaced(bot, card_a.event_id, "Cas #1 · Dermatologie · résolu"),
                         timeout=wait)
    await zoe.wait_for(replaced(bot, card_b.event_id, "Cas #1 · Dermatologie · résolu"),
                       timeout=wait)
    # No echo: nothing of B's thread came back to B, one copy of Zoé's answer reached A.
    assert not [e for e in zoe.seen if f"({name_b}) : " in e.body]
    assert len([e for e in alice.seen if e.type == "m.room.message"
                and e.body.startswith(f"{zoe_name} ({name_b}) : ")]) == 1


def no_marker(data_dir: Path, logged: list[str]) -> None:
    """The privacy check: the case's marker word in no file the bot keeps, nor its logs."""
    for path in data_dir.rglob("*"):
        if path.is_file():
            assert MARKER.encode() not in path.read_bytes(), path
    assert logged and not [line for line in logged if MARKER in line]


class Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@pytest.fixture
def logged() -> list[str]:
    handler = Lines()
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    yield handler.lines
    root.removeHandler(handler)
    root.setLevel(level)


async def test_unanswered_case_is_offered_relayed_answered_and_resolved_on_both_sides(
        live: Live, logged: list[str]) -> None:
    bot = await live.bot(PLUGINS, network={"offer_after": 3})
    alice = await live.physician("alice")
    zoe = await live.physician("zoe")
    room_a = await live.room_with(alice, bot)
    room_b = await live.room_with(zoe, bot)
    await link_rooms(bot, alice, room_a, zoe, room_b, 60)
    await relay_answer_resolve(bot, alice, room_a, zoe, room_b, 60, edits=True)

    # (c) a phone number: not relayed, the kind told, never the number.
    root = await alice.say(room_a, PHONE)
    refusal = await command(alice, bot, room_a, "!partager", 60, thread_root=root)
    assert refusal.body == ("Partage refusé : le cas contient un numéro de téléphone. "
                            "Modifiez le message pour anonymiser, puis !partager à nouveau.")
    assert "prurit" not in "".join(e.body for e in zoe.seen)
    no_marker(bot.config.data_dir, logged)


async def test_after_a_restart_the_share_reads_the_case_from_the_homeserver(
        live: Live) -> None:
    """The bot keeps no case text: after a restart, `!partager` reads the case's message
    from the homeserver and decrypts it, as its poster last edited it."""
    bot = await live.bot(PLUGINS)
    alice = await live.physician("alice")
    zoe = await live.physician("zoe")
    room_a = await live.room_with(alice, bot)
    room_b = await live.room_with(zoe, bot)
    await link_rooms(bot, alice, room_a, zoe, room_b, 60)
    root = await alice.say(room_a, CASE)
    await alice.wait_for(from_bot(bot, lambda e: e.thread_root == root
                                  and e.body.startswith("Cas #1")), timeout=60)
    await alice.edit(room_a, root, CASE + " Merci d’avance")
    await bot.stop()
    await bot.start()  # same data directory: same device and keys, nothing in memory
    shared = await command(alice, bot, room_a, "!partager", 60, thread_root=root)
    assert shared.body.startswith("Cas partagé dans"), shared.body
    copy = await zoe.wait_for(from_bot(bot, lambda e: e.room_id == room_b
                                       and e.body.startswith("🔁 Cas relayé")), timeout=60)
    assert copy.body.endswith("#dermato Merci d’avance"), copy.body


async def test_the_wider_room_on_another_homeserver(federation: FederatedPair,
                                                   tmp_path: Path) -> None:
    a, b = federation.a, federation.b
    async with federated_lives(federation, tmp_path) as (live_a, live_b):
        bot = live_a.bot_config(PLUGINS, network={"offer_after": 3})
        bot.config = dataclasses.replace(bot.config, matrix=dataclasses.replace(
            bot.config.matrix, allowed_inviters=(f"@*:{a.server_name}", f"@*:{b.server_name}")))
        await bot.start()
        alice = await live_a.physician("alice")
        zoe = await live_b.physician("zoe")
        room_a = await live_a.room_with(alice, bot)
        room_b = await live_b.room_with(zoe, bot)
        assert zoe.user_id.endswith(f":{b.server_name}")
        await link_rooms(bot, alice, room_a, zoe, room_b, FEDERATION_WAIT)
        await relay_answer_resolve(bot, alice, room_a, zoe, room_b, FEDERATION_WAIT,
                                   edits=True)
