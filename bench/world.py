"""The live side of the benchmarks: casebot and the echo bot as child processes on the
throwaway Synapse, physicians as `bot.matrix.UserClient`s, and /proc numbers of the bots.

The bots run as separate processes (`python -m bot run -c …`, the way it is deployed, and
`python -m bench.echo_bot …`) so that their start-up, memory and CPU can be measured alike,
and so that the physicians' clients in this process do not share their event loop.
Physicians and rooms come from the live-test helpers (`tests/support/live.py`).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterable
from pathlib import Path

from bench.corpus import REPO, case_command
from bench.echo_bot import COMMAND as PING
from bench.echo_bot import REPLY as PONG
from bench.echo_bot import EchoConfig
from bot.config import Config, Duration, MatrixConfig, Secrets
from bot.homeserver import LocalSynapse
from bot.matrix import Seen, UserClient
from bot.startup import ENV as PHASES_ENV
from tests.support.live import PASSWORD, PICKLE_KEY, BotHandle, Live, stop_process

CARD = re.compile(r"^Cas #(\d+) · ")
UNLIMITED = {"commands": 1_000_000, "per": 1}
"""casebot's per-user command rate limit, lifted: one poster sends hundreds of commands."""
_CLOCK_TICK = os.sysconf("SC_CLK_TCK")
PHASES_WAIT = 60.0
"""Seconds a bot is given to write its start's phases after its first answer."""


def bot_environment(base: Path, root: Path, phases: Path) -> dict[str, str]:
    """A bot process's environment: its source tree, where it writes its start's phases, and
    its modules' bytecode cached under `base` as an installed package has it (`pip install`
    compiles it; a machine that sets PYTHONDONTWRITEBYTECODE would otherwise make every
    restart recompile casebot's ~200 modules, ~0.1 s of CPU, but none of nio's)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    return env | {"PYTHONPATH": str(root), PHASES_ENV: str(phases),
                  "PYTHONPYCACHEPREFIX": str(base / "pycache")}


class BotProcess:
    """A bot under test: its account, data directory and, while it runs, its process."""

    kind = ""

    def __init__(self, hs: LocalSynapse, base: Path, localpart: str) -> None:
        self.hs = hs
        self.user_id = hs.register(localpart, PASSWORD)
        self.data_dir = base / localpart
        self.data_dir.mkdir(parents=True)
        self.state_dir = self.data_dir / "data"
        """The bot's own data directory: credentials.json, crypto store, database."""
        self.log_path = self.data_dir / "stderr.log"
        self.proc: subprocess.Popen[bytes] | None = None
        self.spawned_at = 0.0
        """Wall clock (epoch seconds) of the last spawn."""
        self.phases_path = self.data_dir / "start-phases.json"
        self.writes_phases = True
        """False for a casebot tree from before the phases were marked (`--before`)."""

    # ---- what it answers ------------------------------------------------------------------
    def command(self, i: int) -> str:
        raise NotImplementedError

    def is_answer(self, seen: Seen) -> bool:
        """Whether `seen` is this bot's answer to a command (the one counted exactly once)."""
        raise NotImplementedError

    def replied(self, root: str) -> Callable[[Seen], bool]:
        """Matches the first threaded message of this bot on `root` (the latency end point)."""
        return lambda e: e.sender == self.user_id and e.thread_root == root

    # ---- process --------------------------------------------------------------------------
    def _spawn(self) -> subprocess.Popen[bytes]:
        raise NotImplementedError

    def start(self) -> float:
        """Start the process; return the monotonic time just before it was spawned."""
        assert self.proc is None, "already running"
        began = time.monotonic()
        self.spawned_at = time.time()
        self.proc = self._spawn()
        return began

    def stop(self) -> None:
        """SIGTERM, as a service manager would; a bot that does not exit within 30 s is
        killed and reported (its shutdown is part of what is checked)."""
        if self.proc is None:
            return
        proc, self.proc = self.proc, None
        try:
            code = stop_process(proc)
        except subprocess.TimeoutExpired as exc:
            stop_process(proc, signal.SIGKILL)
            raise RuntimeError(f"{self.kind} did not stop within 30 s:\n{self.log_tail()}"
                               ) from exc
        if code not in (0, -signal.SIGTERM):
            raise RuntimeError(f"{self.kind} exited with {code}:\n{self.log_tail()}")

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def _status(self, key: str) -> float:
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1]) / 1024
        return float("nan")

    def rss_mib(self) -> float:
        return self._status("VmRSS")

    def peak_rss_mib(self) -> float:
        return self._status("VmHWM")

    def cpu_seconds(self) -> float:
        """User + system CPU time of the process so far."""
        stat = Path(f"/proc/{self.pid}/stat").read_text()
        fields = stat[stat.rindex(")") + 2:].split()
        return (int(fields[11]) + int(fields[12])) / _CLOCK_TICK

    async def start_phases(self, spawned: float) -> list[tuple[str, float, float]]:
        """The phases of the last start (`bot.startup`; the echo bot marks a few too):
        (name, wall seconds since the spawn, processor seconds of the phase); empty if the
        bot wrote none."""
        if not self.writes_phases:
            return []
        # casebot writes them once its first batch is handled, which may end after the
        # answer arrived (a first start's batch holds the history): wait a little for them
        deadline = time.monotonic() + PHASES_WAIT
        while True:
            try:
                marks = json.loads(self.phases_path.read_text())
                break
            except (OSError, ValueError):
                if time.monotonic() > deadline or not self.alive():
                    return []
                await asyncio.sleep(0.1)
        out: list[tuple[str, float, float]] = []
        cpu = 0.0
        for mark in marks:
            out.append((str(mark["phase"]), float(mark["wall"]) - spawned,
                        float(mark["cpu"]) - cpu))
            cpu = float(mark["cpu"])
        return out

    @property
    def credentials_path(self) -> Path:
        return self.state_dir / "credentials.json"

    def access_token(self) -> str:
        """The token of the bot's own device (both bots keep it in credentials.json)."""
        return str(json.loads(self.credentials_path.read_text())["access_token"])

    def log_tail(self, lines: int = 20) -> str:
        if not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


class Casebot(BotProcess):
    kind = "casebot"

    def __init__(self, hs: LocalSynapse, base: Path, localpart: str,
                 root: Path = REPO) -> None:
        super().__init__(hs, base, localpart)
        self.root = root
        """The source tree it runs from (another commit's, to compare before and after)."""
        self.writes_phases = (root / "bot" / "startup.py").exists()
        matrix = MatrixConfig(homeserver=hs.url, user_id=self.user_id,
                              sync_timeout=Duration(30))
        handle = BotHandle(Config(matrix=matrix, data_dir=self.state_dir),
                           Secrets(password=PASSWORD, pickle_key=PICKLE_KEY))
        self.config_path = handle.write_config(self.data_dir / "config.yaml",
                                               logging={"level": "WARNING"},
                                               rate_limit=UNLIMITED)

    def command(self, i: int) -> str:
        return case_command(i)

    def is_answer(self, seen: Seen) -> bool:
        return (seen.sender == self.user_id and seen.thread_root is not None
                and CARD.match(seen.body) is not None)

    def _spawn(self) -> subprocess.Popen[bytes]:
        self.phases_path.unlink(missing_ok=True)
        env = bot_environment(self.data_dir.parent, self.root, self.phases_path)
        return subprocess.Popen(
            [sys.executable, "-m", "bot", "run", "-c", str(self.config_path)],
            cwd=self.data_dir, env=env, stdout=subprocess.DEVNULL,
            stderr=open(self.log_path, "ab"),  # owned by the child
            start_new_session=True)



class EchoBot(BotProcess):
    kind = "echo"

    def __init__(self, hs: LocalSynapse, base: Path, localpart: str) -> None:
        super().__init__(hs, base, localpart)
        self.config_path = self.data_dir / "echo.json"
        EchoConfig(hs.url, self.user_id, PASSWORD, str(self.state_dir)).write(
            self.config_path)

    def command(self, i: int) -> str:
        return f"{PING} {i}"

    def is_answer(self, seen: Seen) -> bool:
        return (seen.sender == self.user_id and seen.thread_root is not None
                and seen.body == PONG)

    def _spawn(self) -> subprocess.Popen[bytes]:
        self.phases_path.unlink(missing_ok=True)
        env = bot_environment(self.data_dir.parent, REPO, self.phases_path)
        return subprocess.Popen(
            [sys.executable, "-m", "bench.echo_bot", str(self.config_path)],
            cwd=self.data_dir, env=env, stdout=subprocess.DEVNULL,
            stderr=open(self.log_path, "ab"),  # owned by the child
            start_new_session=True)


def answers(client: UserClient, bot: BotProcess, roots: Iterable[str]) -> Counter[str]:
    """How many answers of `bot` `client` received per command (0 for the unanswered)."""
    wanted = set(roots)
    counts: Counter[str] = Counter(dict.fromkeys(wanted, 0))
    for seen in client.seen:
        root = seen.thread_root
        if root is not None and root in wanted and bot.is_answer(seen):
            counts[root] += 1
    return counts


def card_numbers(client: UserClient, bot: BotProcess, room_id: str) -> list[int]:
    """The case numbers of the cards `client` saw in `room_id` (each must appear once)."""
    found: list[int] = []
    for seen in client.seen:
        if seen.room_id == room_id and bot.is_answer(seen):
            match = CARD.match(seen.body)
            if match:
                found.append(int(match.group(1)))
    return found


class World:
    """Bots and physicians of one benchmark on the shared Synapse; all stopped at the end."""

    def __init__(self, hs: LocalSynapse, base: Path) -> None:
        self.hs = hs
        self.base = base
        base.mkdir(parents=True, exist_ok=True)
        self.live = Live(hs, base)
        self.bots: list[BotProcess] = []
        self._clients: list[UserClient] = []
        self._names = 0

    def _localpart(self, prefix: str) -> str:
        self._names += 1
        return f"{prefix}{self._names}{os.urandom(3).hex()}"

    def casebot(self, root: Path = REPO) -> Casebot:
        bot = Casebot(self.hs, self.base, self._localpart("casebot"), root)
        self.bots.append(bot)
        return bot

    def echo(self) -> EchoBot:
        bot = EchoBot(self.hs, self.base, self._localpart("echo"))
        self.bots.append(bot)
        return bot

    async def physician(self, name: str = "dr") -> UserClient:
        """A new physician account with its running client."""
        return await self.live.physician(name)

    async def client_of(self, user_id: str) -> UserClient:
        """A running client (a new device) of an existing physician account."""
        client = UserClient(self.hs.url, user_id, PASSWORD,
                            self.base / f"{user_id[1:].split(':')[0]}-{len(self._clients)}")
        await client.start()
        self._clients.append(client)
        return client

    async def close(self) -> None:
        for bot in self.bots:
            with contextlib.suppress(Exception):
                bot.stop()
        for client in self._clients:
            with contextlib.suppress(Exception):
                await client.close()
        await self.live.close()


@contextlib.asynccontextmanager
async def world(hs: LocalSynapse, base: Path) -> AsyncIterator[World]:
    w = World(hs, base)
    try:
        yield w
    finally:
        await w.close()
