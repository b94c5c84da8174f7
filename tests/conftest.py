"""Shared fixtures: one real Synapse per pytest process, fresh users and rooms per test.

Under pytest-xdist (`make test` runs `pytest -n …`) each worker is its own process, so each
starts its own Synapse on its own free port the first time one of its tests needs it; users
and rooms are unique per test anyway, so nothing is shared between workers but the machine.
"""

from __future__ import annotations

import logging
import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from hypothesis import settings

from bot.homeserver import LocalSynapse
from tests.support import photos
from tests.support.federation import FederatedPair, start_pair
from tests.support.jsclient import JsClient
from tests.support.live import Live, live_session, start_synapse

# The same generated examples on every run (a hash of each test picks its seed), so that the
# suite's verdict never depends on chance; HYPOTHESIS_PROFILE=explore draws new ones.
settings.register_profile("suite", derandomize=True, database=None)
settings.register_profile("explore")
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "suite"))

# HEIF test pictures in a tenth of the processor time (make bench keeps x265's default).
photos.HEIF_OPTIONS["enc_params"] = {"preset": "ultrafast"}


@pytest.fixture(scope="session")
def synapse() -> Iterator[LocalSynapse]:
    hs = start_synapse()
    try:
        yield hs
    finally:
        hs.stop()


@pytest.fixture(scope="session")
def federation() -> Iterator[FederatedPair]:
    """Two homeservers that federate on loopback (distinct names `localhost:<port>`), started
    the first time a test of this worker asks for them, stopped at the end of its session."""
    pair = start_pair()
    try:
        yield pair
    finally:
        pair.stop()


@pytest.fixture
async def live(synapse: LocalSynapse, tmp_path: Path,
               caplog: pytest.LogCaptureFixture) -> AsyncIterator[Live]:
    """A live session; the in-process bots' own INFO log (ids and counts only) is captured,
    so that a failing live test shows what the bot did (a rare load-only failure is
    otherwise undiagnosable)."""
    for name in ("bot", "plugins"):
        caplog.set_level(logging.INFO, logger=name)
    async with live_session(synapse, tmp_path) as session:
        yield session


@pytest.fixture
async def js(tmp_path: Path) -> AsyncIterator[JsClient]:
    """A physician on Element's SDK (tests/jsclient), driven over JSON lines."""
    client = JsClient(log_path=tmp_path / "jsclient.log")
    await client.start()
    yield client
    await client.stop()
