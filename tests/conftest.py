"""Shared fixtures: one real Synapse for the whole session, fresh users and rooms per test."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from bot.homeserver import LocalSynapse
from tests.support.jsclient import JsClient
from tests.support.live import Live, live_session


@pytest.fixture(scope="session")
def synapse() -> Iterator[LocalSynapse]:
    with LocalSynapse() as hs:
        yield hs


@pytest.fixture
async def live(synapse: LocalSynapse, tmp_path: Path) -> AsyncIterator[Live]:
    async with live_session(synapse, tmp_path) as session:
        yield session


@pytest.fixture
async def js(tmp_path: Path) -> AsyncIterator[JsClient]:
    """A physician on Element's SDK (tests/jsclient), driven over JSON lines."""
    client = JsClient(log_path=tmp_path / "jsclient.log")
    await client.start()
    yield client
    await client.stop()
