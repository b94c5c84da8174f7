"""Live-test helpers: bots and physicians on the real Synapse the suite started."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import itertools
import os
import signal
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from bot.config import Config, Duration, MatrixConfig, Secrets
from bot.homeserver import LocalSynapse
from bot.matrix import UserClient
from bot.service import serve

PASSWORD = "correct horse battery staple"
START_ATTEMPTS = 3
"""A port found free may be taken (by any outgoing connection on the machine) before Synapse
binds it, seconds later: then Synapse exits at once and new ports are tried."""


def start_synapse(federation: bool = False) -> LocalSynapse:
    """A running throwaway Synapse (federating on loopback when asked), on new ports when the
    ones found free were taken before it bound them."""
    for attempt in range(START_ATTEMPTS):
        hs = LocalSynapse(federation=federation)
        try:
            hs.start()
        except RuntimeError as err:
            hs.stop()
            if "exited" not in str(err) or attempt == START_ATTEMPTS - 1:
                raise
        else:
            return hs
    raise AssertionError("unreachable")


PICKLE_KEY = "test-pickle-key"
REPO = Path(__file__).resolve().parents[2]
_names = itertools.count(1)


def unique(prefix: str) -> str:
    return f"{prefix}{next(_names)}{uuid.uuid4().hex[:6]}"


@dataclass
class BotHandle:
    config: Config
    secrets: Secrets
    task: asyncio.Task[None] | None = None
    stop_event: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def user_id(self) -> str:
        return self.config.matrix.user_id

    async def start(self) -> None:
        ready = asyncio.Event()
        self.stop_event = asyncio.Event()
        self.task = asyncio.create_task(serve(self.config, self.secrets,
                                              stop=self.stop_event, ready=ready))
        waiter = asyncio.create_task(ready.wait())
        await asyncio.wait({self.task, waiter}, return_when=asyncio.FIRST_COMPLETED)
        if self.task.done():
            waiter.cancel()
            self.task.result()

    async def stop(self) -> None:
        if self.task is not None:
            self.stop_event.set()
            await asyncio.wait_for(self.task, timeout=30)
            self.task = None

    def write_config(self, path: Path, **extra: Any) -> Path:
        """The same bot as a YAML file + .env, for running it as a separate process."""
        data = {
            "matrix": {
                "homeserver": self.config.matrix.homeserver,
                "user_id": self.config.matrix.user_id,
                "undecryptable_grace": float(self.config.matrix.undecryptable_grace),
                "sync_timeout": float(self.config.matrix.sync_timeout),
            },
            "data_dir": str(self.config.data_dir),
            "logging": {"level": "INFO"},
        }
        if self.config.plugins is not None:
            data["plugins"] = list(self.config.plugins)
        data.update(dict(self.config.sections))
        data.update(extra)
        path.write_text(yaml.safe_dump(data))
        (path.parent / ".env").write_text(
            f"CASEBOT_PASSWORD={self.secrets.password}\nCASEBOT_PICKLE_KEY={PICKLE_KEY}\n")
        return path


class Live:
    """Factory of bots and physicians on one homeserver, cleaned up at the end of a test."""

    def __init__(self, hs: LocalSynapse, tmp: Path) -> None:
        self.hs = hs
        self.tmp = tmp
        self._bots: list[BotHandle] = []
        self._clients: list[UserClient] = []

    def bot_config(self, plugins: Sequence[str] | None = None, **sections: Any) -> BotHandle:
        localpart = unique("casebot")
        user_id = self.hs.register(localpart, PASSWORD)
        matrix = MatrixConfig(homeserver=self.hs.url, user_id=user_id,
                              undecryptable_grace=Duration(3), sync_timeout=Duration(1))
        config = Config(matrix=matrix, data_dir=self.tmp / localpart,
                        plugins=tuple(plugins) if plugins is not None else None,
                        sections=sections)
        handle = BotHandle(config, Secrets(password=PASSWORD, pickle_key=PICKLE_KEY))
        self._bots.append(handle)
        return handle

    async def bot(self, plugins: Sequence[str] | None = None, **sections: Any) -> BotHandle:
        handle = self.bot_config(plugins, **sections)
        await handle.start()
        return handle

    async def physician(self, name: str = "dr") -> UserClient:
        localpart = unique(name)
        user_id = self.hs.register(localpart, PASSWORD)
        client = UserClient(self.hs.url, user_id, PASSWORD, self.tmp / f"{localpart}-store")
        await client.start()
        self._clients.append(client)
        return client

    async def room_with(self, owner: UserClient, bot: BotHandle | str,
                        others: Sequence[UserClient] = (), encrypted: bool = True,
                        public: bool = False, bot_power: int | None = None) -> str:
        bot_id = bot if isinstance(bot, str) else bot.user_id
        room_id = await owner.create_room(unique("cases"), invite=[bot_id] +
                                          [o.user_id for o in others],
                                          encrypted=encrypted, public=public,
                                          powers={bot_id: bot_power} if bot_power else None)
        await owner.wait_joined(room_id, bot_id)
        for other in others:
            await other.wait_joined(room_id, other.user_id)
            await owner.wait_joined(room_id, other.user_id)
        return room_id

    async def close(self) -> None:
        for handle in self._bots:
            with contextlib.suppress(Exception):
                await handle.stop()
        for client in self._clients:
            with contextlib.suppress(Exception):
                await client.close()


def without_ids(text: str, *user_ids: str) -> str:
    """`text` without these user ids nor their localparts (the default display names), before
    asserting that a short string (a number, a value the bot must not echo) is absent: a random
    id such as `@alice119b480ed:localhost` may contain it by chance."""
    for user_id in user_ids:
        text = text.replace(user_id, "").replace(user_id.split(":")[0].lstrip("@"), "")
    return text


def survive_outages(client: UserClient, max_wait: float = 2.0) -> None:
    """Let a physician's client ride out a homeserver restart: nio retries connection
    errors forever (at most `max_wait` s apart) instead of raising after four, which would
    end its sync loop and make its sends fail."""
    assert client.client is not None
    client.client.config = dataclasses.replace(client.client.config, max_timeouts=None,
                                               max_timeout_retry_wait_time=max_wait)


def bot_process(config_path: Path, log_path: Path) -> subprocess.Popen[bytes]:
    """`casebot run` as a separate process (for restarts and kill -9)."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.Popen(
        [sys.executable, "-m", "bot", "run", "-c", str(config_path)],
        cwd=config_path.parent, env=env, stdout=subprocess.DEVNULL,
        stderr=open(log_path, "ab"),
        start_new_session=True)


def stop_process(proc: subprocess.Popen[bytes], sig: int = signal.SIGTERM) -> int:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, sig)
    return proc.wait(timeout=30)


@contextlib.asynccontextmanager
async def live_session(hs: LocalSynapse, tmp: Path) -> AsyncIterator[Live]:
    live = Live(hs, tmp)
    try:
        yield live
    finally:
        await live.close()


__all__ = ["PASSWORD", "BotHandle", "Live", "bot_process", "live_session",
           "stop_process", "survive_outages", "unique"]
