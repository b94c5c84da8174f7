"""The bot's one device: credentials, login, the guarded nio client, key upkeep, cross-signing.

The bot logs in once; its user id, device id and access token are kept in the data directory
(owner-only) with the crypto store, and restored on every later start, so it never creates a
new device and keeps reading its rooms.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
from nio import AsyncClientConfig, LoginResponse, WhoamiResponse

from bot.config import Config, Secrets
from bot.crosssign import CrossSignError, CrossSignResult, ensure_cross_signed
from bot.events import Unavailable
from bot.matrix.guarded import GuardedClient
from bot.startup import phases

log = logging.getLogger(__name__)

INSECURE_DEV_PICKLE_KEY = "casebot-insecure-dev-key"


class TransportError(RuntimeError):
    """A request the homeserver refused or that could not be made."""


class HomeserverUnavailable(Unavailable):
    """The homeserver did not answer, or asked to slow down: try the same request later."""


@dataclass
class Credentials:
    homeserver: str
    user_id: str
    device_id: str
    access_token: str

    @classmethod
    def load(cls, path: Path) -> Credentials | None:
        if not path.exists():
            return None
        return cls(**json.loads(path.read_text()))

    def save(self, path: Path) -> None:
        write_private(path, json.dumps(self.__dict__, indent=2))


def write_private(path: Path, text: str) -> None:
    """Write a file readable by its owner only, atomically."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_suffix(path.suffix + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
    os.replace(tmp, path)


def secure_tree(root: Path) -> None:
    """Owner-only permissions on the data directory and everything in it."""
    if not root.exists():
        return
    os.chmod(root, 0o700)
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames:
            os.chmod(os.path.join(dirpath, name), 0o700)
        for name in filenames:
            os.chmod(os.path.join(dirpath, name), 0o600)


def client_config(pickle_key: str) -> AsyncClientConfig:
    return AsyncClientConfig(
        encryption_enabled=True,
        store_sync_tokens=False,
        pickle_key=pickle_key,
        max_limit_exceeded=6,
        max_timeouts=4,
        request_timeout=60,
    )


class Session:
    """The bot's device and its nio client (`client`, None until `connect()`)."""

    def __init__(self, config: Config, secrets: Secrets, insecure_dev: bool = False,
                 observer: Callable[[Any, bool], None] | None = None) -> None:
        if not secrets.pickle_key and not insecure_dev:
            raise TransportError(
                "CASEBOT_PICKLE_KEY is not set: it encrypts the crypto store. Set it in the "
                "environment or .env (or pass --insecure-dev for a throwaway test bot)")
        self.config = config
        self.secrets = secrets
        self.data_dir = config.data_dir
        self.user_id = config.matrix.user_id
        self.pickle_key = secrets.pickle_key or INSECURE_DEV_PICKLE_KEY
        self.observer = observer
        """Told of every response the client applies (see `GuardedClient.observer`)."""
        self.client: GuardedClient | None = None
        self.keys_lock = asyncio.Lock()
        self.cross_signing: CrossSignResult | None = None

    # ---- paths -----------------------------------------------------------------------------
    @property
    def credentials_path(self) -> Path:
        return self.data_dir / "credentials.json"

    @property
    def store_path(self) -> Path:
        return self.data_dir / "store"

    def new_client(self, device_id: str | None = None) -> GuardedClient:
        self.store_path.mkdir(parents=True, exist_ok=True, mode=0o700)
        secure_tree(self.data_dir)
        client = GuardedClient(self.config.matrix.homeserver, self.user_id,
                               device_id=device_id, store_path=str(self.store_path),
                               config=client_config(self.pickle_key))
        client.observer = self.observer
        return client

    # ---- login -----------------------------------------------------------------------------
    async def login(self, password: str) -> Credentials:
        """Create the bot's device with a password login and persist its credentials."""
        client = self.new_client()
        try:
            resp = await client.login(password, device_name=self.config.matrix.device_name)
            if not isinstance(resp, LoginResponse):
                raise TransportError(f"login refused: {getattr(resp, 'message', resp)}")
            creds = Credentials(self.config.matrix.homeserver, resp.user_id, resp.device_id,
                                resp.access_token)
            creds.save(self.credentials_path)
            if client.should_upload_keys:
                await client.keys_upload()
        finally:
            await client.close()
        secure_tree(self.data_dir)
        log.info("logged in as %s, device %s", creds.user_id, creds.device_id)
        return creds

    async def connect(self) -> None:
        """Restore the bot's device (logging in the first time if a password is given)."""
        creds = Credentials.load(self.credentials_path)
        if creds and creds.user_id != self.user_id:
            raise TransportError(
                f"{self.credentials_path} belongs to {creds.user_id}, not {self.user_id}")
        if creds is None and self.secrets.access_token:
            creds = await self._adopt_token(self.secrets.access_token)
        if creds is None and self.secrets.password:
            creds = await self.login(self.secrets.password)
        if creds is None:
            raise TransportError(
                "no credentials yet: run `casebot login` once, or set CASEBOT_PASSWORD "
                "(or CASEBOT_ACCESS_TOKEN)")
        phases.mark("credentials")
        self.client = self.new_client(creds.device_id)
        self.client.restore_login(creds.user_id, creds.device_id, creds.access_token)
        secure_tree(self.data_dir)
        phases.mark("crypto store")
        await self.keys_upkeep()
        phases.mark("key upkeep")
        log.info("device %s restored for %s", creds.device_id, creds.user_id)
        try:
            await self.cross_sign()
        except (CrossSignError, aiohttp.ClientError, OSError) as exc:
            log.warning("cross-signing skipped (%s): Element's strict mode will not trust "
                        "the bot until `casebot cross-sign` succeeds", type(exc).__name__)
        phases.mark("cross-signing")

    async def cross_sign(self, reset: bool = False) -> CrossSignResult:
        """Sign the bot's device with its own cross-signing keys (Element's strict mode).

        Without it, clients that exclude insecure devices (MSC4153) share no room keys with
        the bot and flag its messages. Logs the master key fingerprint for admins to check.
        """
        client = self.client
        assert client is not None
        result = await ensure_cross_signed(
            self.config.matrix.homeserver, str(client.access_token), self.user_id,
            str(client.device_id), self.data_dir / "cross_signing.keys", self.pickle_key,
            self.secrets.password, reset=reset)
        level = logging.INFO if result.status in ("created", "signed", "already") \
            else logging.WARNING
        log.log(level, "%s", result.message)
        secure_tree(self.data_dir)
        self.cross_signing = result
        return result

    async def _adopt_token(self, token: str) -> Credentials:
        client = self.new_client()
        client.access_token = token
        try:
            resp = await client.whoami()
        finally:
            await client.close()
        if not isinstance(resp, WhoamiResponse) or not resp.device_id:
            raise TransportError("CASEBOT_ACCESS_TOKEN was refused by the homeserver")
        creds = Credentials(self.config.matrix.homeserver, resp.user_id, resp.device_id, token)
        creds.save(self.credentials_path)
        return creds

    @property
    def device_id(self) -> str:
        assert self.client is not None
        return str(self.client.device_id)

    @property
    def access_token(self) -> str:
        assert self.client is not None
        return str(self.client.access_token)

    # ---- encryption upkeep -------------------------------------------------------------------
    async def keys_upkeep(self) -> None:
        """Upload, query and claim keys as nio asks, and send its queued to-device messages."""
        client = self.client
        assert client is not None
        if client.next_batch:  # the sync loop's first call: its first response is applied
            phases.mark("first sync (request, nio applying it)")
        async with self.keys_lock:
            if client.should_upload_keys:
                await client.keys_upload()
            if client.should_query_keys:
                await client.keys_query()
            if client.should_claim_keys:
                await client.keys_claim(client.get_users_for_key_claiming())
            await client.send_to_device_messages()

    async def query_keys_if_needed(self) -> None:
        """Before sending from a handler: callbacks run before the sync loop's own upkeep."""
        client = self.client
        assert client is not None
        if client.should_query_keys:
            async with self.keys_lock:
                if client.should_query_keys:
                    await client.keys_query()

    async def close(self) -> None:
        if self.client is not None:
            await self.client.close()
