"""The core's routing, usage errors, isolation, rate limits and timers, on the fake transport."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from typing import Any

import pytest

from bot.config import Config, RateLimitConfig
from bot.events import Message, Reaction
from bot.plugin import Context, Fired, Plugin, command, on, timer
from bot.router import Int, Rest
from bot.testing import Harness

ALICE = "@alice:test"


class Echo(Plugin):
    name = "echo"
    strings = {
        "echo.summary": {"fr": "Répète le texte.", "en": "Repeats the text."},
        "arg.text": {"fr": "texte", "en": "text"},
        "arg.times": {"fr": "fois", "en": "times"},
    }
    migrations = ("CREATE TABLE echo_seen (event_id TEXT PRIMARY KEY)",)

    @command("echo", "repete", args=(Int("times", low=1, high=3), Rest("text")),
             summary="echo.summary")
    async def echo(self, ctx: Context, times: int, text: str) -> None:
        for _ in range(times):
            await ctx.reply(text)

    @command("boom", args=(Rest("text"),))
    async def boom(self, ctx: Context, text: str) -> None:
        raise ValueError(text)

    @command("later", args=(Int("seconds", low=1),))
    async def later(self, ctx: Context, seconds: int) -> None:
        await self.bot.schedule(self.name, f"ping:{ctx.event.event_id}", self.bot.now() + seconds,
                                {"room_id": ctx.room_id, "thread_root": ctx.event.event_id})

    @timer("ping")
    async def on_ping(self, ctx: Context, fired: Fired) -> None:
        await ctx.reply("pong")

    @on(Message)
    async def seen(self, ctx: Context, event: Message) -> None:
        await self.bot.db.execute("INSERT OR IGNORE INTO echo_seen VALUES (?)", (event.event_id,))

    @on(Reaction)
    async def reacted(self, ctx: Context, event: Reaction) -> None:
        if event.key == "❓":
            await ctx.reply("?")


@pytest.fixture
async def h():
    async with Harness([Echo]) as harness:
        harness.add_room(members=[ALICE])
        yield harness


async def test_a_command_is_answered_by_replies_or_in_its_thread(h: Harness) -> None:
    root = await h.say(ALICE, "!echo 2 bonjour <b>")
    assert [s.body for s in h.answers(root)] == ["bonjour <b>", "bonjour <b>"]
    assert h.in_thread(root) == []  # no thread of its own: Element's threads list is for cases
    in_thread = await h.say(ALICE, "!echo 1 ici", thread_root="$case")
    assert h.last().thread_root == "$case" and h.last().reply_to is None
    assert h.last().content["m.relates_to"]["m.in_reply_to"] == {"event_id": in_thread}
    assert "&lt;b&gt;" in h.answers(root)[-1].html
    assert h.last().content["msgtype"] == "m.notice"


async def test_an_answer_to_a_reaction_replies_to_the_message_it_was_put_on(
        h: Harness) -> None:
    """A reply to a reaction is one no client can show (Element: "unable to load event")."""
    message = await h.say(ALICE, "une question")
    reaction = await h.react(ALICE, message, "❓")
    assert h.last().body == "?" and h.last().reply_to == message != reaction


async def test_alias_and_accents(h: Harness) -> None:
    await h.say(ALICE, "!RÉPÈTE 1 ok")
    assert h.last().body == "ok"


async def test_bad_arguments_get_usage_in_french(h: Harness) -> None:
    root = await h.say(ALICE, "!echo deux fois")
    body = h.answers(root)[-1].body
    assert "« deux » n’est pas un nombre entier" in body
    assert "Utilisation : !echo <fois> <texte>" in body


async def test_missing_argument_in_english(h: Harness) -> None:
    await h.app.set_room_setting("!room:test", "language", "en")
    await h.say(ALICE, "!echo 2")
    assert "text is missing" in h.last().body
    assert "Usage: !echo <times> <text>" in h.last().body


async def test_failing_handler_is_isolated_and_not_logged(h: Harness, caplog) -> None:
    root = await h.say(ALICE, "!boom Mme Dupont secret clinical")
    assert "Erreur interne, référence" in h.answers(root)[-1].body
    assert "secret clinical" not in caplog.text
    assert "ValueError" in caplog.text
    # the message hook still ran and the next command still works
    assert await h.db.fetchval("SELECT COUNT(*) FROM echo_seen") == 1
    await h.say(ALICE, "!echo 1 encore")
    assert h.last().body == "encore"


async def test_help_lists_commands_and_details(h: Harness) -> None:
    await h.say(ALICE, "!help")
    assert "!echo <fois> <texte> — Répète le texte." in h.last().body
    await h.say(ALICE, "!aide echo")
    assert "Alias : !repete" in h.last().body


async def test_unknown_command(h: Harness) -> None:
    await h.say(ALICE, "!nope")
    assert "Commande inconnue : !nope" in h.last().body
    count = len(h.sent)
    await h.say(ALICE, "! pas une commande")
    await h.say(ALICE, "bonjour")
    assert len(h.sent) == count


async def test_replayed_event_is_handled_once(h: Harness) -> None:
    event = Message("!room:test", "$dup", ALICE, 0, "!echo 1 une fois")
    await h.deliver(event)
    await h.deliver(event)
    assert [s.body for s in h.sent] == ["une fois"]


async def test_replay_after_restart_is_checked_in_the_database(tmp_path) -> None:
    """A new run replays the unsaved batch: those events were handled by the previous run."""
    db = tmp_path / "bot.db"
    async with Harness([Echo], db_path=db) as h1:
        h1.add_room(members=[ALICE])
        fresh = Message("!room:test", "$a", ALICE, int(h1.clock.value * 1000), "!echo 1 a")
        await h1.deliver(fresh)
    async with Harness([Echo], db_path=db, clock=h1.clock) as h2:
        h2.add_room(members=[ALICE])
        await h2.deliver(fresh)  # the replayed batch, before any token is saved
        assert h2.sent == []
        await h2.app.save_sync_token("s2")
        newer = Message("!room:test", "$b", ALICE, int(h2.clock.value * 1000), "!echo 1 b")
        await h2.deliver(newer)
        await h2.deliver(newer)  # remembered in memory: no second answer
        h2.clock.value += 3600
        await h2.deliver(fresh)  # a late delivery (an hour old): asked of the database
        assert [s.body for s in h2.sent] == ["b"]


async def test_sync_token_is_written_at_most_once_a_second_and_at_stop(tmp_path) -> None:
    db = tmp_path / "bot.db"
    wall = [100.0]
    async with Harness([Echo], db_path=db) as h:
        h.app.monotonic = lambda: wall[0]
        await h.app.save_sync_token("s1")
        assert await h.app.load_sync_token() == "s1"
        wall[0] += 0.5
        await h.app.save_sync_token("s2")
        assert await h.app.load_sync_token() == "s1"  # pending, within the second
        wall[0] += 0.6
        await h.app.save_sync_token("s3")
        assert await h.app.load_sync_token() == "s3"
        wall[0] += 0.1
        await h.app.save_sync_token("s4")
    async with Harness([Echo], db_path=db) as h:
        assert await h.app.load_sync_token() == "s4"  # written when the bot stopped


async def test_timer_loop_stops_when_cancelled_right_after_a_schedule(h: Harness) -> None:
    """A stop right after a command (which schedules a reminder) must not hang the bot."""
    for _ in range(20):
        task = asyncio.create_task(h.app.scheduler.run())
        await asyncio.sleep(0.01)
        await h.app.scheduler.schedule("echo", "later:x", h.clock.value + 3600)
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(task, timeout=2)
        assert task.cancelled()


async def test_timer_fires_once_and_survives_restart(tmp_path) -> None:
    db = tmp_path / "bot.db"
    async with Harness([Echo], db_path=db) as h1:
        h1.add_room(members=[ALICE])
        root = await h1.say(ALICE, "!later 60")
        assert await h1.advance(30) == 0
    async with Harness([Echo], db_path=db, clock=h1.clock) as h2:
        h2.add_room(members=[ALICE])
        assert await h2.advance(31) == 1
        assert [s.body for s in h2.in_thread(root)] == ["pong"]
        assert await h2.advance(100) == 0


async def test_rate_limit_answers_once() -> None:
    config = Config(rate_limit=RateLimitConfig(commands=2, per=60.0))
    async with Harness([Echo], config=config) as h:
        h.add_room(members=[ALICE])
        for _ in range(5):
            await h.say(ALICE, "!echo 1 x")
        bodies = [s.body for s in h.sent]
        assert bodies.count("x") == 2
        assert sum("Trop de commandes" in b for b in bodies) == 1
        await h.advance(61)
        await h.say(ALICE, "!echo 1 y")
        assert h.last().body == "y"


async def test_database_newer_than_code_is_refused(tmp_path) -> None:
    from bot.storage import Database, SchemaTooNew

    db = await Database.open(tmp_path / "x.db")
    await db.migrate("echo", ("CREATE TABLE a (x)", "CREATE TABLE b (x)"))
    with pytest.raises(SchemaTooNew):
        await db.migrate("echo", ("CREATE TABLE a (x)",))
    await db.close()


def test_config_dataclasses_are_frozen() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        Config().language = "en"  # type: ignore[misc]


class Clerk:
    """A handler object: declares a command, a hook and a timer of the plugin owning it."""

    def __init__(self, bot: Any) -> None:
        self.bot = bot
        self.seen: list[str] = []

    @command("remind", args=(Int("seconds", low=1), Rest("text")), summary="clerk.summary")
    async def remind(self, ctx: Context, seconds: int, text: str) -> None:
        await self.bot.schedule("clerk", "remind:1", self.bot.now() + seconds,
                                {"room_id": ctx.room_id, "text": text})
        await ctx.reply("ok")

    @on(Message)
    async def heard(self, ctx: Context, event: Message) -> None:
        self.seen.append(event.event_id)

    @timer("remind")
    async def due(self, ctx: Context, fired: Fired) -> None:
        await ctx.send(fired.payload["text"])


class Office(Plugin):
    """Wiring only: its declarations are its part's."""

    name = "clerk"
    strings = {
        "clerk.summary": {"fr": "Rappelle le texte.", "en": "Reminds the text."},
        "arg.seconds": {"fr": "secondes", "en": "seconds"},
        "arg.text": {"fr": "texte", "en": "text"},
    }

    def __init__(self, bot: Any, config: Any) -> None:
        super().__init__(bot, config)
        self.clerk = Clerk(bot)
        self.parts = (self.clerk,)


async def test_a_parts_commands_hooks_and_timers_are_the_plugins() -> None:
    async with Harness([Office]) as h:
        h.add_room(members=[ALICE])
        asked = await h.say(ALICE, "!remind 30 relire le dossier")
        assert [s.body for s in h.answers(asked)] == ["ok"]
        assert asked in h.app.plugins["clerk"].clerk.seen  # type: ignore[attr-defined]
        assert await h.advance(31) == 1
        assert h.last().body == "relire le dossier"
        usage = await h.say(ALICE, "!help remind")
        assert h.answers(usage)[0].body.startswith("!remind <secondes> <texte>\nRappelle le texte.")


class Twice(Office):
    """Declares `!remind` itself as well as through its part."""

    @command("remind")
    async def remind(self, ctx: Context) -> None:
        await ctx.reply("mine")


class TimerTwice(Office):
    @timer("remind")
    async def remind_due(self, ctx: Context, fired: Fired) -> None:
        pass


@pytest.mark.parametrize(("cls", "what", "first", "second"), [
    (Twice, "command 'remind'", "Twice.remind", "Clerk.remind"),
    (TimerTwice, "timer 'remind'", "Clerk.due", "TimerTwice.remind_due"),
])
async def test_a_name_declared_by_the_plugin_and_by_a_part_is_refused_at_load(
        cls: type[Plugin], what: str, first: str, second: str) -> None:
    harness = Harness([cls])
    try:
        with pytest.raises(RuntimeError) as refused:
            await harness.__aenter__()
    finally:
        await harness.db.close()
    assert str(refused.value) == (f"plugin clerk: {what} declared twice, by {first} "
                                  f"and by {second}")


async def test_a_moderator_is_a_room_admin_there_but_never_the_bot(h: Harness) -> None:
    other, bot = "!other:test", h.transport.user_id
    h.add_room(other, members=[ALICE, "@bob:test"], powers={ALICE: 50, bot: 100})
    ctx = Context.for_event(h.app, Message("!room:test", "$ask", ALICE, 0, "!verify"))
    assert not ctx.is_moderator(ALICE)  # power 0 here
    assert ctx.is_moderator(ALICE, other)  # 50 there, the default admin level
    assert not ctx.is_moderator("@bob:test", other)
    assert not ctx.is_moderator(bot, other)
    assert ctx.in_room(other).moderators() == [ALICE]
