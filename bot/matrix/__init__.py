"""The only package of casebot that imports nio.

`transport` composes the layers the bot runs on: `session` (its one device, key upkeep,
cross-signing), `sync` (the sync loop and its exactly-once contract; `held`, the events held
for their keys; `invites`, the invite policy), `rooms` (the room-state cache), `send`
(requests for the App); `guarded` keeps nio's room model to real state events and `convert`
turns nio's events into `bot.events`. `physician` is a small client playing a
physician (demo and live tests): imported when first asked for, as the bot never uses it
(its recovery keys and cross-signing cost a restart ~25 ms of imports).
"""

from typing import TYPE_CHECKING, Any

from bot.matrix.convert import convert, room_info
from bot.matrix.session import Credentials, TransportError, secure_tree, write_private
from bot.matrix.sync import SYNC_FILTER
from bot.matrix.transport import MatrixTransport

__all__ = [
    "SYNC_FILTER",
    "Credentials",
    "MatrixTransport",
    "Seen",
    "TransportError",
    "UserClient",
    "convert",
    "room_info",
    "secure_tree",
    "write_private",
]

if TYPE_CHECKING:
    from bot.matrix.physician import Seen, UserClient


def __getattr__(name: str) -> Any:
    """`Seen` and `UserClient`, from `bot.matrix.physician` on first use."""
    if name in ("Seen", "UserClient"):
        from bot.matrix import physician

        return getattr(physician, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
