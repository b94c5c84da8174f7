"""Encrypted attachments and direct rooms on the real Synapse: a physician's nio client
receives and decrypts what the bot's transport sent, in the direct room it opened."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Sequence

from bot import content
from bot.events import Event
from bot.matrix import MatrixTransport
from bot.syncstore import Held
from tests.support.live import BotHandle, Live

CSV = "\ufeffdate;cas\n2026-11-30;12\n".encode()


class Quiet:
    """A sink that keeps the sync token in memory, answers nothing and holds no event
    across runs."""

    def __init__(self) -> None:
        self.values: dict[str, str] = {}

    async def load_sync_token(self) -> str | None:
        return self.values.get("token")

    async def save_sync_token(self, token: str) -> None:
        self.values["token"] = token

    async def handle_batch(self, events: Sequence[Event]) -> None:
        return None

    async def held(self) -> list[Held]:
        return []

    async def save_held(self, held: Sequence[Held]) -> None:
        return None


@contextlib.asynccontextmanager
async def running(handle: BotHandle) -> AsyncIterator[MatrixTransport]:
    """The bot's transport alone, syncing in the background."""
    transport = MatrixTransport(handle.config, handle.secrets)
    await transport.connect()
    quiet = Quiet()
    task = asyncio.create_task(transport.run(quiet, quiet))
    try:
        yield transport
    finally:
        transport.stop()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await transport.close()


async def until(check, timeout: float = 20.0) -> None:  # type: ignore[no-untyped-def]
    deadline = asyncio.get_running_loop().time() + timeout
    while not check():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.1)


async def test_a_physician_decrypts_a_file_sent_in_the_direct_room(live: Live) -> None:
    handle = live.bot_config(plugins=[])
    alice = await live.physician("alice")
    async with running(handle) as transport:
        await live.room_with(alice, handle.user_id)  # they share a room: keys are known
        direct = await transport.direct_room(alice.user_id)
        file = await transport.upload(CSV, "text/csv", "fmc.csv")
        assert "url" in file and file["v"] == "v2"
        body = content.attachment(file, "fmc.csv", "text/csv", len(CSV))
        await transport.send(direct, "m.room.message", body, "txn-fmc-1")
        got = await alice.wait_for(lambda e: e.room_id == direct and e.sender == handle.user_id
                                   and e.content.get("msgtype") == "m.file")
        assert got.decrypted and "url" not in got.content
        assert got.content["info"] == {"mimetype": "text/csv", "size": len(CSV)}
        assert await alice.attachment(got.content) == CSV
        room = alice.client.rooms[direct]  # type: ignore[union-attr]
        assert room.encrypted
        assert await transport.direct_room(alice.user_id) == direct
    async with running(handle) as again:  # a restart reads m.direct back
        # On a loaded machine the restarted transport may learn the room over several syncs
        # (seen: a first sync with only its creation and the bot's join, the rest after):
        # ask once it knows the room whole.
        await until(lambda: (info := again.room(direct)) is not None and info.encrypted
                    and info.members == {handle.user_id, alice.user_id})
        assert await again.direct_room(alice.user_id) == direct
        await alice.client.room_leave(direct)  # type: ignore[union-attr]
        await until(lambda: alice.user_id not in again.client.rooms[direct].users)  # type: ignore[union-attr]
        fresh = await again.direct_room(alice.user_id)
        assert fresh != direct
        await alice.wait_joined(fresh, alice.user_id)
        bob = await live.physician("bob")  # alice invites a colleague: no longer hers alone
        await alice.client.room_invite(fresh, bob.user_id)  # type: ignore[union-attr]
        await until(lambda: bob.user_id in again.client.rooms[fresh].users)  # type: ignore[union-attr]
        third = await again.direct_room(alice.user_id)
        assert third not in (direct, fresh)
