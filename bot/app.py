"""The App: owns the transport, database, scheduler and plugins; routes every event.

Delivery contract: the transport hands over each sync batch, the App handles it (rooms in
parallel, events of one room in order), records every handled event id, and only then is
the sync token saved. A crash replays at most the unfinished batch; handled ids are skipped
and replies reuse their transaction ids, so each command is answered exactly once.
"""

from __future__ import annotations

import asyncio
import fnmatch
import importlib
import logging
import sqlite3
import time
from collections import OrderedDict, defaultdict, deque
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from typing import Any, Protocol

from bot import content
from bot.config import Config, ConfigError, build
from bot.events import (
    Attachment,
    Edit,
    Event,
    MemberChange,
    Message,
    PluginEvent,
    Reaction,
    Redaction,
    RoomInfo,
    StateChange,
    Unavailable,
    Undecryptable,
)
from bot.i18n import LANGUAGES, Catalog, echo
from bot.logs import report_exception
from bot.metrics import Metrics
from bot.plugin import Context, Fired, Plugin, Refusal, stable_id
from bot.router import (
    BadArguments,
    CommandSpec,
    Many,
    family,
    find,
    parse_args,
    resolve,
    split_command,
)
from bot.scheduler import MIGRATIONS as TIMER_MIGRATIONS
from bot.scheduler import Scheduler
from bot.settings import MIGRATIONS as SETTINGS_MIGRATIONS
from bot.settings import STRINGS as SETTINGS_STRINGS
from bot.settings import Settings
from bot.storage import Database, Migration, StorageUnavailable
from bot.syncstore import SyncStore
from bot.text import fold

log = logging.getLogger(__name__)

CORE_MIGRATIONS = (
    Migration("key-value store, handled event ids, room settings", """
    CREATE TABLE kv (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE TABLE handled_events (event_id TEXT PRIMARY KEY, handled_at REAL NOT NULL);
    CREATE INDEX handled_events_at ON handled_events (handled_at);
    CREATE TABLE room_settings (
        room_id TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL,
        PRIMARY KEY (room_id, key)
    )
    """),
)
"""(`room_settings` is `bot.settings`'s now; it was created here first, so the step stays.)"""
HANDLED_RETENTION = 7 * 86400
REMEMBERED = 20_000
"""Ids of events handled by this run kept in memory, so that checking costs no query."""
TOKEN_EVERY = 1.0
"""The sync token is written at most once a second: each handled event is recorded anyway,
so a crash only makes the next run re-read (and skip) a second's worth of events."""
HELP_SECTIONS = {"admin": "admin", "administration": "admin", "volontaires": "volunteers",
                 "volunteers": "volunteers", "benevoles": "volunteers",
                 "moderation": "moderation", "moderateurs": "moderation",
                 "moderators": "moderation", "moderateur": "moderation",
                 "moderator": "moderation"}
"""`!help <word>` words (folded: `modération` too) that name a section, not a command."""
HELP_POINTERS = ("volunteers", "moderation", "admin")
"""The sections the others point to, in this order."""
LATE = 300.0
"""Events older than this (origin time) may be late deliveries: checked in the database."""


class Transport(Protocol):
    """What the App needs from Matrix (`bot.matrix.MatrixTransport`, or the test fake)."""

    user_id: str

    def room(self, room_id: str) -> RoomInfo | None: ...
    def room_ids(self) -> tuple[str, ...]: ...
    async def invite(self, room_id: str, user_id: str) -> bool: ...
    async def send(self, room_id: str, event_type: str, body: dict[str, Any],
                   txn_id: str) -> str: ...
    async def redact(self, room_id: str, event_id: str, reason: str, txn_id: str) -> bool: ...
    async def get_state(self, room_id: str, event_type: str,
                        state_key: str = "") -> dict[str, Any] | None: ...
    async def put_state(self, room_id: str, event_type: str, body: dict[str, Any],
                        state_key: str) -> bool: ...
    async def download(self, attachment: Attachment, limit: int = ...) -> bytes: ...
    async def upload(self, data: bytes, mimetype: str, filename: str) -> dict[str, Any]: ...
    async def direct_room(self, user_id: str) -> str: ...
    async def event_sender(self, room_id: str, event_id: str) -> str | None: ...
    async def resolve_alias(self, alias: str) -> str | None: ...


def known_plugins() -> tuple[str, ...]:
    from plugins import DEFAULT_PLUGINS

    return DEFAULT_PLUGINS


def configure(cls: type[Plugin], section: Any, problems: list[str]) -> Any:
    """Build and check a plugin's config section, appending `path: reason` problems."""
    if cls.Config is None:
        if section:
            problems.append(f"{cls.name}: this plugin takes no settings")
        return None
    before = len(problems)
    cfg = build(cls.Config, section, cls.name, problems)
    if len(problems) == before:
        problems.extend(cls.check(cfg))
    return cfg


def with_required(classes: Iterable[type[Plugin]]) -> list[type[Plugin]]:
    """`classes` and the plugins they require, each required one before its first user."""
    ordered: list[type[Plugin]] = []

    def add(cls: type[Plugin]) -> None:
        if cls not in ordered:
            for needed in cls.requires:
                add(needed)
            ordered.append(cls)

    for cls in classes:
        add(cls)
    return ordered


def load_plugin_classes(config: Config) -> list[tuple[type[Plugin], Any]]:
    """Import the enabled plugins (and the ones they require) and validate their config
    sections (ConfigError if bad)."""
    problems: list[str] = []
    classes: list[type[Plugin]] = []
    for name in config.plugins if config.plugins is not None else known_plugins():
        try:
            classes.append(importlib.import_module(f"plugins.{name}").PLUGIN)
        except (ImportError, AttributeError):
            problems.append(f"plugins: unknown plugin {name!r}")
    found = [(cls, configure(cls, config.sections.get(cls.name), problems))
             for cls in with_required(classes)]
    if problems:
        raise ConfigError(problems)
    return found


def known_schemas(plugins: Iterable[type[Plugin]]) -> dict[str, int]:
    """The schema version of each component this code brings a database to (its number of
    migration steps): what a database, a backup or `casebot doctor` is compared with."""
    return {"core": len(CORE_MIGRATIONS), "timers": len(TIMER_MIGRATIONS),
            "settings": len(SETTINGS_MIGRATIONS),
            **{cls.name: len(cls.migrations) for cls in plugins}}


class App:
    """Implements `bot.plugin.BotAPI` for the plugins and the event sink for the transport."""

    def __init__(self, config: Config, transport: Transport, db: Database,
                 plugins: Sequence[tuple[type[Plugin], Any]],
                 now: Callable[[], float] = time.time) -> None:
        self.config = config
        self.transport = transport
        self.db = db
        self.sync_store = SyncStore(db)
        self.user_id = transport.user_id
        self.now = now
        self.catalog = Catalog()
        self.catalog.add(SETTINGS_STRINGS, "core")
        self.settings = Settings(db, config)
        self.scheduler = Scheduler(db, now, self._fire_timer)
        self.metrics = Metrics(now)
        self.started_at = now()
        self._plugin_specs = plugins
        self.plugins: dict[str, Plugin] = {}
        self.commands: list[CommandSpec] = []
        self._hooks: list[tuple[tuple[type[Event] | type[PluginEvent], ...],
                                Callable[..., Awaitable[Any]], str]] = []
        self._by_kind: dict[type, list[tuple[Callable[..., Awaitable[Any]], str]]] = {}
        self._timers: dict[tuple[str, str], Callable[..., Awaitable[Any]]] = {}
        self._room_locks: dict[str, asyncio.Lock] = {}
        self._recent: dict[str, deque[float]] = defaultdict(deque)
        self._warned_rate: dict[str, float] = {}
        self._handled: OrderedDict[str, None] = OrderedDict()
        self._replaying = True
        self._token: str | None = None
        self._token_written = -TOKEN_EVERY
        self.monotonic: Callable[[], float] = time.monotonic
        """Wall time for I/O pacing (`now` may be a test's fake clock)."""
        """Until a sync token is saved, a batch may replay events a previous run handled."""

    # ---- start / stop -------------------------------------------------------------------
    async def start(self) -> None:
        """Bring the database up to date, then load the plugins in order.

        Order matters: core tables and timers first; settings (read once into memory); then
        each plugin (required ones come first, see `with_required`): its strings (a key another
        component declared is an error), an instance, its migrations, its commands, hooks and
        timers. Once all exist, each is bound to the plugins it requires, the settings registry
        learns every plugin's room settings, the `!config` commands are added, duplicate
        command names are refused, and each plugin's `start()` runs.
        """
        await self.db.migrate("core", CORE_MIGRATIONS)
        await self.db.migrate("timers", TIMER_MIGRATIONS)
        await self.db.execute("DELETE FROM handled_events WHERE handled_at < ?",
                              (self.now() - HANDLED_RETENTION,))
        await self.settings.start()
        self.commands.append(CommandSpec(
            "help", self._help, (Many("command", optional=True),), ("aide",),
            "help.summary", "core"))
        for cls, cfg in self._plugin_specs:
            self.catalog.add(cls.strings, cls.name)
            plugin = cls(self, cfg)
            await self.db.migrate(cls.name, cls.migrations)
            self.plugins[cls.name] = plugin
            decls = plugin.declarations()
            for decl, func in decls.commands:
                self.commands.append(CommandSpec(
                    decl.name, func, decl.args, decl.aliases, decl.summary, cls.name,
                    section=decl.section or cls.help_section, admin=decl.admin,
                    checks=decl.checks, order=decl.order))
            self._hooks.extend((kinds, func, cls.name) for kinds, func in decls.hooks)
            self._timers.update({(cls.name, k): f for k, f in decls.timers.items()})
        for plugin in self.plugins.values():
            plugin.bind(list(self.plugins.values()))
        self.settings.load(self.plugins.values())
        self.commands.extend(self.settings.commands())
        names = [n for spec in self.commands for n in (spec.name, *spec.aliases)]
        duplicated = {n for n in names if names.count(n) > 1}
        if duplicated:
            raise RuntimeError(f"commands declared twice: {', '.join(sorted(duplicated))}")
        for plugin in self.plugins.values():
            await plugin.start()

    async def stop(self) -> None:
        """Write the last sync token (if the database takes it: else the last batches replay
        at the next start, answered once all the same), then stop the plugins."""
        try:
            await self._write_token()
        except Unavailable as exc:
            log.warning("sync token not saved at stop (%s): recent events replay at start",
                        exc.reason)
        for plugin in reversed(list(self.plugins.values())):
            try:
                await plugin.stop()
            except Exception as exc:
                report_exception(log, f"stopping {plugin.name}", exc)

    # ---- BotAPI ------------------------------------------------------------------------
    def room(self, room_id: str) -> RoomInfo:
        return self.transport.room(room_id) or RoomInfo(room_id)

    def room_ids(self) -> tuple[str, ...]:
        return self.transport.room_ids()

    async def invite(self, room_id: str, user_id: str) -> bool:
        return await self.transport.invite(room_id, user_id)

    def room_config(self, plugin: Plugin, room_id: str) -> Any:
        return self.settings.config_for(plugin, room_id)

    def lang(self, room_id: str) -> str:
        lang = self.settings.value(room_id, "language")
        return lang if lang in LANGUAGES else self.config.language

    def t(self, lang: str, key: str, /, **values: object) -> str:
        return self.catalog.t(lang, key, **values)

    def prefix(self, room_id: str) -> str:
        return self.config.command_prefix

    def prefixes(self, room_id: str) -> tuple[str, ...]:
        return (self.config.command_prefix, *self.settings.value(room_id, "prefix_aliases"))

    def timezone(self, room_id: str) -> str:
        return str(self.settings.value(room_id, "timezone"))

    def admin_level(self, room_id: str) -> int:
        return int(self.settings.value(room_id, "admin_power_level"))

    def is_bot_admin(self, user_id: str) -> bool:
        return any(fnmatch.fnmatchcase(user_id, pattern) for pattern in self.config.admins)

    async def send(self, room_id: str, body: dict[str, Any], txn_key: str,
                   event_type: str = "m.room.message") -> str:
        try:
            event_id = await self.transport.send(room_id, event_type, body, stable_id(txn_key))
        except Exception:
            self.metrics.reply_failures.inc()
            raise
        self.metrics.replies.inc()
        return event_id

    async def redact(self, room_id: str, event_id: str, reason: str, txn_key: str) -> bool:
        return await self.transport.redact(room_id, event_id, reason, stable_id(txn_key))

    async def get_state(self, room_id: str, event_type: str,
                        state_key: str = "") -> dict[str, Any] | None:
        """The room's current state content, read from the homeserver (before a write that
        must keep what others set, like the pins)."""
        return await self.transport.get_state(room_id, event_type, state_key)

    async def put_state(self, room_id: str, event_type: str, body: dict[str, Any],
                        state_key: str = "") -> bool:
        return await self.transport.put_state(room_id, event_type, body, state_key)

    async def download(self, attachment: Attachment, limit: int = 20 * 1024 * 1024) -> bytes:
        """An attachment's bytes (decrypted), refused past `limit` bytes however it is sent."""
        return await self.transport.download(attachment, limit)

    async def upload(self, data: bytes, mimetype: str, filename: str) -> dict[str, Any]:
        """Upload `data` encrypted: the `file` dict of an encrypted attachment."""
        return await self.transport.upload(data, mimetype, filename)

    async def direct_room(self, user_id: str) -> str:
        """The encrypted direct room with `user_id`, reused while they stay in it."""
        return await self.transport.direct_room(user_id)

    async def event_sender(self, room_id: str, event_id: str) -> str | None:
        """Who sent `event_id` in `room_id`, per the homeserver; None when it is not there
        (or not visible to the bot)."""
        return await self.transport.event_sender(room_id, event_id)

    async def resolve_alias(self, alias: str) -> str | None:
        """The room an alias names in the homeserver's directory; None when unknown."""
        return await self.transport.resolve_alias(alias)

    async def schedule(self, component: str, key: str, due: float,
                       payload: Mapping[str, Any] | None = None) -> None:
        await self.scheduler.schedule(component, key, due, payload)

    async def cancel(self, component: str, *keys: str) -> None:
        await self.scheduler.cancel(component, *keys)

    def count(self, component: str, name: str, amount: int = 1) -> None:
        """Add to the metric `casebot_<component>_<name>_total` (cases opened, pages sent)."""
        self.metrics.count(component, name, amount)

    async def refresh_metrics(self) -> None:
        """Before a scrape: the figures read from the database (kept if it is unavailable)."""
        try:
            self.metrics.timers_overdue.set(await self.scheduler.overdue())
        except Unavailable as exc:
            log.warning("metrics: timers not counted (%s)", exc.reason)

    async def publish(self, ctx: Context, event: PluginEvent) -> list[Any]:
        """Run the hooks subscribed to `event` in plugin order (see `Context.publish`)."""
        results: list[Any] = []
        for func, where in self._hooks_for(type(event)):
            try:
                results.append(await func(ctx, event))
            except (Refusal, Unavailable):
                raise
            except Exception as exc:
                report_exception(log, where, exc)
        return results

    def _hooks_for(self, kind: type) -> list[tuple[Callable[..., Awaitable[Any]], str]]:
        """The hooks an event of type `kind` runs, in plugin order, each with its name in
        the logs and metrics (`owner.function`), found once per type."""
        found = self._by_kind.get(kind)
        if found is None:
            found = self._by_kind[kind] = [(func, f"{owner}.{func.__name__}")
                                           for kinds, func, owner in self._hooks
                                           if issubclass(kind, kinds)]
        return found

    async def set_room_setting(self, room_id: str, key: str, value: str | None) -> None:
        """Set (or with None, unset) a room's own value, as `!config set` does."""
        await self.settings.set_room_value(room_id, key, value)

    # ---- event sink --------------------------------------------------------------------
    async def load_sync_token(self) -> str | None:
        return await self.sync_store.token()

    async def save_sync_token(self, token: str) -> None:
        """Called after each handled batch; written now, or within a second (see TOKEN_EVERY)."""
        self._token = token
        self._replaying = False
        if self.monotonic() - self._token_written >= TOKEN_EVERY:
            await self._write_token()

    async def _write_token(self) -> None:
        if self._token is None:
            return
        await self.sync_store.save_token(self._token)
        self._token, self._token_written = None, self.monotonic()

    async def _already_handled(self, event: Event) -> bool:
        """Whether `event` was handled before. Only a replayed batch (before the first saved
        token) or a late delivery can hold such an event: those ask the database; the rest
        are checked against the ids this run handled."""
        if event.event_id in self._handled:
            return True
        if self._replaying or event.timestamp / 1000 < self.now() - LATE:
            return bool(await self.db.fetchval(
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
        horizon = self.now() - self.config.rate_limit.per
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
        if event.sender == self.user_id and not isinstance(event, Redaction):
            return
        if await self._already_handled(event):
            return
        self.metrics.handled(type(event).__name__)
        self.metrics.event_lag.observe(max(0.0, self.now() - event.timestamp / 1000))
        ctx = Context.for_event(self, event)
        with self.db.deferring():  # the writes nobody reads go with the record below
            if isinstance(event, Undecryptable):
                await self._guard("undecryptable notice", ctx, ctx.reply(ctx.t("undecryptable")))
            if isinstance(event, Message):
                await self._maybe_command(ctx, event)
            for func, where in self._hooks_for(type(event)):
                await self._guard(where, ctx, func(ctx, event))
        try:
            await self.db.execute(
                "INSERT OR IGNORE INTO handled_events (event_id, handled_at) VALUES (?, ?)",
                (event.event_id, self.now()))
        except sqlite3.Error as exc:  # the batch stays in hand and is retried
            raise StorageUnavailable(
                f"the database cannot record handled events ({type(exc).__name__})") from None
        self._handled[event.event_id] = None
        if len(self._handled) > REMEMBERED:
            self._handled.popitem(last=False)

    async def _guard(self, where: str, ctx: Context, work: Awaitable[Any]) -> None:
        """Run one handler; a failure is logged (no text) and answered with a reference.

        A database that cannot be written is not the handler's fault: that propagates, and
        the transport retries the whole batch once the database is back (nothing lost)."""
        started = time.perf_counter()
        try:
            await work
        except Refusal as refusal:
            await ctx.reply(refusal.message)
        except Unavailable:
            raise
        except Exception as exc:
            ref = report_exception(log, where, exc)
            try:
                await ctx.reply(ctx.t("internal_error", ref=ref))
            except Exception as again:
                report_exception(log, f"{where} error notice", again)
        finally:
            self.metrics.spent(where, time.perf_counter() - started)

    def _rate_limited(self, user_id: str) -> float:
        """Seconds to wait before `user_id` may run another command (0 when allowed)."""
        window = self._recent[user_id]
        now = self.now()
        while window and window[0] <= now - self.config.rate_limit.per:
            window.popleft()
        if len(window) >= self.config.rate_limit.commands:
            return window[0] + self.config.rate_limit.per - now
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
        if self._warned_rate.get(user_id, 0) < self.now() - self.config.rate_limit.per:
            self._warned_rate[user_id] = self.now()
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

    async def _help(self, ctx: Context, command: list[str]) -> None:
        """`!help`: everyday commands on one screen; `!help volontaires|moderation|admin`: a
        section; `!help <command>`: its usage, description and aliases."""
        name = " ".join(command).lstrip(ctx.prefix).lower() if command else ""
        section = HELP_SECTIONS.get(fold(name), "everyday" if not name else None)
        if section is not None:
            await ctx.reply(self._help_section(ctx, section))
            return
        subcommands = family(self.commands, name)
        if subcommands and find(self.commands, name) is None:
            await ctx.reply(content.Rich.of(*(
                (content.Bold(s.usage(ctx.prefix, self.catalog, ctx.lang)),
                 f" — {ctx.t(s.summary)}" if s.summary else "") for s in subcommands)))
            return
        spec = find(self.commands, name)
        if spec is None:
            await ctx.reply(ctx.t("unknown_command", name=echo(command[0]), prefix=ctx.prefix))
            return
        lines: list[Any] = [content.Bold(spec.usage(ctx.prefix, self.catalog, ctx.lang))]
        if spec.summary:
            lines.append(ctx.t(spec.summary))
        if spec.aliases:
            lines.append(ctx.t("help.aliases", aliases=", ".join(
                f"{ctx.prefix}{a}" for a in spec.aliases)))
        await ctx.reply(content.Rich.of(*lines))

    def _help_section(self, ctx: Context, section: str) -> content.Rich:
        """A section of `!help`. The everyday one fits Element's thread panel: the commands
        declared with an `order`, in that order, each with its summary; the other everyday
        commands by name on one line (all described when none has an order); then where the
        other sections are."""
        specs = [s for s in self.commands if s.section == section]
        also: list[str] = []
        if section == "everyday" and any(s.order is not None for s in specs):
            described = sorted((s for s in specs if s.order is not None),
                               key=lambda s: s.order or 0)
            taken = {s.name for s in described} | {"help"}
            for spec in specs:
                head = spec.name.split(" ", 1)[0]
                if spec.order is None and head not in taken:
                    taken.add(head)
                    also.append(f"{ctx.prefix}{head}")
        else:
            described = sorted(specs, key=lambda s: s.owner == "core")  # features first
        lines: list[Any] = [ctx.t(f"help.header.{section}")]
        for spec in described:
            summary = ctx.t(spec.summary) if spec.summary else ""
            lines.append((content.Bold(spec.usage(ctx.prefix, self.catalog, ctx.lang)),
                          f" — {summary}" if summary else ""))
        if also:
            lines.append(ctx.t("help.also", commands=" · ".join(also)))
        for other in HELP_POINTERS:
            if other != section and any(c.section == other for c in self.commands):
                lines.append(ctx.t(f"help.more.{other}", prefix=ctx.prefix))
        lines.append(ctx.t("help.footer", prefix=ctx.prefix))
        return content.Rich.of(*lines)

    async def _fire_timer(self, fired: Fired) -> None:
        name = fired.key.split(":", 1)[0]
        handler = self._timers.get((fired.component, name))
        if handler is None:
            log.warning("no handler for timer %s:%s; dropped", fired.component, name)
            return
        await handler(fired)


__all__ = [
    "App",
    "Attachment",
    "Edit",
    "MemberChange",
    "Reaction",
    "Redaction",
    "StateChange",
    "Transport",
    "load_plugin_classes",
]
