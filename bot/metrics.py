"""Prometheus metrics and the health check, served on `metrics.listen` (off by default).

The only module that imports prometheus_client. Every label is bounded by the code, never by
what people send: event kinds, command names, handler names and the counters plugins declare
by calling `BotAPI.count` — never a user id, a room id or any text.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.exposition import generate_latest
from prometheus_client.registry import Collector

from bot.config import ConfigError

if TYPE_CHECKING:
    from aiohttp import web

log = logging.getLogger(__name__)

HEALTHY_WITHIN = 120.0
"""/healthz is healthy when the sync loop completed a sync within this many seconds."""
_NAME = re.compile(r"[a-z][a-z0-9_]{0,40}")
_LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)
_LAG_BUCKETS = (0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 3600)


@dataclass
class SyncProbe:
    """What the metrics read from the transport at scrape time (wall-clock seconds)."""

    last_sync: Callable[[], float | None]
    """When the sync loop last completed a sync (its batch handled), None before the first."""
    pending: Callable[[], int]
    """Events held, waiting for their keys."""
    undecryptable: Callable[[], int]
    """Events that arrived undecryptable since the start (most are decrypted later)."""


class _SyncCollector(Collector):
    def __init__(self, probe: SyncProbe, now: Callable[[], float]) -> None:
        self.probe = probe
        self.now = now

    def collect(self) -> Iterator[CounterMetricFamily | GaugeMetricFamily]:
        last = self.probe.last_sync()
        yield GaugeMetricFamily(
            "casebot_sync_age_seconds", "Seconds since the sync loop last completed a sync "
            "(-1 before the first)", value=-1 if last is None else max(0.0, self.now() - last))
        yield GaugeMetricFamily("casebot_events_pending_decryption",
                                "Events held, waiting for their room keys",
                                value=self.probe.pending())
        yield CounterMetricFamily("casebot_decryption_failures",
                                  "Events that arrived undecryptable (key requested)",
                                  value=self.probe.undecryptable())


class Metrics:
    """The bot's counters and histograms, in a registry of their own (one per App)."""

    def __init__(self, now: Callable[[], float] = time.time) -> None:
        self.now = now
        self.registry = CollectorRegistry()
        reg = self.registry
        self.events = Counter("casebot_events_handled", "Events handled, by kind", ["kind"],
                              registry=reg)
        self.commands = Counter("casebot_commands", "Commands run, by name", ["command"],
                                registry=reg)
        self.replies = Counter("casebot_replies_sent", "Messages the bot sent", registry=reg)
        self.reply_failures = Counter("casebot_replies_failed", "Sends that failed",
                                      registry=reg)
        self.handler_seconds = Histogram("casebot_handler_seconds",
                                         "Time spent in each handler (commands and hooks)",
                                         ["handler"], buckets=_LATENCY_BUCKETS, registry=reg)
        self.event_lag = Histogram("casebot_event_lag_seconds",
                                   "From an event's origin timestamp to its handling",
                                   buckets=_LAG_BUCKETS, registry=reg)
        self.timers_overdue = Gauge("casebot_timers_overdue",
                                    "Timers past their due time (read at scrape)", registry=reg)
        self._named: dict[str, Counter] = {}
        self._children: dict[tuple[str, str], Any] = {}
        self.probe: SyncProbe | None = None

    def _child(self, family: Counter | Histogram, label: str) -> Any:
        """`family.labels(label)`, found once (`labels` checks and locks at every call)."""
        key = (family._name, label)
        child = self._children.get(key)
        if child is None:
            child = self._children[key] = family.labels(label)
        return child

    def handled(self, kind: str) -> None:
        """An event of this kind was handled."""
        self._child(self.events, kind).inc()

    def ran(self, command: str) -> None:
        """A command ran."""
        self._child(self.commands, command).inc()

    def spent(self, handler: str, seconds: float) -> None:
        """A handler (command or hook) took `seconds`."""
        self._child(self.handler_seconds, handler).observe(seconds)

    def count(self, component: str, name: str, amount: int = 1) -> None:
        """`casebot_<component>_<name>_total` += amount (a counter a plugin declares by use)."""
        key = f"{component}_{name}"
        counter = self._named.get(key)
        if counter is None:
            if not (_NAME.fullmatch(component) and _NAME.fullmatch(name)):
                raise ValueError(f"not a metric name: {key!r}")
            counter = self._named[key] = Counter(f"casebot_{key}", f"{component}: {name}",
                                                 registry=self.registry)
        counter.inc(amount)

    def watch(self, probe: SyncProbe) -> None:
        """Read the sync loop's figures at each scrape (and answer /healthz from them)."""
        self.probe = probe
        self.registry.register(_SyncCollector(probe, self.now))

    def health(self) -> tuple[bool, str]:
        """Whether the sync loop completed within `HEALTHY_WITHIN`, and why, in words."""
        last = self.probe.last_sync() if self.probe else None
        if last is None:
            return False, "starting: no sync completed yet\n"
        age = self.now() - last
        if age > HEALTHY_WITHIN:
            return False, f"stalled: last sync completed {age:.0f} s ago\n"
        return True, f"ok: last sync completed {age:.0f} s ago\n"


async def serve_metrics(metrics: Metrics, listen: str,
                        refresh: Callable[[], Awaitable[None]]) -> web.AppRunner:
    """Serve /metrics and /healthz on `listen` (host:port); `refresh` runs before a scrape
    (figures read from the database). Returns the runner, to `cleanup()` at the end."""
    from aiohttp import web  # the server side of aiohttp: imported only when metrics are on

    async def scrape(request: web.Request) -> web.Response:
        await refresh()
        return web.Response(body=generate_latest(metrics.registry),
                            headers={"Content-Type": CONTENT_TYPE_LATEST})

    async def healthz(request: web.Request) -> web.Response:
        healthy, text = metrics.health()
        return web.Response(text=text, status=200 if healthy else 503)

    app = web.Application()
    app.router.add_get("/metrics", scrape)
    app.router.add_get("/healthz", healthz)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    host, _, port = listen.rpartition(":")
    site = web.TCPSite(runner, host.strip("[]") or "127.0.0.1", int(port))
    try:
        await site.start()
    except OSError as exc:
        await runner.cleanup()
        raise ConfigError([f"metrics.listen: cannot listen on {listen} ({exc.strerror})"]) \
            from None
    log.info("metrics and /healthz on http://%s/", listen)
    return runner

