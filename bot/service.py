"""Running the bot for real: transport + database + App, until a signal says stop."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Sequence
from typing import TYPE_CHECKING

from bot.app import App
from bot.config import Config, Secrets
from bot.events import Event, Unavailable
from bot.loading import load_plugin_classes
from bot.matrix import MatrixTransport, secure_tree
from bot.metrics import SyncProbe, serve_metrics
from bot.startup import phases
from bot.storage import Database
from bot.syncstore import SyncStore

if TYPE_CHECKING:
    from aiohttp import web

log = logging.getLogger(__name__)


class _TimedSink:
    """The App as the sync loop's sink, marking the first batch's phases of the start."""

    def __init__(self, app: App) -> None:
        self.app = app

    async def load_sync_token(self) -> str | None:
        return await self.app.load_sync_token()

    async def save_sync_token(self, token: str) -> None:
        await self.app.save_sync_token(token)
        phases.finish("first batch handled")

    async def handle_batch(self, events: Sequence[Event]) -> None:
        phases.mark("key upkeep after the sync, events converted")
        await self.app.handle_batch(events)


async def serve(config: Config, secrets: Secrets, insecure_dev: bool = False,
                stop: asyncio.Event | None = None,
                ready: asyncio.Event | None = None) -> None:
    """Run until `stop` is set (or SIGINT/SIGTERM), then shut down in order.

    Order on the way in: the device is restored and the stored sync token read, the first
    sync request goes out, and the plugins are imported and the App started while the
    homeserver works on it; the sync loop hands its answer to the App only after that
    (`SyncLoop.prepare`). Order on the way out: leave the sync loop after the batch in hand
    (its replies are sent and its token saved), stop the timers, stop the plugins, close the
    database.
    """
    transport = MatrixTransport(config, secrets, insecure_dev=insecure_dev)
    db: Database | None = None
    app: App | None = None
    metrics: web.AppRunner | None = None
    loop = asyncio.get_running_loop()
    try:
        await transport.connect()
        db = await Database.open(config.data_dir / "casebot.db")
        phases.mark("database open")
        store = SyncStore(db)
        # before the core's migrations ran once (a new database) there is no token yet; a
        # database unavailable now leaves the first request to the sync loop, which waits
        with contextlib.suppress(Unavailable):
            transport.prepare(await store.token() if await db.version("core") else None)
        plugins = load_plugin_classes(config)
        phases.mark("plugin imports")
        app = App(config, transport, db, plugins)
        stop = stop or asyncio.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(sig, stop.set)
        await app.start()
        phases.mark("migrations, plugins started")
        if config.metrics.listen:
            sync_loop = transport.sync
            app.metrics.watch(SyncProbe(lambda: sync_loop.last_sync_at,
                                        lambda: sync_loop.pending,
                                        lambda: sync_loop.undecryptable))
            metrics = await serve_metrics(app.metrics, config.metrics.listen,
                                          app.refresh_metrics)
        sync = asyncio.create_task(transport.run(_TimedSink(app), store), name="sync")
        timers = asyncio.create_task(app.scheduler.run(), name="timers")
        log.info("casebot running as %s (device %s)", transport.user_id, transport.device_id)
        if ready is not None:
            ready.set()
        stopper = asyncio.create_task(stop.wait())
        while True:
            await asyncio.wait({sync, stopper, timers}, return_when=asyncio.FIRST_COMPLETED)
            if not timers.done() or sync.done() or stopper.done():
                break
            # The timer loop handles its own errors; should it end anyway, say so and restart.
            exc = timers.exception() if not timers.cancelled() else None
            log.error("the timer loop ended (%s); restarting it", type(exc).__name__)
            timers = asyncio.create_task(app.scheduler.run(), name="timers")
        transport.stop()
        timers.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await timers
        stopper.cancel()
        await sync  # raises if the loop died of an error
    finally:
        if metrics is not None:
            await metrics.cleanup()
        try:
            if app is not None:
                await app.stop()
        finally:  # whatever happened, close the database: its thread would keep us alive
            if db is not None:
                await db.close()
            await transport.close()
            secure_tree(config.data_dir)
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.remove_signal_handler(sig)
        log.info("casebot stopped")
