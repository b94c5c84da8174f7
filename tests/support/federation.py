"""Two Synapse homeservers that federate on loopback, for tests of physicians on two servers.

Each is a `LocalSynapse(federation=True)`: its name is `localhost:<federation port>`, so each
reaches the other at `https://localhost:<port>` (self-signed TLS, not checked) with no DNS,
SRV, `.well-known` nor /etc/hosts entry. Both start at once, in threads (each mostly waits on
its own process), and stop together.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from bot.homeserver import LocalSynapse
from tests.support.live import Live, start_synapse


@dataclass
class FederatedPair:
    a: LocalSynapse
    b: LocalSynapse
    startup_seconds: float
    """Wall-clock time to start both (reported by the fixture's test, not asserted)."""

    def stop(self) -> None:
        self.a.stop()
        self.b.stop()


def start_pair() -> FederatedPair:
    """Start two federating homeservers side by side; both are running on return."""
    began = time.monotonic()
    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = [pool.submit(start_synapse, True) for _ in range(2)]
    errors = [err for f in futures if (err := f.exception()) is not None]
    started = [f.result() for f in futures if f.exception() is None]
    if errors:
        for hs in started:
            hs.stop()
        raise errors[0]
    a, b = started
    assert a.server_name != b.server_name
    return FederatedPair(a, b, time.monotonic() - began)


@contextlib.asynccontextmanager
async def federated_lives(pair: FederatedPair, tmp: Path) -> AsyncIterator[tuple[Live, Live]]:
    """A `Live` factory of bots and physicians on each server, closed at the end of a test."""
    lives = (Live(pair.a, tmp / "a"), Live(pair.b, tmp / "b"))
    try:
        yield lives
    finally:
        for live in lives:
            await live.close()


__all__ = ["FederatedPair", "federated_lives", "start_pair"]
