"""The Matrix side of `casebot doctor`, read-only, beside the running bot.

No sync and no login: plain client-server requests with the saved access token (`/versions`,
`whoami`, the device, `/keys/query`, joined rooms and their state), and the crypto store read
from a copy taken with SQLite's online backup API (nio's store writes when it opens, so the
bot's own is never opened here).
"""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import aiohttp
from nio import Event as NioEvent
from nio import MatrixRoom, RoomMemberEvent
from nio.crypto import TrustState
from nio.store import DefaultStore

from bot.config import Config
from bot.crosssign import CrossSignError, fingerprint, load_keys, verify_json
from bot.findings import Report
from bot.matrix.convert import as_dict, as_int, room_creators, room_info
from bot.matrix.session import INSECURE_DEV_PICKLE_KEY, Credentials

__all__ = ["INSECURE_DEV_PICKLE_KEY", "check_matrix"]

ROOMS_AT_ONCE = 8
KEYS_QUERY_USERS = 100
"""Users per `/keys/query` (a room of 300 members is three requests)."""
_ALGORITHMS = ("m.olm.v1.curve25519-aes-sha2", "m.megolm.v1.aes-sha2")


class _Unreachable(Exception):
    """The homeserver stopped answering in the middle of the checks."""


class _Api:
    def __init__(self, http: aiohttp.ClientSession, base: str, token: str) -> None:
        self.http = http
        self.base = base.rstrip("/")
        self.headers = {"Authorization": f"Bearer {token}"}

    async def get(self, path: str) -> tuple[int, Any]:
        try:
            async with self.http.get(self.base + path, headers=self.headers) as resp:
                return resp.status, await _json(resp)
        except (aiohttp.ClientError, OSError, TimeoutError) as exc:
            raise _Unreachable(type(exc).__name__) from None

    async def post(self, path: str, body: Mapping[str, Any]) -> tuple[int, Any]:
        try:
            async with self.http.post(self.base + path, json=body,
                                      headers=self.headers) as resp:
                return resp.status, await _json(resp)
        except (aiohttp.ClientError, OSError, TimeoutError) as exc:
            raise _Unreachable(type(exc).__name__) from None


async def _json(resp: aiohttp.ClientResponse) -> Any:
    try:
        return await resp.json(content_type=None)
    except ValueError:
        return {}


@dataclass
class _Store:
    """What the doctor learns from the crypto store's copy."""

    identity: str
    room_keys: int
    blacklisted: frozenset[tuple[str, str]]


def _read_store(store_dir: Path, user_id: str, device_id: str, pickle_key: str) -> _Store:
    """Open a copy of the crypto store (`store_dir`, in the data directory) with the pickle
    key (ValueError if it does not)."""
    name = f"{user_id}_{device_id}.db"
    if not (store_dir / name).exists():
        raise FileNotFoundError(name)
    # Copied inside the data directory, owner-only (mkdtemp's 0700), as `casebot backup`
    # stages its copies: never in the system's temporary directory, which other accounts
    # share and a crash would leave the copy in; `.tmp`, so backups skip it.
    with tempfile.TemporaryDirectory(prefix=".casebot-doctor-", suffix=".tmp",
                                     dir=store_dir.parent) as tmp:
        source = sqlite3.connect(f"file:{store_dir / name}?mode=ro", uri=True)
        copy = sqlite3.connect(Path(tmp) / name)
        try:
            source.backup(copy)
        finally:
            copy.close()
            source.close()
        for side in store_dir.glob(f"{user_id}_{device_id}.*_devices"):
            shutil.copyfile(side, Path(tmp) / side.name)
        store = DefaultStore(user_id, device_id, tmp, pickle_key)
        try:
            account = store.load_account()
        except Exception as exc:  # vodozemac raises its own types for a wrong key
            raise ValueError(type(exc).__name__) from None
        if account is None:
            raise LookupError(device_id)
        sessions = store.load_inbound_group_sessions()  # decrypted: the key works for all
        room_keys = sum(1 for _ in sessions)
        blacklisted = frozenset((d.user_id, d.device_id) for d in store.load_device_keys()
                                if d.trust_state == TrustState.blacklisted)
        identity = str(account.identity_keys["curve25519"])
        store.database.close()
    return _Store(identity, room_keys, blacklisted)


async def check_matrix(config: Config, pickle_key: str, report: Report) -> None:
    """Homeserver, credentials, device and cross-signing, crypto store, rooms, in order."""
    homeserver = config.matrix.homeserver
    creds_path = config.data_dir / "credentials.json"
    timeout = aiohttp.ClientTimeout(total=20)
    async with aiohttp.ClientSession(timeout=timeout) as http:
        try:
            async with http.get(f"{homeserver.rstrip('/')}/_matrix/client/versions") as resp:
                status, versions = resp.status, await _json(resp)
        except (aiohttp.ClientError, OSError, TimeoutError) as exc:
            report.error("homeserver", f"{homeserver} does not answer ({type(exc).__name__})",
                         "check matrix.homeserver, the network and that the homeserver runs")
            return
        known = [v for v in as_dict(versions).get("versions") or () if isinstance(v, str)]
        if status != 200 or not known:
            report.error("homeserver", f"{homeserver} answers {status} without client API "
                         "versions", "matrix.homeserver must be the client API's base URL")
            return
        report.ok("homeserver", f"{homeserver} answers{await _server(http, homeserver)}; "
                  f"client API {', '.join(known[-3:])}")
        try:
            creds = Credentials.load(creds_path)
        except (ValueError, TypeError, OSError) as exc:
            report.error("credentials", f"{creds_path} cannot be read ({type(exc).__name__})",
                         "restore it from a backup, or `casebot login` (a new device)")
            return
        if creds is None:
            report.error("credentials", f"no {creds_path}",
                         "run `casebot login -c config.yaml` once (or restore a backup)")
            return
        api = _Api(http, homeserver, creds.access_token)
        try:
            if not await _whoami(api, creds, config.matrix.user_id, report):
                return
            device_keys = await _device(api, creds, config, pickle_key, report)
            if device_keys is None:
                return
            store = await _store(config, creds, pickle_key, device_keys, report)
            await _rooms(api, creds.user_id, store, report)
        except _Unreachable as exc:
            report.error("homeserver", f"{homeserver} stopped answering during the checks "
                         f"({exc})", "check the homeserver and the network, then run "
                         "`casebot doctor` again")


async def _server(http: aiohttp.ClientSession, homeserver: str) -> str:
    """` (Synapse 1.120.0)` when the homeserver says what it runs (federation's version
    endpoint, else Synapse's public one), else nothing."""
    for path in ("/_matrix/federation/v1/version", "/_synapse/admin/v1/server_version"):
        try:
            async with http.get(homeserver.rstrip("/") + path) as resp:
                found = as_dict(await _json(resp)) if resp.status == 200 else {}
        except (aiohttp.ClientError, OSError, TimeoutError):
            continue
        server = as_dict(found.get("server"))
        name, version = server.get("name"), server.get("version")
        if isinstance(name, str) and isinstance(version, str):
            return f" ({name} {version})"
        if isinstance(found.get("server_version"), str):
            return f" (Synapse {found['server_version']})"
    return ""


async def _whoami(api: _Api, creds: Credentials, user_id: str, report: Report) -> bool:
    status, who = await api.get("/_matrix/client/v3/account/whoami")
    who = as_dict(who)
    if status in (401, 403):
        report.error("credentials", f"the access token was refused ({who.get('errcode')}): "
                     "the device was logged out or deleted",
                     "run `casebot login` (a new device: members must share keys with it "
                     "again), or restore a backup made before the logout")
        return False
    if status != 200:
        report.error("credentials", f"whoami answered {status}", "retry; see the homeserver")
        return False
    if who.get("user_id") != user_id or creds.user_id != user_id:
        report.error("credentials", f"the token is {who.get('user_id')}'s, the configuration "
                     f"says {user_id}", "use the data_dir of this bot, or fix matrix.user_id")
        return False
    if who.get("device_id") not in (None, creds.device_id):
        report.error("credentials", f"the token belongs to device {who.get('device_id')}, "
                     f"credentials.json says {creds.device_id}", "restore a matching backup")
        return False
    report.ok("credentials", f"access token valid for {user_id}, device {creds.device_id}")
    return True


async def _device(api: _Api, creds: Credentials, config: Config, pickle_key: str,
                  report: Report) -> dict[str, Any] | None:
    """The device exists, has keys, and is cross-signed by the bot's own master key."""
    user, device = creds.user_id, creds.device_id
    status, _ = await api.get(f"/_matrix/client/v3/devices/{quote(device, safe='')}")
    if status == 404:
        report.error("device", f"device {device} no longer exists on the homeserver",
                     "restore a backup, or `casebot login` for a new device")
        return None
    status, keys = await api.post("/_matrix/client/v3/keys/query",
                                  {"device_keys": {user: []}})
    keys = as_dict(keys)
    device_keys = as_dict(as_dict(as_dict(keys.get("device_keys")).get(user)).get(device))
    if status != 200 or not device_keys:
        report.error("device", f"device {device} has no encryption keys on the homeserver",
                     "start the bot once: it uploads them")
        return None
    master = as_dict(as_dict(keys.get("master_keys")).get(user))
    ssk = as_dict(as_dict(keys.get("self_signing_keys")).get(user))
    master_pub = next(iter(as_dict(master.get("keys")).values()), None)
    ssk_pub = next(iter(as_dict(ssk.get("keys")).values()), None)
    fix = "run `casebot cross-sign -c config.yaml` (the bot also does it at every start)"
    if not isinstance(master_pub, str) or not isinstance(ssk_pub, str):
        report.warning("cross-signing", "the bot has no cross-signing identity: Element's "
                       "strict mode shares no room keys with it", fix)
        return device_keys
    signed = (verify_json(dict(ssk), master_pub, user, f"ed25519:{master_pub}")
              and verify_json(dict(device_keys), ssk_pub, user, f"ed25519:{ssk_pub}"))
    try:
        local = load_keys(config.data_dir / "cross_signing.keys", pickle_key)
    except CrossSignError:
        report.warning("cross-signing", "cross_signing.keys does not open with "
                       "CASEBOT_PICKLE_KEY", "set the pickle key this bot was made with")
    else:
        if local is None:
            report.warning("cross-signing", "cross_signing.keys is missing: the bot cannot "
                           "sign a device again", "restore it from a backup, or `casebot "
                           "cross-sign --reset` with CASEBOT_PASSWORD set")
        elif local.master_public != master_pub:
            report.warning("cross-signing", "the account's master key is not the one in "
                           "cross_signing.keys", "`casebot cross-sign --reset` with "
                           "CASEBOT_PASSWORD set (members then verify the bot again)")
    if signed:
        report.ok("cross-signing", f"device {device} is cross-signed by the bot's master key "
                  f"({fingerprint(master_pub)})")
    else:
        report.warning("cross-signing", f"device {device} is not signed by the bot's "
                       "self-signing key: Element's strict mode shares no room keys with it",
                       fix)
    return device_keys


async def _store(config: Config, creds: Credentials, pickle_key: str,
                 device_keys: Mapping[str, Any], report: Report) -> _Store | None:
    store_dir = config.data_dir / "store"
    try:
        store = await asyncio.to_thread(_read_store, store_dir, creds.user_id,
                                        creds.device_id, pickle_key)
    except PermissionError as exc:  # the copy is made inside the data directory
        report.error("crypto store", f"cannot copy the crypto store inside {config.data_dir} "
                     f"({exc.strerror})", "run casebot doctor as the bot's own user")
        return None
    except FileNotFoundError as exc:
        report.error("crypto store", f"no crypto store {store_dir / str(exc)}",
                     "restore the data directory from a backup (without it the bot reads "
                     "nothing sent before)")
        return None
    except LookupError:
        report.error("crypto store", f"the crypto store holds no account for device "
                     f"{creds.device_id}", "restore a matching backup")
        return None
    except (ValueError, sqlite3.Error) as exc:
        report.error("crypto store", f"the crypto store does not open ({exc}): wrong "
                     "CASEBOT_PICKLE_KEY, or a damaged store",
                     "set the pickle key this bot was made with; else restore a backup")
        return None
    server_key = as_dict(device_keys.get("keys")).get(f"curve25519:{creds.device_id}")
    if server_key != store.identity:
        report.error("crypto store", "the crypto store's identity key is not the device's "
                     "key on the homeserver: members encrypt for keys the bot does not hold",
                     "restore the backup of this device's data directory")
        return None
    report.ok("crypto store", f"opens with the pickle key; {store.room_keys} room key(s)")
    return store


async def _rooms(api: _Api, user_id: str, store: _Store | None, report: Report) -> None:
    status, joined = await api.get("/_matrix/client/v3/joined_rooms")
    rooms = [r for r in as_dict(joined).get("joined_rooms") or () if isinstance(r, str)]
    if status != 200:
        report.warning("rooms", f"joined rooms not listed ({status})")
        return
    if not rooms:
        report.warning("rooms", "the bot is in no room",
                       "invite it from an account matching matrix.allowed_inviters")
        return
    limit = asyncio.Semaphore(ROOMS_AT_ONCE)

    async def state(room_id: str) -> tuple[str, list[Any]]:
        async with limit:
            code, events = await api.get(
                f"/_matrix/client/v3/rooms/{quote(room_id, safe='')}/state")
        return room_id, events if code == 200 and isinstance(events, list) else []

    states = await asyncio.gather(*(state(r) for r in rooms))
    members = sorted({m for _, events in states for m in _joined(events)} - {user_id})
    devices = await _member_devices(api, members)
    blacklisted = store.blacklisted if store else frozenset()
    for room_id, events in states:
        _check_room(room_id, events, user_id, devices, blacklisted, report)


def _joined(events: Sequence[Any]) -> set[str]:
    return {e["state_key"] for e in events if isinstance(e, dict)
            and e.get("type") == "m.room.member" and isinstance(e.get("state_key"), str)
            and as_dict(e.get("content")).get("membership") == "join"}


async def _member_devices(api: _Api, members: Sequence[str]) -> dict[str, dict[str, Any]]:
    """Each member's devices as the homeserver lists them (absent: the query failed)."""
    found: dict[str, dict[str, Any]] = {}
    for start in range(0, len(members), KEYS_QUERY_USERS):
        batch = members[start:start + KEYS_QUERY_USERS]
        status, keys = await api.post("/_matrix/client/v3/keys/query",
                                      {"device_keys": {user: [] for user in batch}})
        if status == 200:
            for user, devs in as_dict(as_dict(keys).get("device_keys")).items():
                found[user] = dict(as_dict(devs))
    return found


def _unusable(user: str, device_id: str, keys: Mapping[str, Any]) -> bool:
    """A device the bot cannot encrypt for: keys missing, algorithms unsupported, or a
    self-signature that does not verify (nio then refuses the device)."""
    ed = as_dict(keys.get("keys")).get(f"ed25519:{device_id}")
    curve = as_dict(keys.get("keys")).get(f"curve25519:{device_id}")
    algorithms = keys.get("algorithms")
    if not (isinstance(ed, str) and isinstance(curve, str) and isinstance(algorithms, list)):
        return True
    if not all(a in algorithms for a in _ALGORITHMS):
        return True
    return not verify_json(dict(keys), ed, user, f"ed25519:{device_id}")


def _check_room(room_id: str, events: list[Any], user_id: str,
                devices: Mapping[str, Mapping[str, Any]],
                blacklisted: frozenset[tuple[str, str]], report: Report) -> None:
    if not events:
        report.warning("room", f"{room_id}: its state cannot be read", "see the bot's log")
        return
    room = MatrixRoom(room_id, user_id)
    creators: tuple[str, ...] = ()
    levels: Mapping[str, Any] = {}
    for source in events:
        if not isinstance(source, dict):
            continue
        if source.get("type") == "m.room.create":
            creators = room_creators(source)
        if source.get("type") == "m.room.power_levels":
            levels = as_dict(source.get("content"))
        parsed = NioEvent.parse_event(source)
        if isinstance(parsed, RoomMemberEvent):
            room.handle_membership(parsed)
        elif isinstance(parsed, NioEvent):
            room.handle_event(parsed)
    info = room_info(room, creators=creators)
    where = f"{room_id} ({info.name})" if info.name and info.name != room_id else room_id
    problems: list[tuple[str, str]] = []
    if not info.encrypted:
        problems.append(("not end-to-end encrypted: cases are refused there",
                         "create an encrypted room (encryption cannot be turned on for the "
                         "history already there) or turn it on in the room's settings"))
    if info.join_rule == "public":
        problems.append(("anyone can join (public): cases are refused there",
                         "set the room to invite-only in its settings"))
    if info.history_visibility == "world_readable":
        problems.append(("history is world-readable: cases are refused there",
                         "set history visibility to members only"))
    power = info.power_level(user_id)
    admin_fix = "give the bot moderator power (50) in the room's settings"
    if power < info.power_redact:
        problems.append((f"the bot (power {power}) cannot redact (needs {info.power_redact}): "
                         "!redact asks posters to delete their own messages", admin_fix))
    if not info.can_send_state(user_id, "m.room.pinned_events"):
        problems.append((f"the bot (power {power}) cannot pin the rules", admin_fix))
    invite = as_int(levels.get("invite"), 0)
    if power < invite:
        problems.append((f"the bot (power {power}) cannot invite (needs {invite})", admin_fix))
    for member in sorted(info.members - {user_id}):
        mine = devices.get(member)
        if mine is None:
            continue
        usable = [d for d, keys in mine.items()
                  if not _unusable(member, d, as_dict(keys)) and (member, d) not in blacklisted]
        bad = sorted(set(mine) - set(usable))
        if not usable:
            problems.append((f"{member} has no device the bot can encrypt for: they cannot "
                             "read its answers", f"{member} should sign in with an app that "
                             "supports encryption (Element)"))
        elif bad:
            problems.append((f"{member}'s device(s) {', '.join(bad)} cannot be encrypted for "
                             "(keys missing, invalid or blocked)",
                             f"{member} can sign out of these sessions"))
    if not problems:
        report.ok("room", f"{where}: encrypted, {info.join_rule}, history "
                  f"{info.history_visibility}, bot power {power}, "
                  f"{len(info.members) - 1} member(s)")
    for message, fix in problems:
        report.warning("room", f"{where}: {message}", fix)
