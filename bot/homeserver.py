"""A throwaway local Synapse homeserver, for the demo, the tests and the benchmarks.

Synapse runs as a child process on 127.0.0.1 with SQLite in a temporary directory and the
overrides that keep it fast and deterministic (no rate limits, no key servers, no presence).
Users are registered through the shared-secret admin API, so open registration stays off.
With `federation=True` it also federates over loopback (see `LocalSynapse`), for tests with
physicians on two homeservers.
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

SERVER_NAME = "localhost"
_OPEN_LIMIT = {"per_second": 1000, "burst_count": 1000}


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that is free right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _overrides(base: Path, port: int) -> dict[str, Any]:
    return {
        "listeners": [
            {
                "port": port,
                "bind_addresses": ["127.0.0.1"],
                "type": "http",
                "tls": False,
                "x_forwarded": False,
                "resources": [{"names": ["client"], "compress": False}],
            }
        ],
        "database": {"name": "sqlite3", "args": {"database": str(base / "homeserver.db")}},
        "public_baseurl": f"http://127.0.0.1:{port}/",
        "bcrypt_rounds": 4,
        "trusted_key_servers": [],
        "suppress_key_server_warning": True,
        "presence": {"enabled": False},
        "enable_registration": False,
        "report_stats": False,
        "url_preview_enabled": False,
        "federation_domain_whitelist": [],
        "rc_message": _OPEN_LIMIT,
        "rc_registration": _OPEN_LIMIT,
        "rc_login": {
            "address": _OPEN_LIMIT,
            "account": _OPEN_LIMIT,
            "failed_attempts": _OPEN_LIMIT,
        },
        "rc_joins": {"local": _OPEN_LIMIT, "remote": _OPEN_LIMIT},
        "rc_joins_per_room": _OPEN_LIMIT,
        "rc_invites": {
            "per_room": _OPEN_LIMIT,
            "per_user": _OPEN_LIMIT,
            "per_issuer": _OPEN_LIMIT,
        },
        "rc_room_creation": _OPEN_LIMIT,
        "rc_key_requests": _OPEN_LIMIT,
        "rc_3pid_validation": _OPEN_LIMIT,
        "rc_admin_redaction": _OPEN_LIMIT,
        "rc_media_create": _OPEN_LIMIT,
        "rc_delayed_event_mgmt": _OPEN_LIMIT,
        "rc_reports": _OPEN_LIMIT,
    }


def _federation_overrides(base: Path, port: int) -> dict[str, Any]:
    """A TLS federation listener on `port` with a self-signed certificate, and the settings that
    let two such servers talk on loopback (outbound requests to 127.0.0.1 are refused by
    default; certificates are not checked)."""
    cert, key = base / "federation.crt", base / "federation.key"
    _self_signed(cert, key)
    return {
        "listeners": [{
            "port": port,
            "bind_addresses": ["127.0.0.1"],
            "type": "http",
            "tls": True,
            "x_forwarded": False,
            "resources": [{"names": ["federation"], "compress": False}],
        }],
        "tls_certificate_path": str(cert),
        "tls_private_key_path": str(key),
        "federation_verify_certificates": False,
        "federation_domain_whitelist": None,
        "ip_range_blacklist": [],
        "ip_range_whitelist": ["127.0.0.1"],
        "rc_federation": {"window_size": 1000, "sleep_limit": 1000, "sleep_delay": 1,
                          "reject_limit": 1000, "concurrent": 100},
    }


def _self_signed(cert_path: Path, key_path: Path) -> None:
    """A throwaway certificate for `localhost` (a P-256 key: generated in milliseconds)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=30))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]),
                           critical=False)
            .sign(key, hashes.SHA256()))
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.TraditionalOpenSSL,
                                           serialization.NoEncryption()))


class LocalSynapse:
    """One Synapse process in a temporary directory, removed on stop.

    Without federation its name is `localhost` and it talks to no other server. With
    `federation=True` its name is `localhost:<federation_port>`, which other servers reach at
    `https://localhost:<federation_port>` with no DNS, SRV or `.well-known` look-up: a second,
    TLS listener (self-signed) serves the federation API there, the client listener stays
    plain HTTP on `port`."""

    def __init__(self, base_dir: Path | None = None, port: int | None = None,
                 limits: Mapping[str, Any] | None = None, federation: bool = False) -> None:
        """`limits` replaces some of the open rate limits (e.g. `{"rc_message":
        {"per_second": 1, "burst_count": 3}}`), for tests of a homeserver that answers 429."""
        self._own_dir = base_dir is None
        self.limits = dict(limits or {})
        self._admin_token: str | None = None
        self.base = Path(base_dir or tempfile.mkdtemp(prefix="casebot-synapse-"))
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.federation_port = free_port() if federation else None
        self.server_name = (SERVER_NAME if self.federation_port is None
                            else f"{SERVER_NAME}:{self.federation_port}")
        self._proc: subprocess.Popen[bytes] | None = None
        self._secret = ""

    @property
    def log_path(self) -> Path:
        return self.base / "homeserver.log"

    def start(self, timeout: float = 90.0) -> None:
        """Generate a configuration, start Synapse and wait until it answers."""
        config = self.base / "homeserver.yaml"
        subprocess.run(
            [
                sys.executable, "-m", "synapse.app.homeserver",
                "--server-name", self.server_name,
                "--config-path", str(config),
                "--data-directory", str(self.base),
                "--generate-config", "--report-stats=no",
            ],
            check=True, cwd=self.base, stdout=subprocess.DEVNULL,
        )
        data = yaml.safe_load(config.read_text())
        data.update(_overrides(self.base, self.port))
        if self.federation_port is not None:
            federation = _federation_overrides(self.base, self.federation_port)
            data["listeners"] += federation.pop("listeners")
            data.update(federation)
        data.update(self.limits)
        self._secret = str(data["registration_shared_secret"])
        config.write_text(yaml.safe_dump(data))
        log_config = Path(str(data["log_config"]))
        log_config.write_text(
            log_config.read_text().replace("level: INFO", "level: WARNING")
        )
        self._launch(timeout)

    def _launch(self, timeout: float) -> None:
        """Run Synapse on the generated configuration and wait until it answers."""
        config = self.base / "homeserver.yaml"
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "synapse.app.homeserver", "--config-path", str(config)],
            cwd=self.base,
            stdout=subprocess.DEVNULL,
            stderr=open(self.base / "stderr.log", "ab"),  # noqa: SIM115 - owned by the child
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise RuntimeError(
                    f"Synapse exited with {self._proc.returncode}; see {self.base}/stderr.log"
                )
            try:
                with urllib.request.urlopen(f"{self.url}/health", timeout=2) as resp:
                    if resp.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"Synapse did not answer within {timeout:.0f} s")

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def halt(self, sig: int = signal.SIGTERM) -> None:
        """Stop the Synapse process but keep its directory, port and data (see `resume`).

        For fault tests: clients see connection errors until `resume()`."""
        if self._proc is not None and self._proc.poll() is None:
            os.killpg(self._proc.pid, sig)
            try:
                self._proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self._proc.pid, signal.SIGKILL)
                self._proc.wait()
        self._proc = None

    def resume(self, timeout: float = 90.0) -> None:
        """Start Synapse again after `halt()`, same port, configuration and data."""
        if not self.running:
            self._launch(timeout)

    def stop(self) -> None:
        """Stop Synapse and remove its directory if this object created it."""
        self.halt(signal.SIGTERM)
        if self._own_dir:
            shutil.rmtree(self.base, ignore_errors=True)

    def _request(self, method: str, path: str, body: dict[str, Any] | None = None,
                 token: str | None = None) -> dict[str, Any]:
        req = urllib.request.Request(
            f"{self.url}{path}",
            method=method,
            data=None if body is None else json.dumps(body).encode(),
            headers={"Content-Type": "application/json"},
        )
        if token:
            req.add_header("Authorization", f"Bearer {token}")
        with urllib.request.urlopen(req, timeout=30) as resp:
            return json.loads(resp.read() or b"{}")

    def register(self, localpart: str, password: str, admin: bool = False) -> str:
        """Register a user through the shared-secret admin API; return its user id."""
        nonce = self._request("GET", "/_synapse/admin/v1/register")["nonce"]
        role = "admin" if admin else "notadmin"
        # The MAC covers the fields joined by NUL bytes, without a trailing separator.
        message = b"\x00".join(p.encode() for p in (nonce, localpart, password, role))
        mac = hmac.new(self._secret.encode(), message, digestmod=hashlib.sha1).hexdigest()
        body = {"nonce": nonce, "username": localpart, "password": password,
                "admin": admin, "mac": mac}
        return str(self._request("POST", "/_synapse/admin/v1/register", body)["user_id"])

    def admin_token(self) -> str:
        """An access token of a server admin (registered on first use)."""
        if self._admin_token is None:
            password = secrets.token_hex(12)
            user_id = self.register(f"admin{secrets.token_hex(4)}", password, admin=True)
            resp = self._request("POST", "/_matrix/client/v3/login", {
                "type": "m.login.password", "password": password,
                "identifier": {"type": "m.id.user", "user": user_id}})
            self._admin_token = str(resp["access_token"])
        return self._admin_token

    def exempt_from_rate_limits(self, user_id: str) -> None:
        """No message rate limit for `user_id` (Synapse's per-user override, admin API)."""
        self._request("POST", f"/_synapse/admin/v1/users/{urllib.parse.quote(user_id)}"
                      "/override_ratelimit", {"messages_per_second": 0, "burst_count": 0},
                      token=self.admin_token())

    def __enter__(self) -> LocalSynapse:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
