"""The transport floor: a minimal matrix-nio bot that answers `!ping` with a threaded notice.

It is the *baseline* of the network benchmarks, so unlike casebot's own modules (where only
`bot/matrix.py` may import nio) it imports nio directly and does as little as a correct
encrypted bot can: it keeps one device across runs (credentials, crypto store and sync token
in its data directory, as casebot does), joins the rooms it is invited to, skips the history
of its very first sync, and answers each `!ping` newer than its start minus `catch_up`
seconds with one `m.notice` "pong" in a thread on the command. Callbacks run one at a time
inside nio's `sync_forever`, the way most nio bots are written.

    python -m bench.echo_bot CONFIG.json
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import signal
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from nio import (
    AsyncClient,
    AsyncClientConfig,
    InviteMemberEvent,
    LoginResponse,
    MatrixRoom,
    RoomMessageText,
    RoomSendError,
)

PHASES_ENV = "CASEBOT_START_PHASES"
"""`bot.startup.ENV`, copied (see SYNC_FILTER): the file the benchmark reads the phases from."""
_marks: list[dict[str, float | str]] = []


def _write_marks() -> None:
    Path(os.environ[PHASES_ENV]).write_text(json.dumps(_marks))


def mark(phase: str) -> None:
    """Note the end of a phase of the start, as casebot does (`bot.startup`)."""
    if os.environ.get(PHASES_ENV) and all(m["phase"] != phase for m in _marks):
        _marks.append({"phase": phase, "wall": time.time(), "cpu": time.process_time()})

COMMAND = "!ping"
REPLY = "pong"
SYNC_FILTER = {
    "presence": {"not_types": ["*"]},
    "account_data": {"not_types": ["*"]},
    "room": {
        "timeline": {"limit": 100},
        "ephemeral": {"not_types": ["*"]},
        "account_data": {"not_types": ["*"]},
    },
}
"""casebot's filter (`bot.matrix.SYNC_FILTER`) as it was until session 6, copied: importing
casebot would add its import time and memory to the floor it is measured against. (casebot's
now also leaves out the room state it never reads: topic, avatar, guest access.)"""


@dataclass(frozen=True, slots=True)
class EchoConfig:
    homeserver: str
    user_id: str
    password: str
    data_dir: str
    pickle_key: str = "echo-bench-key"
    catch_up: float = 3600.0
    sync_timeout_ms: int = 30_000

    def write(self, path: Path) -> None:
        path.write_text(json.dumps(asdict(self), indent=2))

    @classmethod
    def read(cls, path: Path) -> EchoConfig:
        return cls(**json.loads(path.read_text()))


def thread_reply(root: str, body: str) -> dict[str, Any]:
    return {"msgtype": "m.notice", "body": body,
            "m.relates_to": {"rel_type": "m.thread", "event_id": root,
                             "is_falling_back": True, "m.in_reply_to": {"event_id": root}}}


class EchoBot:
    def __init__(self, config: EchoConfig) -> None:
        self.config = config
        self.data = Path(config.data_dir)
        self.started = time.time()
        self._keys = asyncio.Lock()
        store = self.data / "store"
        store.mkdir(parents=True, exist_ok=True)
        self.client = AsyncClient(
            config.homeserver, config.user_id, store_path=str(store),
            config=AsyncClientConfig(encryption_enabled=True, store_sync_tokens=True,
                                     pickle_key=config.pickle_key, max_limit_exceeded=6))

    @property
    def credentials(self) -> Path:
        return self.data / "credentials.json"

    async def connect(self) -> None:
        client = self.client
        if self.credentials.exists():
            creds = json.loads(self.credentials.read_text())
            client.restore_login(creds["user_id"], creds["device_id"], creds["access_token"])
        else:
            resp = await client.login(self.config.password, device_name="echo")
            if not isinstance(resp, LoginResponse):
                raise RuntimeError(f"echo bot login failed: {resp}")
            self.credentials.write_text(json.dumps({
                "user_id": resp.user_id, "device_id": resp.device_id,
                "access_token": resp.access_token}))
        if client.should_upload_keys:
            await client.keys_upload()

    async def on_message(self, room: MatrixRoom, event: RoomMessageText) -> None:
        if event.sender == self.client.user_id or not event.body.startswith(COMMAND):
            return
        if event.server_timestamp < (self.started - self.config.catch_up) * 1000:
            return
        mark("first command reached (sync, nio applying it)")
        async with self._keys:
            if self.client.should_query_keys:
                await self.client.keys_query()
        resp = await self.client.room_send(room.room_id, "m.room.message",
                                           thread_reply(event.event_id, REPLY),
                                           ignore_unverified_devices=True)
        if _marks and _marks[-1]["phase"] != "first answer sent":
            mark("first answer sent")
            _write_marks()
        if isinstance(resp, RoomSendError):
            logging.warning("send failed: %s", resp.message)

    async def on_invite(self, room: MatrixRoom, event: InviteMemberEvent) -> None:
        if event.state_key == self.client.user_id and event.membership == "invite":
            await self.client.join(room.room_id)

    async def run(self) -> None:
        await self.connect()
        mark("device, crypto store, keys")
        client = self.client
        if client.loaded_sync_token is None:  # first run ever: do not answer old history
            await client.sync(timeout=0, full_state=True, sync_filter=SYNC_FILTER)
            for room_id in list(client.invited_rooms):
                await client.join(room_id)
        client.add_event_callback(self.on_message, RoomMessageText)  # type: ignore[arg-type]
        client.add_event_callback(self.on_invite, InviteMemberEvent)  # type: ignore[arg-type]
        try:
            await client.sync_forever(timeout=self.config.sync_timeout_ms, full_state=True,
                                      sync_filter=SYNC_FILTER)
        finally:
            await client.close()


async def _main(config: EchoConfig) -> None:
    task = asyncio.create_task(EchoBot(config).run())
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, task.cancel)
    with contextlib.suppress(asyncio.CancelledError):
        await task


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m bench.echo_bot CONFIG.json", file=sys.stderr)
        return 2
    mark("interpreter and imports")
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    logging.getLogger("nio").setLevel(logging.ERROR)
    asyncio.run(_main(EchoConfig.read(Path(args[0]))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
