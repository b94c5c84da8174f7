"""The only package of casebot that imports nio.

`transport` runs the bot's device and sync loop, `convert` turns nio's events into
`bot.events`, `physician` is a small client playing a physician (demo and live tests).
"""

from bot.matrix.convert import convert, room_info
from bot.matrix.physician import Seen, UserClient
from bot.matrix.transport import (
    SYNC_FILTER,
    Credentials,
    MatrixTransport,
    TransportError,
    secure_tree,
    write_private,
)

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
