"""Logging set-up and privacy-safe error reports.

Exception messages can carry user text (a ValueError quoting its input), so reports keep the
exception type and the stack frames only, with a short reference the room is given too.
"""

from __future__ import annotations

import json
import logging
import secrets
import sys
import traceback


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": self.formatTime(record, "%Y-%m-%dT%H:%M:%S"),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def setup(level: str = "INFO", fmt: str = "text") -> None:
    """Configure the root logger once (stderr); quiet nio's chatty loggers."""
    handler = logging.StreamHandler(sys.stderr)
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in ("nio", "peewee", "aiohttp.access"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
    # nio logs message contents at DEBUG and key-sharing chatter at WARNING; keep it out.
    logging.getLogger("nio.crypto").setLevel(logging.ERROR)
    logging.getLogger("nio.rooms").setLevel(logging.ERROR)


class Reported(RuntimeError):
    """A failure already logged with its reference (and told to its room): whoever catches it
    logs nothing more, only decides what comes next (a timer's retry)."""

    def __init__(self, ref: str) -> None:
        super().__init__(f"reported as {ref}")
        self.ref = ref


def new_reference() -> str:
    return secrets.token_hex(3).upper()


def report_exception(logger: logging.Logger, where: str, exc: BaseException) -> str:
    """Log `exc` without its message (it may hold user text); return the reference."""
    ref = new_reference()
    frames = "".join(traceback.format_tb(exc.__traceback__))
    logger.error("%s failed (ref %s): %s\n%s", where, ref, type(exc).__name__, frames.rstrip())
    return ref
