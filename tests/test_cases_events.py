"""The case lifecycle as subscribers see it (`plugins/cases/events.py`): what is published,
in which order, and what a hook's answer does."""

from __future__ import annotations

from typing import Any

import pytest

from bot.content import Part
from bot.events import Message
from bot.plugin import Context, Plugin, Refusal, command, on
from bot.router import Int
from bot.storage import Database
from bot.testing import BOT, Harness
from plugins.cases import Cases
from plugins.cases.events import (
    CardDirty,
    CardLines,
    CaseChanged,
    CaseEdited,
    CaseOfThread,
    CaseOpened,
    CaseOpening,
    CaseReplied,
    CaseRootGone,
    StatsLines,
)
from plugins.cases.model import Case
from plugins.cases.store import MIGRATIONS
from plugins.specialties import Specialties

POSTER = "@alice:test"
DOC = "@bob:test"
MOD = "@mod:test"
ROOM = "!room:test"
CASE = "!case Femme 45 ans, plaques érythémato-squameuses des coudes, psoriasis ?"


class Recorder(Plugin):
    """Subscribes to every case event: records them, and does what a test asks."""

    name = "recorder"

    def __init__(self, bot: Any, config: Any) -> None:
        super().__init__(bot, config)
        self.seen: list[Any] = []
        self.refuse = False
        self.card_line = "Suivi : personne"
        self.stored_at_opening: int | None = None

    @on(CaseOpening)
    async def opening(self, ctx: Context, event: CaseOpening) -> None:
        self.seen.append(event)
        self.stored_at_opening = await self.bot.db.fetchval("SELECT COUNT(*) FROM cases")
        if self.refuse:
            raise Refusal(ctx.t("cases.none_open"))

    @on(CardLines)
    async def card_lines(self, ctx: Context, event: CardLines) -> list[tuple[Part, ...]]:
        self.seen.append(event)
        return [(self.card_line,)]

    @on(CaseOpened)
    async def opened(self, ctx: Context, event: CaseOpened) -> None:
        self.seen.append(event)
        await ctx.in_thread_of(event.case.root_event_id).reply("page : @doc, un avis ?")

    @on(CaseReplied, CaseEdited, CaseChanged, CaseRootGone)
    async def other(self, ctx: Context, event: Any) -> None:
        self.seen.append(event)

    @on(StatsLines)
    async def stats(self, ctx: Context, event: StatsLines) -> list[tuple[Part, ...]]:
        self.seen.append(event)
        return [("Pages envoyées : 3",)]

    @command("stale", args=(Int("number"),))
    async def stale(self, ctx: Context, number: int) -> None:
        self.card_line = "Suivi : @bob:test"
        await ctx.tell(CardDirty(ctx.room_id, number))

    def kinds(self) -> list[str]:
        return [type(e).__name__ for e in self.seen]

    def of(self, kind: type) -> list[Any]:
        return [e for e in self.seen if isinstance(e, kind)]


@pytest.fixture
async def h():
    async with Harness([Specialties, Cases, Recorder]) as harness:
        harness.add_room(ROOM, members=[POSTER, DOC, MOD], powers={MOD: 50})
        yield harness


def recorder(h: Harness) -> Recorder:
    plugin = h.app.plugins["recorder"]
    assert isinstance(plugin, Recorder)
    return plugin


async def count(h: Harness) -> int:
    return int(await h.db.fetchval("SELECT COUNT(*) FROM cases"))


async def test_opening_is_published_before_anything_is_stored(h: Harness) -> None:
    await h.say(POSTER, CASE)
    rec = recorder(h)
    assert rec.kinds() == ["CaseOpening", "CardLines", "CaseOpened"]
    assert rec.stored_at_opening == 0
    opening = rec.seen[0]
    assert (opening.room_id, opening.poster) == (ROOM, POSTER)
    assert opening.text.startswith("Femme 45 ans") and "!case" not in opening.text
    opened = rec.of(CaseOpened)[0]
    assert opened.case.number == 1 and opened.case.card_event_id is not None
    assert opened.text == opening.text


async def test_a_refusal_at_opening_stores_nothing_and_is_the_answer(h: Harness) -> None:
    recorder(h).refuse = True
    root = await h.say(POSTER, CASE)
    assert h.last().body == "Aucun cas ouvert." and h.last().reply_to == root
    assert len(h.sent) == 1
    assert await count(h) == 0
    assert recorder(h).kinds() == ["CaseOpening"]
    assert await h.advance(30 * 86400) == 0  # no reminder was armed


async def test_the_card_is_first_in_the_thread_with_the_subscribers_lines(h: Harness) -> None:
    root = await h.say(POSTER, CASE)
    card, page = h.in_thread(root)
    assert card.body.startswith("Cas #1 · Dermatologie · ouvert")
    assert "Suivi : personne" in card.body
    assert page.body == "page : @doc, un avis ?"


async def test_replies_are_published_commands_and_attachments_included(h: Harness) -> None:
    root = await h.say(POSTER, CASE)
    rec = recorder(h)
    rec.seen.clear()
    answer = await h.say(DOC, "Dermocorticoïde fort", thread_root=root)
    assert rec.kinds() == ["CaseReplied", "CaseChanged"]  # the first answer changes the case
    replied, changed = rec.seen
    assert replied.event.event_id == answer and replied.case.replies == 1
    assert (changed.before.replies, changed.case.replies) == (0, 1)
    rec.seen.clear()
    await h.say(POSTER, "merci", thread_root=root)
    await h.say(DOC, "!redact", thread_root=root)
    await h.say("@otherbot:test", "notice", thread_root=root, msgtype="m.notice")
    photo = await h.attach(DOC, b"jpeg", thread_root=root)
    await h.say(DOC, "ailleurs")  # not in a thread
    assert rec.kinds() == ["CaseReplied"] * 3
    assert rec.seen[-1].event.event_id == photo


async def test_edits_are_published_only_from_their_author(h: Harness) -> None:
    root = await h.say(POSTER, CASE)
    answer = await h.say(DOC, "psoriasis probable", thread_root=root)
    rec = recorder(h)
    rec.seen.clear()
    await h.edit(DOC, root, "!case vandalisé")
    await h.edit(POSTER, answer, "réponse détournée", thread_root=root)
    assert rec.seen == []
    await h.edit(DOC, answer, "psoriasis en plaques", thread_root=root)
    await h.edit(POSTER, root, "!case Homme 60 ans, douleur thoracique #cardio")
    kinds = rec.kinds()
    assert kinds == ["CaseEdited", "CaseEdited", "CaseChanged", "CardLines"]
    reply_edit, root_edit = rec.of(CaseEdited)
    assert (reply_edit.of_root, reply_edit.text) == (False, "psoriasis en plaques")
    assert root_edit.of_root and root_edit.text == "Homme 60 ans, douleur thoracique #cardio"
    changed = rec.of(CaseChanged)[0]
    assert (changed.before.specialties, changed.case.specialties) == (("dermato",), ("cardio",))


async def test_a_dirty_card_is_redrawn_without_telling_a_change(h: Harness) -> None:
    root = await h.say(POSTER, CASE)
    card = h.in_thread(root)[0]
    rec = recorder(h)
    rec.seen.clear()
    await h.say(DOC, "!stale 1")
    assert rec.kinds() == ["CardLines"]
    edit = h.sent[-1]
    assert edit.replaces == card.event_id
    assert "Suivi : @bob:test" in edit.content["m.new_content"]["body"]
    await h.say(DOC, "!stale 7")  # no such case: nothing
    assert h.sent[-1] is edit


async def test_the_card_is_redrawn_once_after_the_handlers(h: Harness) -> None:
    root = await h.say(POSTER, CASE)
    card = h.in_thread(root)[0]
    rec = recorder(h)
    rec.seen.clear()
    before = len(h.sent)
    await h.say(POSTER, "!resolve", thread_root=root)
    # The command runs before the hooks: the change, the reply itself, then the card.
    assert rec.kinds() == ["CaseChanged", "CaseReplied", "CardLines"]
    edits = [s for s in h.sent[before:] if s.replaces == card.event_id]
    assert len(edits) == 1 and "résolu" in edits[0].content["m.new_content"]["body"]
    changed = rec.of(CaseChanged)[0]
    assert (changed.before.status, changed.case.status) == ("open", "resolved")


@pytest.mark.parametrize(("who", "gone"), [(POSTER, True), (MOD, True), (BOT, True),
                                           (DOC, False)])
async def test_root_gone_when_the_redaction_applies(h: Harness, who: str, gone: bool) -> None:
    h.update_room(ROOM, power_users={MOD: 50, BOT: 100})
    root = await h.say(POSTER, CASE)
    rec = recorder(h)
    rec.seen.clear()
    await h.redact(who, root)
    assert rec.kinds() == (["CaseChanged", "CaseRootGone", "CardLines"] if gone else [])
    if gone:
        assert rec.of(CaseRootGone)[0].case.status == "withdrawn"


async def test_stats_lines_are_collected(h: Harness) -> None:
    await h.say(POSTER, CASE)
    await h.say(POSTER, "!stats 7")
    assert h.last().body.splitlines()[-1] == "Pages envoyées : 3"
    event = recorder(h).of(StatsLines)[0]
    assert event.room_id == ROOM and event.since == h.clock() - 7 * 86400


async def test_taken_by_is_dropped_unless_it_holds_a_value(tmp_path) -> None:
    fresh = await Database.open(tmp_path / "fresh.db")
    await fresh.migrate("cases", MIGRATIONS)
    columns = {r["name"] for r in await fresh.fetchall("PRAGMA table_info(cases)")}
    assert "taken_by" not in columns and "poster" in columns
    await fresh.close()
    old = await Database.open(tmp_path / "old.db")
    await old.migrate("cases", MIGRATIONS[:2])
    await old.execute("INSERT INTO cases (room_id, number, root_event_id, poster, opened_at, "
                      "taken_by) VALUES ('!r', 1, '$root', '@a', 0, '@v')")
    await old.migrate("cases", MIGRATIONS)
    assert await old.fetchval("SELECT taken_by FROM cases") == "@v"  # left for volunteers
    await old.close()


async def test_cases_answers_which_thread_is_a_case_after_a_restart_too(tmp_path) -> None:
    async with Harness([Specialties, Cases], db_path=tmp_path / "bot.db") as h1:
        h1.add_room(ROOM, members=[POSTER, DOC])
        root = await h1.say(POSTER, CASE)
        other = await h1.say(DOC, "une discussion")
    async with Harness([Specialties, Cases], db_path=tmp_path / "bot.db",
                       clock=h1.clock) as h2:
        h2.add_room(ROOM, members=[POSTER, DOC])
        ctx = Context.for_event(h2.app, Message(ROOM, "$ask", DOC, 0, "?"))
        (case,) = await ctx.ask(CaseOfThread(ROOM, root))
        assert isinstance(case, Case) and (case.number, case.poster) == (1, POSTER)
        assert await ctx.ask(CaseOfThread(ROOM, other)) == []
        assert await ctx.ask(CaseOfThread("!elsewhere:test", root)) == []


async def test_a_card_marked_from_another_room_is_redrawn_in_its_own(h: Harness) -> None:
    """The network feature marks the card of a case of room A while handling an event of
    room B: the edit goes to A's thread (it went to B's before)."""
    other = "!wider:test"
    h.add_room(other, members=[POSTER, DOC])
    root = await h.say(POSTER, CASE)
    card = h.in_thread(root)[0]
    ctx = Context.for_event(h.app, Message(other, "$elsewhere", DOC, 0, "…"))
    await ctx.tell(CardDirty(ROOM, 1))
    await h.app.hooks.settle(ctx)
    edit = h.sent[-1]
    assert edit.replaces == card.event_id and edit.room_id == ROOM
    assert edit.thread_root is None  # an edit carries no thread relation of its own
