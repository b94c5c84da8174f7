"""Dispatch: each event handled exactly once, commands routed under the rate limit, hooks
run, every handler guarded (a failure is answered with a reference, not raised); timers and
the lane's jobs run under the same guard, in a `Context` built here.

Rooms are handled in parallel, the events of one room in order. Every handled event id is
recorded before the App saves the batch's sync token, so a crash replays at most the
unfinished batch and the ids recorded are skipped.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import time
from collections import OrderedDict, defaultdict, deque
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import replace
from typing import Any, TypeVar

from bot import content
from bot.events import (
    Event,
    Gate,
    Message,
    NotInRoom,
    PluginEvent,
    Query,
    Redaction,
    Unavailable,
    Undecryptable,
)
from bot.i18n import Catalog, echo
from bot.lane import Job
from bot.logs import Reported, report_exception
from bot.metrics import Metrics
from bot.plugin import BotAPI, Context, Fired, Plugin, Refusal
from bot.router import BadArguments, CommandSpec, family, parse_args, resolve, split_command
from bot.storage import StorageUnavailable

log = logging.getLogger(__name__)

REMEMBERED = 20_000
"""Ids of events handled by this run kept in memory, so that checking costs no query."""
LATE = 300.0
"""Events older than this (origin time) may be late deliveries: checked in the database."""

Handler = Callable[..., Awaitable[Any]]
R = TypeVar("R")


class Dispatcher:
    """Routes the events the App receives to the commands, hooks and timers plugins declared
    (the App fills `commands`, `hooks` and `timers` at start)."""

    def __init__(self, bot: BotAPI, metrics: Metrics, catalog: Catalog,
                 commands: Sequence[CommandSpec], plugins: Mapping[str, Plugin]) -> None:
        self.bot = bot
        self.metrics = metrics
        self.catalog = catalog
        self.commands = commands
        self.plugins = plugins
        self.hooks: list[tuple[tuple[type[Event] | type[PluginEvent], ...], Handler, str]] = []
        self.timers: dict[tuple[str, str], Handler] = {}
        self.replaying = True
        """Until a sync token is saved, a batch may replay events a previous run handled."""
        self._by_kind: dict[type, list[tuple[Handler, str]]] = {}
        self._room_locks: dict[str, asyncio.Lock] = {}
        self._recent: dict[str, deque[float]] = defaultdict(deque)
        self._warned_rate: dict[str, float] = {}
        self._handled: OrderedDict[str, None] = OrderedDict()

    async def tell(self, ctx: Context, event: PluginEvent) -> None:
        """`Context.tell`: every subscribed hook runs; a failure (a `Refusal` too: only
        gates refuse) is reported and the next hook runs. A service outage goes up."""
        for func, where in self.hooks_for(type(event)):
            try:
                await func(ctx, event)
            except Unavailable:
                raise
            except Exception as exc:
                report_exception(log, where, exc)

    async def ask(self, ctx: Context, query: Query[R]) -> list[R]:
        """`Context.ask`: the hooks' answers of the declared type, in plugin order. An
        answerer may refuse the question (`Refusal`): that goes up to the asker."""
        answers: list[R] = []
        for func, where in self.hooks_for(type(query)):
            try:
                found = await func(ctx, query)
                if found is not None and not isinstance(found, query.answers):
                    raise TypeError(f"{type(query).__name__} answered with a "
                                    f"{type(found).__name__}")
            except (Refusal, Unavailable):
                raise
            except Exception as exc:
                report_exception(log, where, exc)
                continue
            if found is not None:
                answers.append(found)
        return answers

    async def gate(self, ctx: Context, event: Gate) -> None:
        """`Context.gate`: every hook runs until one refuses or fails (fail closed)."""
        for func, _ in self.hooks_for(type(event)):
            await func(ctx, event)

    async def settle(self, ctx: Context) -> None:
        """Run the work the handlers left for after them (`Context.after`), each under the
        guard; work that leaves more work runs it too, in order."""
        while ctx._after:
            key = next(iter(ctx._after))
            work = ctx._after.pop(key)
            await self._guard(f"after {key[0] if isinstance(key, tuple) else key}", ctx,
                              work())

    def hooks_for(self, kind: type) -> list[tuple[Handler, str]]:
        """The hooks an event of type `kind` runs, in plugin order, each with its name in
        the logs and metrics (`owner.function`), found once per type."""
        found = self._by_kind.get(kind)
        if found is None:
            found = self._by_kind[kind] = [(func, f"{owner}.{func.__name__}")
                                           for kinds, func, owner in self.hooks
                                           if issubclass(kind, kinds)]
        return found

    async def _already_handled(self, event: Event) -> bool:
        """Whether `event` was handled before. Only a replayed batch (before the first saved
        token) or a late delivery can hold such an event: those ask the database; the rest
        are checked against the ids this run handled."""
        if event.event_id in self._handled:
            return True
        if self.replaying or event.timestamp / 1000 < self.bot.now() - LATE:
            return bool(await self.bot.db.fetchval(
                "SELECT 1 FROM handled_events WHERE event_id = ?", (event.event_id,)))
        return False

    async def handle_batch(self, events: Sequence[Event]) -> None:
        """Handle a sync batch: rooms in parallel, each room's events in order."""
        by_room: dict[str, list[Event]] = defaultdict(list)
        for event in events:
            by_room[event.room_id].append(event)
        if len(by_room) == 1:  # the usual batch: no task to create
            await self._handle_room(next(iter(by_room.values())))
        else:
            results = await asyncio.gather(
                *(self._handle_room(evs) for evs in by_room.values()), return_exceptions=True)
            for result in results:
                if isinstance(result, BaseException):
                    raise result
        self._prune()

    async def _handle_room(self, events: list[Event]) -> None:
        room_id = events[0].room_id
        lock = self._room_locks.setdefault(room_id, asyncio.Lock())
        async with lock:
            for event in events:
                await self.handle(event)

    def _prune(self) -> None:
        """Forget per-room locks and per-user counters nobody uses any more."""
        for room_id, lock in list(self._room_locks.items()):
            if not lock.locked():
                del self._room_locks[room_id]
        horizon = self.bot.now() - self.bot.config.rate_limit.per
        for user, window in list(self._recent.items()):
            if not window or window[-1] <= horizon:
                del self._recent[user]
        for user, warned in list(self._warned_rate.items()):
            if warned <= horizon:
                del self._warned_rate[user]

    async def handle(self, event: Event) -> None:
        """Handle one event once; events already handled (replayed after a crash) are skipped.

        The bot's own events are skipped too, except its redactions: hooks must learn that a
        message it deleted (a case root redacted for secrecy) is gone."""
        if event.sender == self.bot.user_id and not isinstance(event, Redaction):
            return
        if await self._already_handled(event):
            return
        self.metrics.handled(type(event).__name__)
        self.metrics.event_lag.observe(max(0.0, self.bot.now() - event.timestamp / 1000))
        ctx = Context.for_event(self.bot, event)
        with self.bot.db.deferring():  # the writes nobody reads go with the record below
            if isinstance(event, Undecryptable):
                await self._guard("undecryptable notice", ctx, ctx.reply(ctx.t("undecryptable")))
            if isinstance(event, Message):
                await self._maybe_command(ctx, event)
            for func, where in self.hooks_for(type(event)):
                await self._guard(where, ctx, func(ctx, event))
            await self.settle(ctx)
        try:
            await self.bot.db.execute(
                "INSERT OR IGNORE INTO handled_events (event_id, handled_at) VALUES (?, ?)",
                (event.event_id, self.bot.now()))
        except sqlite3.Error as exc:  # the batch stays in hand and is retried
            raise StorageUnavailable(
                f"the database cannot record handled events ({type(exc).__name__})") from None
        self._handled[event.event_id] = None
        if len(self._handled) > REMEMBERED:
            self._handled.popitem(last=False)

    async def _guard(self, where: str, ctx: Context, work: Awaitable[Any], *,
                     passes: tuple[type[Exception], ...] = (Unavailable,),
                     notice: str | None = "internal_error") -> str | None:
        """Run one handler; a failure is logged (no text) and answered with a reference (the
        string `notice`; None: not answered), which is returned (None: no failure).

        A database that cannot be written is not the handler's fault: that propagates (with
        the rest of `passes`), and the transport retries the whole batch once the database is
        back (nothing lost)."""
        started = time.perf_counter()
        try:
            await work
        except Refusal as refusal:
            await ctx.reply(refusal.message)
        except passes:
            raise
        except Exception as exc:
            ref = report_exception(log, where, exc)
            if notice is not None:
                await self._tell_failure(where, ctx, notice, ref)
            return ref
        finally:
            self.metrics.spent(where, time.perf_counter() - started)
        return None

    async def _tell_failure(self, where: str, ctx: Context, notice: str, ref: str) -> None:
        """Answer a failure with its reference; a notice that cannot be sent is logged."""
        try:
            await ctx.reply(ctx.t(notice, ref=ref))
        except Exception as again:
            report_exception(log, f"{where} error notice", again)

    def _rate_limited(self, user_id: str) -> float:
        """Seconds to wait before `user_id` may run another command (0 when allowed)."""
        window = self._recent[user_id]
        now = self.bot.now()
        while window and window[0] <= now - self.bot.config.rate_limit.per:
            window.popleft()
        if len(window) >= self.bot.config.rate_limit.commands:
            return window[0] + self.bot.config.rate_limit.per - now
        window.append(now)
        return 0.0

    async def _maybe_command(self, ctx: Context, event: Message) -> None:
        if event.msgtype == "m.notice":
            return
        split = split_command(event.body, ctx.prefixes)
        if split is None:
            return
        name, text = split
        if not await self._allowed(ctx, event.sender):
            return
        spec, text = resolve(self.commands, name, text)
        if spec is None and (subcommands := family(self.commands, name)):
            await self._guard("usage", ctx, ctx.reply(content.Rich.of(*(
                ctx.t("usage", usage=s.usage(ctx.prefix, self.catalog, ctx.lang))
                for s in subcommands))))
            return
        if spec is None:
            if name.isalpha():
                await self._guard("unknown command", ctx, ctx.reply(ctx.t(
                    "unknown_command", name=echo(f"{ctx.prefix}{name}"), prefix=ctx.prefix)))
            return
        await self._guard(f"{spec.owner}.{spec.name}", ctx, self._run(ctx, spec, text))

    async def _run(self, ctx: Context, spec: CommandSpec, text: str) -> None:
        """Admin check, arguments (a usage line when they do not parse), checks, handler."""
        ctx.plugin = self.plugins.get(spec.owner)
        self.metrics.ran(spec.name)
        if spec.admin:
            ctx.check_admin()
        try:
            values = parse_args(spec, text, ctx)
        except BadArguments as bad:
            await self._usage_error(ctx, spec, bad)
            return
        for check in spec.checks:
            await check(ctx, values)
        await spec.handler(ctx, **values)

    async def _allowed(self, ctx: Context, user_id: str) -> bool:
        """The rate limit, before any reply (an unknown command costs a reply too); the
        first refusal in a window says so, the others are silent."""
        wait = self._rate_limited(user_id)
        if not wait:
            return True
        if self._warned_rate.get(user_id, 0) < self.bot.now() - self.bot.config.rate_limit.per:
            self._warned_rate[user_id] = self.bot.now()
            await self._guard("rate limit notice", ctx, ctx.reply(
                ctx.t("rate_limited", seconds=max(1, round(wait)))))
        return False

    async def _usage_error(self, ctx: Context, spec: CommandSpec, bad: BadArguments) -> None:
        values = dict(bad.values)
        if "name" in values:
            values["name"] = self.catalog.label(ctx.lang, spec.owner, str(values["name"]))
        reason = ctx.t(bad.key, **values)
        usage = spec.usage(ctx.prefix, self.catalog, ctx.lang)
        await ctx.reply(content.Rich.of(f"{reason}.", ctx.t("usage", usage=usage)))

    async def fire_timer(self, fired: Fired, attempts: int = 0) -> None:
        """Run a timer's handler in a `Context` of the room (and thread) its payload names
        (`room_id`, `thread_root`), under the guard: a `Refusal` is answered there, a failure
        is told there with a reference the first time (`attempts` 0) and raised as `Reported`
        for the scheduler to try again later; an outage (`Unavailable`) and `NotInRoom` go
        up as they are (the scheduler retries the first, drops the second). A timer with no
        room (a bot-wide chore) gets no `Context` (None) and its failures are only logged."""
        name = fired.key.split(":", 1)[0]
        handler = self.timers.get((fired.component, name))
        if handler is None:
            log.warning("no handler for timer %s:%s; dropped", fired.component, name)
            return
        room_id, root = fired.payload.get("room_id"), fired.payload.get("thread_root")
        if not isinstance(room_id, str):
            await handler(None, fired)
            return
        ctx = Context(self.bot, room_id, fired, thread_root=root if isinstance(root, str) else None)
        ctx.plugin = self.plugins.get(fired.component)
        where = f"{fired.component}.{handler.__name__}"
        ref = await self._background(where, ctx, handler(ctx, fired), notice=None)
        if ref is None:
            return
        if not attempts:  # from a source of its own: no transaction id of the retries'
            told = Context(self.bot, room_id, replace(fired, key=f"{fired.key}#failed"),
                           thread_root=ctx.thread_root)
            await self._tell_failure(where, told, "background_error", ref)
        raise Reported(ref)

    async def run_job(self, job: Job) -> None:
        """Run one of the lane's jobs (`bot.lane`) in a `Context` built from what it records,
        under the guard: a failure is told in its room with a reference; an outage and
        `NotInRoom` go up to the lane (which retries the first, drops the second).

        Its sends get transaction ids of their own (its `Context`'s source is a `Fired`
        named after the job and its event): none is one of its event's handlers', and a
        retry after an outage sends nothing twice."""
        source = Fired(job.owner, f"lane:{job.name}:{job.event_id}", 0.0, {})
        ctx = Context(self.bot, job.room_id, source, thread_root=job.thread_root,
                      latest=job.event_id)
        ctx.plugin = self.plugins.get(job.owner)
        await self._background(f"{job.owner}.{job.name}", ctx, job.work(ctx),
                               notice="background_error")

    async def _background(self, where: str, ctx: Context, work: Awaitable[Any],
                          notice: str | None) -> str | None:
        """Work outside an event's handling (a timer, a lane job) under the guard, then what
        it left for after (`settle`) when it succeeded; the failure's reference, or None. An
        outage and `NotInRoom` go up: the scheduler or the lane retries the first and drops
        the work for the second."""
        ref = await self._guard(where, ctx, work, passes=(Unavailable, NotInRoom),
                                notice=notice)
        if ref is None:
            await self.settle(ctx)
        return ref
