"""The core against hostile members and bad days: forged or malformed events, floods, long
input, a database or homeserver that goes away, timers whose handler fails."""

from __future__ import annotations

import logging
import re
from typing import Any

import pytest

from bot.config import Config, Invalid, RateLimitConfig, parse_duration
from bot.events import (
    Attachment,
    Edit,
    MemberChange,
    Message,
    NotInRoom,
    Reaction,
    Redaction,
    StateChange,
    Unavailable,
)
from bot.matrix.convert import convert
from bot.plugin import Context, Fired, Plugin, Refusal, command, timer
from bot.storage import StorageUnavailable
from bot.testing import Harness
from plugins.cases import PLUGIN as CASES
from plugins.secrecy import PLUGIN as SECRECY
from plugins.specialties import PLUGIN as SPECIALTIES
from plugins.volunteers import PLUGIN as VOLUNTEERS

ROOM = "!room:test"
ALICE = "@alice:test"
BOB = "@bob:test"
STATE_TYPES = ("m.room.power_levels", "m.room.member", "m.room.create", "m.room.join_rules",
               "m.room.pinned_events", "m.room.history_visibility", "m.room.encryption")


def source(kind: str, content: Any, **extra: Any) -> dict[str, Any]:
    return {"type": kind, "event_id": "$e", "sender": BOB, "origin_server_ts": 1000,
            "content": content, **extra}


# ---- conversion: only what the homeserver vouches for ---------------------------------------
@pytest.mark.parametrize("kind", STATE_TYPES)
def test_a_decrypted_state_event_is_ignored_even_with_a_state_key(kind: str) -> None:
    forged = source(kind, {"membership": "leave", "pinned": [], "join_rule": "invite"},
                    state_key="" if kind != "m.room.member" else ALICE)
    assert convert(forged, ROOM, decrypted=True) is None
    real = convert(forged, ROOM, decrypted=False)
    assert isinstance(real, MemberChange | StateChange)


@pytest.mark.parametrize("kind", STATE_TYPES)
def test_a_message_event_bearing_a_state_type_is_ignored(kind: str) -> None:
    assert convert(source(kind, {"membership": "leave"}), ROOM, decrypted=False) is None


def test_a_redaction_counts_only_when_it_was_a_real_one() -> None:
    real = source("m.room.redaction", {}, redacts="$root")
    assert convert(real, ROOM, decrypted=False) == Redaction(ROOM, "$e", BOB, 1000, "$root")
    forged = source("m.room.redaction", {"redacts": "$root"})
    assert convert(forged, ROOM, decrypted=True) is None


@pytest.mark.parametrize("content", [
    {"msgtype": "m.text", "body": "x", "m.mentions": "@alice:test"},
    {"msgtype": "m.text", "body": "x", "m.mentions": {"user_ids": "@alice:test"}},
    {"msgtype": "m.text", "body": "x", "m.relates_to": {"m.in_reply_to": "$a"}},
    {"msgtype": "m.text", "body": "x", "m.relates_to": "thread"},
    {"msgtype": "m.text", "body": "x", "formatted_body": 5},
])
def test_malformed_message_fields_are_dropped_not_fatal(content: dict[str, Any]) -> None:
    event = convert(source("m.room.message", content), ROOM, decrypted=True)
    assert isinstance(event, Message)
    assert event.mentions == () and event.in_reply_to is None and event.formatted_body is None


def test_malformed_edits_attachments_and_reactions() -> None:
    edit = source("m.room.message", {"msgtype": "m.text", "body": "* new", "m.new_content": "x",
                                     "m.relates_to": {"rel_type": "m.replace",
                                                      "event_id": "$orig"}})
    assert convert(edit, ROOM, decrypted=True) == Edit(ROOM, "$e", BOB, 1000, "$orig", "new")
    image = source("m.room.message", {"msgtype": "m.image", "body": "p.jpg", "url": "mxc://a/b",
                                      "info": {"size": "big", "mimetype": ["image/jpeg"]}})
    got = convert(image, ROOM, decrypted=False)
    assert isinstance(got, Attachment) and got.size == 0 and got.mimetype == ""
    assert convert(source("m.room.message", {"msgtype": "m.text"}), ROOM, False) is None
    assert convert(source("m.room.message", {"body": "no type"}), ROOM, False) is None
    assert convert(source("m.reaction", {"m.relates_to": {
        "rel_type": "m.annotation", "event_id": "$t", "key": 5}}), ROOM, False) is None
    reaction = convert(source("m.reaction", {"m.relates_to": {
        "rel_type": "m.annotation", "event_id": "$t", "key": "✅️"}}), ROOM, False)
    assert isinstance(reaction, Reaction) and reaction.key == "✅️"
    assert convert({"type": 5}, ROOM, False) is None
    assert convert(source("m.room.message", None, sender=7), ROOM, False) is None


def test_nio_never_logs_the_content_of_an_event_that_fails_its_schema(
        caplog: pytest.LogCaptureFixture) -> None:
    from nio.events.misc import validate_or_badevent

    import bot.matrix  # noqa: F401 - sets nio's loggers

    caplog.set_level(logging.DEBUG)
    validate_or_badevent({"type": "m.room.message", "event_id": "$e", "sender": BOB,
                          "origin_server_ts": 1, "content": {"msgtype": "m.text",
                                                             "bodyy": "Mme Dupont"}},
                         {"type": "object", "properties": {"content": {
                             "type": "object", "required": ["body"]}}})
    assert "Dupont" not in caplog.text


# ---- floods and long input ------------------------------------------------------------------
async def test_unknown_commands_are_rate_limited_too() -> None:
    config = Config(rate_limit=RateLimitConfig(commands=5))
    async with Harness([], config=config) as h:
        h.add_room(members=[ALICE])
        for _ in range(200):
            await h.say(ALICE, "!zzz")
        assert len(h.sent) == 6  # five answers, then one "too many commands"
        assert "Trop de commandes" in h.last().body
        assert h.app.dispatch._recent  # the window is remembered while it lasts
        await h.advance(61)
        await h.say(BOB, "hello")
        assert ALICE not in h.app.dispatch._recent and not h.app.dispatch._room_locks


async def test_long_input_is_quoted_back_cut_short() -> None:
    async with Harness([CASES, SPECIALTIES]) as h:
        h.add_room(members=[ALICE])
        await h.say(ALICE, "!" + "z" * 30_000)
        assert len(h.last().body) < 200
        await h.say(ALICE, "!stats " + "9" * 5000)
        assert len(h.last().body) < 400 and "erreur interne" not in h.last().body


@pytest.mark.parametrize("text", ["99999999999999999999d", "9" * 400 + "s", "1e400", "nan"])
def test_absurd_durations_are_not_durations(text: str) -> None:
    with pytest.raises(Invalid):
        parse_duration(text)
    with pytest.raises(Invalid):
        parse_duration(10**400)


# ---- a database or homeserver that goes away -------------------------------------------------
class Flaky(Plugin):
    name = "flaky"
    failures = 0

    @command("note")
    async def note(self, ctx: Context) -> None:
        await ctx.reply("noted")
        if Flaky.failures:
            Flaky.failures -= 1
            raise StorageUnavailable("the database cannot be used (read-only)")

    @command("later")
    async def later(self, ctx: Context) -> None:
        await self.bot.schedule(self.name, "job:1", self.bot.now() + 10,
                                {"room_id": ctx.room_id})

    @timer("job")
    async def job(self, ctx: Context, fired: Fired) -> None:
        if Flaky.failures:
            Flaky.failures -= 1
            raise RuntimeError("handler failed")
        await ctx.reply("job done")


async def test_an_unavailable_database_keeps_the_event_for_a_retry() -> None:
    async with Harness([Flaky]) as h:
        h.add_room(members=[ALICE])
        Flaky.failures = 1
        event = Message(ROOM, "$note", ALICE, h._ts(), "!note")
        with pytest.raises(StorageUnavailable):
            await h.deliver(event)
        assert not any("erreur interne" in s.body for s in h.sent)
        assert await h.db.fetchval("SELECT 1 FROM handled_events WHERE event_id = '$note'") \
            is None
        await h.deliver(event)  # the transport's retry: handled now, and once only
        await h.deliver(event)
        assert await h.db.fetchval("SELECT 1 FROM handled_events WHERE event_id = '$note'")
        # The retry's answer reused the first one's transaction id: one message is shown.
        assert [s.body for s in h.sent] == ["noted"]


async def test_a_failing_timer_is_retried_with_its_ids_then_forgotten() -> None:
    async with Harness([Flaky]) as h:
        h.add_room(members=[ALICE])
        await h.say(ALICE, "!later")
        Flaky.failures = 2
        await h.advance(11)
        assert await h.db.fetchval("SELECT attempts FROM timers") == 1
        await h.advance(61)
        assert await h.db.fetchval("SELECT attempts FROM timers") == 2
        assert not any(s.body == "job done" for s in h.sent)
        await h.advance(121)
        assert [s.body for s in h.sent if s.body == "job done"] == ["job done"]
        assert await h.db.fetchval("SELECT COUNT(*) FROM timers") == 0


# ---- !help for people ---------------------------------------------------------------------------
async def test_help_first_screen_is_everyday_commands_then_sections() -> None:
    async with Harness([SPECIALTIES, CASES, SECRECY, VOLUNTEERS]) as h:
        h.add_room(members=[ALICE])
        await h.say(ALICE, "!help")
        lines = h.last().body.splitlines()
        assert lines[0] == "Commandes courantes :"
        assert lines[1].startswith("!case")
        assert len(lines) <= 12
        body = h.last().body
        assert "!specialty" not in body and "!volunteer " not in body
        assert "!help admin" in body and "!help volontaires" in body
        await h.say(ALICE, "!help admin")
        assert "!specialty add" in h.last().body and "!config set" in h.last().body
        assert "!rules pin" in h.last().body  # a moderators' command, listed with theirs
        await h.say(ALICE, "!help volontaires")
        assert "!volunteer" in h.last().body and "!case" not in h.last().body
        await h.say(ALICE, "!help case")
        assert h.last().body.startswith("!case [texte]")


async def test_a_card_lost_to_an_unavailable_homeserver_is_sent_on_the_retry() -> None:
    async with Harness([SPECIALTIES, CASES]) as h:
        h.add_room(members=[ALICE])
        real, failures = h.transport.send, [1]

        async def send(room_id: str, event_type: str, body: dict[str, Any], txn: str) -> str:
            if failures[0]:
                failures[0] -= 1
                raise Unavailable("the homeserver did not answer")
            return await real(room_id, event_type, body, txn)

        h.transport.send = send  # type: ignore[method-assign]
        event = Message(ROOM, "$case", ALICE, h._ts(), "!case angine, amoxicilline ? #orl")
        with pytest.raises(Unavailable):
            await h.deliver(event)
        assert await h.db.fetchval("SELECT COUNT(*) FROM timers") > 0  # followed already
        await h.deliver(event)  # the sync loop's retry
        cards = [s for s in h.sent if s.body.startswith("Cas #")]
        assert [c.body.split(" ·")[0] for c in cards] == ["Cas #1"]
        assert await h.db.fetchval("SELECT card_event_id FROM cases") == cards[0].event_id


# ---- timers under the events' guard ------------------------------------------------------------
async def test_a_failing_reminder_tells_its_thread_a_reference_once_then_is_sent(
        monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    """A reminder whose handler fails: the case's thread gets a reference (the one logged,
    no text), once; the timer is retried with back-off and the reminder then comes, once."""
    async with Harness([SPECIALTIES, CASES]) as h:
        h.add_room(members=[ALICE])
        root = await h.say(ALICE, "!case angine, amoxicilline ? #orl")
        cases = h.app.plugins["cases"]
        real = cases.config_for

        def broken(room_id: str) -> Any:
            raise RuntimeError("a bug in the reminder")

        monkeypatch.setattr(cases, "config_for", broken)
        await h.advance(4 * 3600 + 1)
        [notice] = [s for s in h.in_thread(root) if "référence" in s.body]
        [ref] = re.findall(r"\(ref ([0-9A-F]{6})\)", caplog.text)
        assert f"référence {ref}" in notice.body and "tâche de fond" in notice.body
        monkeypatch.setattr(cases, "config_for", real)
        await h.advance(61)
        await h.advance(3600)
        thread = [s.body for s in h.in_thread(root)]
        assert sum("référence" in b for b in thread) == 1
        assert sum("pas encore de réponse" in b for b in thread) == 1


class Outage(Plugin):
    """A timer whose handler meets an unavailable database once, a room the bot left, or
    refuses."""

    name = "outage"
    failures = 0
    gone = False
    refused = False

    @command("later")
    async def later(self, ctx: Context) -> None:
        await self.bot.schedule(self.name, "job:1", self.bot.now() + 10,
                                {"room_id": ctx.room_id, "thread_root": ctx.event.event_id})

    @timer("job")
    async def job(self, ctx: Context, fired: Fired) -> None:
        await ctx.reply("started")
        if Outage.failures:
            Outage.failures -= 1
            raise StorageUnavailable("the database cannot be used (read-only)")
        if Outage.gone:
            raise NotInRoom("send refused: the bot is not in the room")
        if Outage.refused:
            raise Refusal("not now")
        await ctx.reply("job done")


async def test_an_outage_in_a_timer_is_retried_not_reported() -> None:
    async with Harness([Outage]) as h:
        h.add_room(members=[ALICE])
        asked = await h.say(ALICE, "!later")
        Outage.failures = 1
        with pytest.raises(StorageUnavailable):  # up to the timer loop, which waits and retries
            await h.advance(11)
        assert await h.db.fetchval("SELECT attempts FROM timers") == 0
        assert await h.advance(0) == 1
        # In the thread of the command; the retry's "started" reused its transaction id.
        assert [s.body for s in h.in_thread(asked)] == ["started", "job done"]
        assert await h.db.fetchval("SELECT COUNT(*) FROM timers") == 0


async def test_a_timer_whose_room_the_bot_left_is_dropped_without_a_notice(
        monkeypatch: pytest.MonkeyPatch) -> None:
    async with Harness([Outage]) as h:
        h.add_room(members=[ALICE])
        await h.say(ALICE, "!later")
        monkeypatch.setattr(Outage, "gone", True)
        assert await h.advance(11) == 1
        assert await h.db.fetchval("SELECT COUNT(*) FROM timers") == 0
        assert [s.body for s in h.sent if s.body != "started"] == []


async def test_a_timer_that_refuses_is_answered_and_done(monkeypatch: pytest.MonkeyPatch) -> None:
    async with Harness([Outage]) as h:
        h.add_room(members=[ALICE])
        asked = await h.say(ALICE, "!later")
        monkeypatch.setattr(Outage, "refused", True)
        assert await h.advance(11) == 1
        assert [s.body for s in h.in_thread(asked)] == ["started", "not now"]
        assert await h.db.fetchval("SELECT COUNT(*) FROM timers") == 0
