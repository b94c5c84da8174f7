"""What a physician sees in Element Web, round two (issue 28): a `!help` that fits the thread
panel, card lines kept apart in Element's thread summary, a card sent once with who is paged,
who picked a specialty, the check marks that resolve, answers to commands as replies, and
the demo's avatars."""

from __future__ import annotations

import html
import re
import struct
from typing import Any

import pytest

from bot.demo import AVATAR_COLOURS, DOCTORS, avatar_png
from bot.testing import Harness, Sent
from plugins.cases import Cases
from plugins.secrecy import Secrecy
from plugins.specialties import Specialties
from plugins.trust import Trust
from plugins.volunteers import Volunteers
from tests.support.cases import card_of

POSTER, MOD, DOC, VOL = "@alice:test", "@mod:test", "@doc:test", "@vol:test"
ROOM = "!room:test"
CASE = "!case Femme 45 ans, plaques squameuses des coudes, psoriasis ? #dermato"
UNSURE = "!case palpitations et toux depuis hier, on fait quoi ?"
CATALOGUE = (
    {"id": "cardio", "name_fr": "Cardiologie", "name_en": "Cardiology",
     "keywords": ["palpitations"]},
    {"id": "pneumo", "name_fr": "Pneumologie", "name_en": "Pulmonology", "keywords": ["toux"]},
    {"id": "dermato", "name_fr": "Dermatologie", "name_en": "Dermatology",
     "keywords": ["psoriasis"]},
)
TWO = "2\ufe0f\u20e3"  # as Element sends keycaps


def harness(*extra: Any) -> Harness:
    return Harness([Specialties, Cases, Volunteers, *extra],
                   sections={"specialties": {"defaults": list(CATALOGUE)}})


@pytest.fixture
async def h():
    async with harness() as hh:
        hh.add_room(ROOM, members=[POSTER, MOD, DOC, VOL], powers={MOD: 50})
        hh.clear()
        yield hh


def element_summary(content: dict[str, Any]) -> str:
    """The text Element Web 1.12.7 shows for a thread's latest reply (MessageEventPreview):
    the reply's HTML goes through sanitize-html (which writes `<br>` back as `<br />`), then
    `<br>`/`<br/>` (not `<br />`) become newlines, every tag is dropped, and the one-line
    summary collapses white space. Checked against Element's own sanitize-html."""
    markup = re.sub(r"<br\s*/?>", "<br />", content["formatted_body"])
    markup = re.sub(r"<br/?>", "\n", markup, flags=re.IGNORECASE)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", "", markup)).split())


def edits_of(h: Harness, sent: Sent) -> list[Sent]:
    return [s for s in h.sent if s.replaces == sent.event_id]


# ---- 1. !help fits, in order of use; moderators' commands apart ------------------------------
async def test_help_fits_in_order_of_use_and_moderation_is_apart() -> None:
    async with harness(Secrecy, Trust) as h:
        h.add_room(ROOM, members=[POSTER])
        await h.say(POSTER, "!help")
        lines = h.last().body.splitlines()
        assert len(lines) <= 12, lines
        described = [line.split(" ", 1)[0] for line in lines if " — " in line]
        assert described == ["!case", "!tag", "!resolve", "!cases", "!rules"]
        body = h.last().body
        for moderators in ("!verify approve", "!verify refuse", "!admit"):
            assert moderators not in body
        assert "!verify" in body and "!report" in body  # everyday ones, named
        assert "!help modération" in body
        for ask in ("!help moderation", "!aide modération", "!help moderateurs"):
            await h.say(POSTER, ask)
            answer = h.last().body
            assert answer.startswith("Modération (modérateurs du salon) :"), ask
            assert "!verify approve" in answer and "!verify refuse" in answer
            assert "!admit" in answer and "!case" not in answer
        await h.app.set_room_setting(ROOM, "language", "en")
        await h.say(POSTER, "!help")
        assert len(h.last().body.splitlines()) <= 12 and "!help moderation" in h.last().body


# ---- 3. Element's thread summary keeps the card's lines apart ---------------------------------
async def test_the_cards_lines_stay_apart_in_elements_thread_summary(h: Harness) -> None:
    root = await h.say(POSTER, CASE)
    summary = element_summary(h.in_thread(root)[0].content)
    assert summary.startswith("Cas #1 · Dermatologie · ouvert Posté par @alice:test ")
    await h.react(POSTER, root, "\u2705\ufe0f")  # resolved: the card is edited
    edit = edits_of(h, h.in_thread(root)[0])[-1]
    assert "résolu Posté par" in element_summary(edit.content["m.new_content"])


async def test_a_redrawn_card_still_says_a_hashtag_chose_the_specialty(h: Harness) -> None:
    root = await h.say(POSTER, CASE)
    await h.react(POSTER, root, "\u2705\ufe0f")  # resolved: redrawn without the hashtag at hand
    body = card_of(h, root).body
    assert body.startswith("Cas #1 · Dermatologie · résolu")
    assert "Spécialité choisie par hashtag" in body and "mots-clés" not in body


# ---- 4. the card is sent once, with who is paged ----------------------------------------------
async def test_a_new_case_sends_its_card_once_naming_who_is_paged(h: Harness) -> None:
    await h.say(VOL, "!volunteer dermato")
    root = await h.say(POSTER, CASE)
    card, page = h.in_thread(root)
    assert card.body.startswith("Cas #1 · Dermatologie · ouvert")
    assert "Confrères sollicités : @vol:test" in card.body and card.mentions == []
    assert page.mentions == [VOL]
    assert edits_of(h, card) == []  # no "(modifié)" seconds after it is sent
    await h.say(VOL, "!take", thread_root=root)  # a later change still edits it
    assert "Pris en charge par @vol:test" in card_of(h, root).body
    assert len(edits_of(h, card)) == 1


# ---- 5. who picked the specialty, and how -----------------------------------------------------
async def test_the_card_says_who_picked_the_specialty_and_how(h: Harness) -> None:
    root = await h.say(POSTER, UNSURE)
    await h.react(MOD, card_of(h, root).event_id, TWO)
    body = card_of(h, root).body
    assert body.startswith("Cas #1 · Pneumologie · ouvert")
    assert "Spécialité choisie par @mod:test (réaction 2️⃣)" in body
    other = await h.say(POSTER, UNSURE)
    await h.say(POSTER, "!tag cardio", thread_root=other)
    assert "Spécialité choisie par @alice:test (!tag)" in card_of(h, other).body
    h.update_room(ROOM, display_names={POSTER: "Dr Alice Durand"})
    await h.react(POSTER, other, "✅")
    assert "Spécialité choisie par Dr Alice Durand (!tag)" in card_of(h, other).body


# ---- 6. the check marks a French user finds; not 👍 ------------------------------------------
@pytest.mark.parametrize("key", ["\u2714\ufe0f", "\u2611\ufe0f", "\u2705\ufe0f"],
                         ids=["heavy-check", "ballot-box", "check-button"])
async def test_check_marks_on_an_answer_resolve(h: Harness, key: str) -> None:
    root = await h.say(POSTER, CASE)
    answer = await h.say(DOC, "dermocorticoïde + calcipotriol", thread_root=root)
    await h.react(POSTER, answer, key)
    assert card_of(h, root).body.startswith("Cas #1 · Dermatologie · résolu")


async def test_a_check_mark_on_the_card_resolves_and_a_thumbs_up_does_not(h: Harness) -> None:
    root = await h.say(POSTER, CASE)
    answer = await h.say(DOC, "dermocorticoïde + calcipotriol", thread_root=root)
    card = card_of(h, root)
    assert "✅ (emoji : cherchez « check »)" in card.body
    await h.react(POSTER, answer, "\U0001f44d")  # 👍: thanks, agreement — not "resolved"
    await h.react(DOC, card.event_id, "\u2705\ufe0f")  # not the poster's
    assert card_of(h, root).body.startswith("Cas #1 · Dermatologie · ouvert")
    await h.react(POSTER, card.event_id, "\u2705\ufe0f")
    resolved = card_of(h, root).body
    assert resolved.startswith("Cas #1 · Dermatologie · résolu")
    assert "Réponse retenue" not in resolved  # on the card: no answer chosen


# ---- 7. threads are for cases: commands get replies -------------------------------------------
async def test_commands_in_the_main_timeline_get_replies_and_only_cases_get_threads(
        h: Harness) -> None:
    asks = [await h.say(DOC, command) for command in ("!help", "!cases", "!volunteer dermato")]
    root = await h.say(POSTER, CASE)
    for ask in asks:
        [answer] = h.answers(ask)
        assert answer.reply_to == ask and answer.thread_root is None
        assert "m.in_reply_to" in answer.content["m.relates_to"]
        assert ask not in answer.body  # no fallback quote
    threads = {s.thread_root for s in h.sent if s.thread_root}
    assert threads == {root}  # Element's threads list: the case, nothing else
    await h.say(POSTER, "!help", thread_root=root)  # asked in a thread: answered there
    assert h.last().thread_root == root and h.last().body.startswith("Commandes courantes")


# ---- 8. the demo's physicians have avatars ---------------------------------------------------
def test_demo_avatars_are_small_pngs_with_each_physicians_initials() -> None:
    pngs = [avatar_png(name, colour) for (_, name), colour in zip(DOCTORS, AVATAR_COLOURS,
                                                                   strict=True)]
    for png in pngs:
        assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) < 8192
        assert struct.unpack(">II", png[16:24]) == (96, 96)
    assert pngs[0] != pngs[1]  # not the same grey "D" for everyone
