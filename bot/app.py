"""The App: owns the transport, database, scheduler and plugins; the object plugins use.

Delivery contract: the transport hands over each sync batch, the App handles it (rooms in
parallel, events of one room in order; `bot.dispatch`), records every handled event id, and
only then is the sync token saved. A crash replays at most the unfinished batch; handled ids
are skipped and replies reuse their transaction ids, so each command is answered exactly once.
Loading the plugins and their config is `bot.loading`'s, `!help` is `bot.help`'s.
"""

from __future__ import annotations

import fnmatch
import logging
import time
from collections.abc import Callable, Sequence
from typing import Any, Protocol

from bot.config import Config
from bot.dispatch import Dispatcher
from bot.events import (
    Attachment,
    Edit,
    MemberChange,
    Reaction,
    Redaction,
    RoomInfo,
    StateChange,
    Unavailable,
)
from bot.help import Help
from bot.i18n import Catalog
from bot.lane import Lane
from bot.loading import CORE_MIGRATIONS
from bot.logs import report_exception
from bot.metrics import Metrics
from bot.plugin import Plugin
from bot.router import CommandSpec, Many
from bot.scheduler import MIGRATIONS as TIMER_MIGRATIONS
from bot.scheduler import Scheduler
from bot.settings import STRINGS as SETTINGS_STRINGS
from bot.settings import Settings
from bot.storage import Database
from bot.syncstore import SyncStore

log = logging.getLogger(__name__)

HANDLED_RETENTION = 7 * 86400
TOKEN_EVERY = 1.0
"""The sync token is written at most once a second: each handled event is recorded anyway,
so a crash only makes the next run re-read (and skip) a second's worth of events."""


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
                        state_key: str = "") -> bool: ...
    async def download(self, attachment: Attachment, limit: int = ...) -> bytes: ...
    async def upload(self, data: bytes, mimetype: str, filename: str) -> dict[str, Any]: ...
    async def direct_room(self, user_id: str) -> str: ...
    async def event_sender(self, room_id: str, event_id: str) -> str | None: ...
    async def message_text(self, room_id: str, event_id: str) -> str | None: ...
    async def resolve_alias(self, alias: str) -> str | None: ...


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
        self.metrics = Metrics(now)
        self.started_at = now()
        self._plugin_specs = plugins
        self.plugins: dict[str, Plugin] = {}
        self.commands: list[CommandSpec] = []
        self.dispatch = Dispatcher(self, self.metrics, self.catalog, self.commands, self.plugins)
        self.handle_batch = self.dispatch.handle_batch
        """The event sink: a sync batch, each event handled once (see `bot.dispatch`)."""
        self.hooks = self.dispatch
        """`BotAPI.hooks`: tell, ask and gate the plugins' hooks (`Context.tell`)."""
        self.help = Help(self.commands, self.catalog)
        self.scheduler = Scheduler(db, now, self.dispatch.fire_timer)
        # Services plugins reach through `BotAPI` with no layer of the App's own.
        self.room_ids = transport.room_ids
        self.invite = transport.invite
        self.get_state = transport.get_state
        """The room's current state content, read from the homeserver (before a write that
        must keep what others set, like the pins)."""
        self.put_state = transport.put_state
        self.redact = transport.redact
        self.upload = transport.upload
        """Upload bytes encrypted: the `file` dict of an encrypted attachment."""
        self.event_sender = transport.event_sender
        self.message_text = transport.message_text
        """A message's text as its author last edited it, fetched from the homeserver and
        decrypted in memory, never kept (None: gone, hidden, not a text, no key)."""
        """Who sent an event in a room, per the homeserver (None: not there, or hidden)."""
        self.resolve_alias = transport.resolve_alias
        self.schedule = self.scheduler.schedule
        self.cancel = self.scheduler.cancel
        self.count = self.metrics.count
        """Add to the metric `casebot_<component>_<name>_total` (cases opened, pages sent)."""
        self.lane = Lane(self.dispatch.run_job)
        self._token: str | None = None
        self._token_written = -TOKEN_EVERY
        self.monotonic: Callable[[], float] = time.monotonic
        """Wall time for I/O pacing (`now` may be a test's fake clock)."""

    # ---- start / stop -------------------------------------------------------------------
    async def start(self) -> None:
        """Bring the database up to date, then load the plugins in order.

        Order matters: core tables and timers first; settings (read once into memory); then
        each plugin (required ones come first, see `bot.loading.with_required`): its strings
        (a key another component declared is an error), an instance, its migrations, its
        commands, hooks and timers. Once all exist, each is bound to the plugins it requires,
        the settings registry learns every plugin's room settings, the `!config` commands are
        added, duplicate command names are refused, and each plugin's `start()` runs.
        """
        await self.db.migrate("core", CORE_MIGRATIONS)
        await self.db.migrate("timers", TIMER_MIGRATIONS)
        await self.db.execute("DELETE FROM handled_events WHERE handled_at < ?",
                              (self.now() - HANDLED_RETENTION,))
        await self.settings.start()
        self.commands.append(CommandSpec(
            "help", self.help.show, (Many("command", optional=True),), ("aide",),
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
            self.dispatch.hooks.extend((kinds, func, cls.name) for kinds, func in decls.hooks)
            self.dispatch.timers.update({(cls.name, k): f for k, f in decls.timers.items()})
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
        """Drop the lane's waiting jobs, write the last sync token (if the database takes it:
        else the last batches replay at the next start, answered once all the same), then
        stop the plugins."""
        await self.lane.stop()
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

    def timezone(self, room_id: str) -> str:
        return str(self.settings.value(room_id, "timezone"))

    def admin_level(self, room_id: str) -> int:
        return int(self.settings.value(room_id, "admin_power_level"))

    def is_bot_admin(self, user_id: str) -> bool:
        return any(fnmatch.fnmatchcase(user_id, pattern) for pattern in self.config.admins)

    async def send(self, room_id: str, body: dict[str, Any], txn_id: str,
                   event_type: str = "m.room.message") -> str:
        try:
            event_id = await self.transport.send(room_id, event_type, body, txn_id)
        except Exception:
            self.metrics.reply_failures.inc()
            raise
        self.metrics.replies.inc()
        return event_id

    async def download(self, attachment: Attachment, limit: int = 20 * 1024 * 1024) -> bytes:
        """An attachment's bytes (decrypted), refused past `limit` bytes however it is sent."""
        return await self.transport.download(attachment, limit)

    async def direct_room(self, user_id: str) -> str:
        """The encrypted direct room with `user_id`, reused while they stay in it."""
        return await self.transport.direct_room(user_id)

    async def refresh_metrics(self) -> None:
        """Before a scrape: the figures read from the database (kept if it is unavailable)."""
        try:
            self.metrics.timers_overdue.set(await self.scheduler.overdue())
        except Unavailable as exc:
            log.warning("metrics: timers not counted (%s)", exc.reason)

    async def set_room_setting(self, room_id: str, key: str, value: str | None) -> None:
        """Set (or with None, unset) a room's own value, as `!config set` does."""
        await self.settings.set_room_value(room_id, key, value)

    # ---- event sink --------------------------------------------------------------------
    async def load_sync_token(self) -> str | None:
        return await self.sync_store.token()

    async def save_sync_token(self, token: str) -> None:
        """Called after each handled batch; written now, or within a second (see TOKEN_EVERY)."""
        self._token = token
        self.dispatch.replaying = False
        if self.monotonic() - self._token_written >= TOKEN_EVERY:
            await self._write_token()

    async def _write_token(self) -> None:
        if self._token is None:
            return
        await self.sync_store.save_token(self._token)
        self._token, self._token_written = None, self.monotonic()



__all__ = [
    "App",
    "Attachment",
    "Edit",
    "MemberChange",
    "Reaction",
    "Redaction",
    "StateChange",
    "Transport",
]
