"""Secrecy as a subscriber of the case lifecycle (plugins/cases/events.py), on the Harness
without the cases plugin: the tests publish the events cases publishes, in its order, and
answer its question (`CaseOfThread`) as it does; they look at what secrecy does. Nothing here
looks another plugin up."""

from __future__ import annotations

import itertools
import struct
from collections.abc import AsyncIterator
from typing import Any

import pytest

from bot.content import render
from bot.events import Attachment, Edit, Message
from bot.plugin import Context, Plugin, Refusal, on
from bot.testing import BOT, Harness
from plugins.cases.events import (
    CaseEdited,
    CaseOfThread,
    CaseOpened,
    CaseOpening,
    CaseReplied,
    StatsLines,
)
from plugins.cases.model import OPEN, Case
from plugins.secrecy.photo import inspect
from plugins.secrecy.plugin import Secrecy
from tests.test_secrecy_plugin import jpeg, photos_checked

POSTER = "@alice:test"
DOC = "@bob:test"
MALLORY = "@mallory:test"
MOD = "@mod:test"
ROOM = "!room:test"
CLEAN = "Femme 45 ans, plaques érythémato-squameuses des coudes, psoriasis ? traitement"
DIRTY = "Mme Dupont, 45 ans, tél 06 12 34 56 78, douleur thoracique atypique"
NIR13 = "1850575123456"
NIR = f"{NIR13}{97 - int(NIR13) % 97:02d}"


class Threads(Plugin):
    """Answers `CaseOfThread` as the cases plugin does: the cases `Cases` opened."""

    name = "threads"

    def __init__(self, bot: Any, config: Any) -> None:
        super().__init__(bot, config)
        self.cases: dict[tuple[str, str], Case] = {}

    @on(CaseOfThread)
    async def case_of_thread(self, ctx: Context, event: CaseOfThread) -> Case | None:
        return self.cases.get((event.room_id, event.root))


class Cases:
    """Publishes what the cases plugin publishes, as it does, for the tests."""

    def __init__(self, h: Harness) -> None:
        self.h = h
        self.numbers = itertools.count(1)
        threads = h.app.plugins["threads"]
        assert isinstance(threads, Threads)
        self.threads = threads

    def message(self, sender: str, body: str, room: str = ROOM,
                thread_root: str | None = None, **fields: object) -> Message:
        return Message(room, self.h._new_id(), sender, self.h._ts(), body,
                       thread_root=thread_root, **fields)  # type: ignore[arg-type]

    async def open(self, sender: str, text: str, room: str = ROOM,
                   formatted_body: str | None = None) -> Case:
        """`!case <text>`: CaseOpening (may raise Refusal), the card, then CaseOpened, in
        the case's thread (as cases does)."""
        post = self.message(sender, f"!case {text}", room, formatted_body=formatted_body)
        ctx = Context.for_event(self.h.app, post).in_thread_of(post.event_id)
        await ctx.gate(CaseOpening(room, post.event_id, sender, text))
        number = next(self.numbers)
        card = await ctx.reply(f"Cas #{number} · card")
        case = Case(room, number, post.event_id, card, sender, (), "none", OPEN,
                    self.h.clock())
        self.threads.cases[(room, case.root_event_id)] = case
        await ctx.tell(CaseOpened(case, text))
        return case

    async def reply(self, case: Case, sender: str, body: str, **fields: object) -> str:
        event = self.message(sender, body, case.room_id, case.root_event_id, **fields)
        await Context.for_event(self.h.app, event).tell(CaseReplied(case, event))
        await photos_checked(self.h)
        return event.event_id

    async def photo(self, case: Case, sender: str, data: bytes) -> str:
        url = f"mxc://test/{len(self.h.transport.files)}"
        self.h.transport.files[url] = data
        event = Attachment(case.room_id, self.h._new_id(), sender, self.h._ts(), "m.image",
                           "image/jpeg", len(data), url, None, case.root_event_id)
        await Context.for_event(self.h.app, event).tell(CaseReplied(case, event))
        await photos_checked(self.h)
        return event.event_id

    async def edit(self, case: Case, sender: str, original: str, text: str) -> None:
        of_root = original == case.root_event_id
        event = Edit(case.room_id, self.h._new_id(), sender, self.h._ts(), original,
                     f"!case {text}" if of_root else text,
                     thread_root=None if of_root else case.root_event_id)
        await Context.for_event(self.h.app, event).tell(
            CaseEdited(case, event, text, of_root))


@pytest.fixture
async def h() -> AsyncIterator[Harness]:
    async with Harness([Secrecy, Threads]) as hh:
        hh.add_room(ROOM, members=[POSTER, DOC, MALLORY, MOD], powers={MOD: 50, BOT: 100})
        yield hh


@pytest.fixture
def cases(h: Harness) -> Cases:
    return Cases(h)


def refusal_text(refusal: Refusal) -> str:
    return str(render(refusal.message)["body"])


# ---- CaseOpening ---------------------------------------------------------------------------------
@pytest.mark.parametrize(("fields", "expected"), [
    ({"encrypted": False}, ["chiffrement de bout en bout"]),
    ({"join_rule": "public"}, ["le salon est public"]),
    ({"history_visibility": "world_readable"}, ["l’historique est lisible par tous"]),
    ({"encrypted": False, "join_rule": "public", "history_visibility": "world_readable"},
     ["chiffrement", "public", "historique"]),
])
async def test_an_unfit_room_refuses_the_case_before_anything_exists(
        h: Harness, cases: Cases, fields: dict[str, object], expected: list[str]) -> None:
    h.add_room("!unfit:test", members=[POSTER], **fields)
    with pytest.raises(Refusal) as refused:
        await cases.open(POSTER, CLEAN, room="!unfit:test")
    body = refusal_text(refused.value)
    assert body.startswith("Je n’ouvre pas de cas dans ce salon")
    assert all(word in body for word in expected) and "administrateur" in body
    assert h.sent == []  # the refusal is the command's answer: secrecy sent nothing itself


async def test_a_fit_room_lets_the_case_open(h: Harness, cases: Cases) -> None:
    case = await cases.open(POSTER, CLEAN)
    card, reminder = h.in_thread(case.root_event_id)
    assert card.body.startswith("Cas #1") and "premier cas" in reminder.body


async def test_the_refusal_is_in_the_rooms_language(h: Harness, cases: Cases) -> None:
    h.add_room("!plain:test", members=[POSTER], encrypted=False)
    await h.app.set_room_setting("!plain:test", "language", "en")
    with pytest.raises(Refusal) as refused:
        await cases.open(POSTER, CLEAN, room="!plain:test")
    assert "end-to-end encryption is off" in refusal_text(refused.value)


async def test_redact_mode_deletes_the_post_and_refuses_the_case(h: Harness,
                                                                 cases: Cases) -> None:
    await h.app.set_room_setting(ROOM, "secrecy.mode", "redact")
    with pytest.raises(Refusal) as refused:
        await cases.open(POSTER, f"homme 40 ans NIR {NIR} douleur thoracique")
    assert len(h.transport.redacted) == 1
    notice = render(refused.value.message)
    assert "j’ai masqué votre message" in notice["body"] and "NIR" in notice["body"]
    assert NIR not in notice["body"] and NIR not in notice["formatted_body"]
    assert POSTER in notice["m.mentions"]["user_ids"]
    assert h.sent == []  # no card, no reminder: no case
    rows = await h.db.fetchall("SELECT kind, count FROM secrecy_counts")
    assert [tuple(r) for r in rows] == [("nir", 1)]


async def test_redact_mode_reads_the_posts_html_too(h: Harness, cases: Cases) -> None:
    await h.app.set_room_setting(ROOM, "secrecy.mode", "redact")
    with pytest.raises(Refusal):
        await cases.open(POSTER, "contact en privé, douleur",
                         formatted_body="contact <b>jean.martin@gmail.com</b>, douleur")


async def test_redact_mode_without_the_power_opens_the_case_and_warns(h: Harness,
                                                                      cases: Cases) -> None:
    h.add_room("!weak:test", members=[POSTER])
    await h.app.set_room_setting("!weak:test", "secrecy.mode", "redact")
    case = await cases.open(POSTER, f"homme 40 ans NIR {NIR} douleur", room="!weak:test")
    assert h.transport.redacted == []
    _card, _reminder, warning = h.in_thread(case.root_event_id)
    assert "un numéro de sécurité sociale (NIR)" in warning.body and "!redact" in warning.body


async def test_redact_mode_leaves_low_confidence_findings_to_a_warning(h: Harness,
                                                                       cases: Cases) -> None:
    await h.app.set_room_setting(ROOM, "secrecy.mode", "redact")
    case = await cases.open(POSTER, CLEAN + ", né le 12/03/1985")
    assert h.transport.redacted == []
    assert "une date de naissance" in h.in_thread(case.root_event_id)[-1].body


# ---- CaseOpened ----------------------------------------------------------------------------------
async def test_card_then_reminder_then_warning(h: Harness, cases: Cases) -> None:
    case = await cases.open(POSTER, DIRTY)
    card, reminder, warning = h.in_thread(case.root_event_id)
    assert card.event_id == case.card_event_id
    assert "premier cas" in reminder.body and reminder.mentions == []
    assert "un nom" in warning.body and "un numéro de téléphone" in warning.body
    assert warning.mentions == [POSTER]
    for sent in h.sent:
        assert "Dupont" not in sent.body and "06 12" not in sent.body


async def test_reminder_once_per_member_and_room(h: Harness, cases: Cases) -> None:
    await cases.open(POSTER, CLEAN)
    again = await cases.open(POSTER, CLEAN)
    assert [s.body for s in h.in_thread(again.root_event_id)] == ["Cas #2 · card"]


async def test_identifier_only_in_the_case_posts_html(h: Harness, cases: Cases) -> None:
    case = await cases.open(POSTER, "voir le numéro",
                            formatted_body="<p>voir le numéro <i>06 12 34 56 78</i></p>")
    assert "un numéro de téléphone" in h.in_thread(case.root_event_id)[-1].body


# ---- CaseReplied, CaseEdited ---------------------------------------------------------------------
async def test_a_reply_is_warned_a_notice_and_redact_are_not(h: Harness, cases: Cases) -> None:
    case = await cases.open(POSTER, CLEAN)
    h.clear()
    await cases.reply(case, DOC, "bot: jean.martin@gmail.com", msgtype="m.notice")
    await cases.reply(case, DOC, "!redact jean.martin@gmail.com")
    assert h.sent == []
    await cases.reply(case, DOC, "écrivez-moi à jean.martin@gmail.com")
    assert "une adresse e-mail" in h.last().body and h.last().mentions == [DOC]
    assert h.last().thread_root == case.root_event_id


async def test_a_photo_with_gps_is_warned_and_redact_removes_it(h: Harness,
                                                                cases: Cases) -> None:
    case = await cases.open(POSTER, CLEAN)
    h.clear()
    await cases.photo(case, DOC, jpeg(gps=False))
    assert h.sent == []
    photo = await cases.photo(case, DOC, jpeg())
    assert "position GPS" in h.last().body and h.last().mentions == [DOC]
    await h.say(DOC, "!redact", thread_root=case.root_event_id)
    assert h.transport.redacted == [photo]


async def test_an_edit_updates_then_clears_the_warning(h: Harness, cases: Cases) -> None:
    case = await cases.open(POSTER, CLEAN)
    reply = await cases.reply(case, DOC, "mail : jean.martin@gmail.com")
    warning = h.last()
    await cases.edit(case, DOC, reply, "mail : jean.martin@gmail.com, tél 06 12 34 56 78")
    assert h.last().replaces == warning.event_id
    assert "encore" in h.last().content["m.new_content"]["body"]
    await cases.edit(case, DOC, reply, "mail : voir messagerie sécurisée")
    assert "ne détecte plus" in h.last().content["m.new_content"]["body"]
    await h.say(DOC, "!redact", thread_root=case.root_event_id)
    assert "rien signalé" in h.last().body  # the cleared message is no longer flagged


async def test_an_edit_of_the_root_in_redact_mode_deletes_it(h: Harness,
                                                             cases: Cases) -> None:
    case = await cases.open(POSTER, CLEAN)
    await h.app.set_room_setting(ROOM, "secrecy.mode", "redact")
    await cases.edit(case, POSTER, case.root_event_id, CLEAN + " jean.martin@gmail.com")
    assert h.transport.redacted == [case.root_event_id]
    assert "j’ai masqué votre message" in h.last().body


# ---- !redact: where it works, what it removes ----------------------------------------------------
async def test_redact_asks_which_threads_are_cases(h: Harness, cases: Cases) -> None:
    await h.say(DOC, "!redact")
    assert "fil du cas" in h.last().body
    other = await h.say(DOC, "une discussion")
    await h.say(DOC, "!redact", thread_root=other)
    assert "fil du cas" in h.last().body
    case = await cases.open(POSTER, CLEAN)
    await h.say(DOC, "!masquer", thread_root=case.root_event_id)
    assert "rien signalé" in h.last().body


async def test_redact_the_message_replied_to_or_ones_own_latest(h: Harness,
                                                                cases: Cases) -> None:
    case = await cases.open(POSTER, CLEAN)
    root = case.root_event_id
    first = await cases.reply(case, DOC, "mail : jean.martin@gmail.com")
    await cases.reply(case, DOC, "tél 06 12 34 56 78")
    await cases.reply(case, POSTER, "ou le 06 98 76 54 32")
    await h.say(DOC, "!redact", thread_root=root, in_reply_to=first)
    await h.say(MALLORY, "!redact", thread_root=root)
    assert "rien signalé" in h.last().body
    await h.say(MOD, "!redact", thread_root=root)  # a moderator: the thread's latest
    assert h.transport.redacted[0] == first and len(h.transport.redacted) == 2
    assert h.last().body.startswith("Message masqué")


async def test_a_flag_is_forgotten_only_once_its_message_is_gone(h: Harness,
                                                                 cases: Cases) -> None:
    case = await cases.open(POSTER, CLEAN)
    reply = await cases.reply(case, DOC, "tél 06 12 34 56 78")
    await h.redact(MALLORY, reply)  # not applied by the homeserver
    await h.say(DOC, "!redact", thread_root=case.root_event_id)
    assert h.transport.redacted == [reply]
    again = await cases.reply(case, DOC, "tél 06 98 76 54 32")
    await h.redact(DOC, again)  # deleted by its sender
    await h.say(DOC, "!redact", thread_root=case.root_event_id)
    assert "rien signalé" in h.last().body


# ---- !stats --------------------------------------------------------------------------------------
async def test_stats_lines_are_counts_by_kind(h: Harness, cases: Cases) -> None:
    case = await cases.open(POSTER, DIRTY)
    await cases.reply(case, DOC, "rappelez le 06 98 76 54 32")
    stats = Context.for_event(h.app, cases.message(POSTER, "!stats"))
    [lines] = await stats.ask(StatsLines(ROOM, h.clock() - 30 * 86400))
    assert lines == [("Secret médical : 3 alerte(s) — un numéro de téléphone × 2, "
                      "un nom × 1.",)]
    [lines] = await stats.ask(StatsLines("!other:test", 0))
    assert lines == [("Secret médical : aucune alerte.",)]


# ---- !rules --------------------------------------------------------------------------------------
async def test_rules_pin_is_for_admins_only(h: Harness) -> None:
    await h.say(DOC, "!règles pin")
    assert "seuls les membres de niveau 50" in h.last().body and h.transport.state == []
    await h.say(DOC, "!rules épingle")  # not a subcommand: the rules are shown, not pinned
    assert "R.4127-73" in h.last().body and h.transport.state == []
    await h.say(MOD, "!regles epingler")
    assert h.transport.state[-1][2] == {"pinned": [h.sent[-1].event_id]}


# ---- photo metadata ------------------------------------------------------------------------------
def test_photo_metadata_after_long_segments_is_still_read() -> None:
    """Pillow reads every segment before the pixels (the download is capped at MAX_PHOTO):
    EXIF behind 320 KiB of comments is found, where a fixed window would miss it."""
    padding = b"\xff\xfe" + struct.pack(">H", 0xFFFF) + b"\0" * 0xFFFD  # comment segments
    late = b"\xff\xd8" + padding * 5 + jpeg()[2:]
    assert inspect(jpeg()).kinds == {"gps"}
    assert inspect(late).kinds == {"gps"}
