"""The network feature, wired: a case that finds no answer in its room reaches a wider room
the same bot serves, with the poster's consent, and the answers come back.

A feature on top of cases, not part of a case's life: it subscribes to the case lifecycle
(`plugins.cases.events`) and asks cases to open, resolve, reopen or withdraw a case
(`OpenCase`, `CaseStatusWanted`). Three handler objects: `links.Links` (both rooms'
consent), `relay.Relays` (`!share`, the offer, the relay, `!unshare`, cards and stats) and
`mirror.Mirrors` (answers both ways, edits, redactions, resolution). Its tables keep links
only (room ids, event ids, times), never a text.
"""

from __future__ import annotations

import functools
from typing import Any

from bot.plugin import Plugin
from plugins.cases import Cases
from plugins.network.links import Links, NetworkConfig
from plugins.network.mirror import Mirrors
from plugins.network.relay import Relays
from plugins.network.store import MIGRATIONS, NetworkStore
from plugins.network.strings import STRINGS
from plugins.secrecy.plugin import Secrecy
from plugins.specialties import Specialties
from plugins.trust import Trust


class Network(Plugin):
    name = "network"
    Config = NetworkConfig
    strings = STRINGS
    migrations = MIGRATIONS
    requires = (Specialties, Cases, Secrecy, Trust)
    room_settings = ("relay_to", "accept_from", "offer_after", "max_shares_per_day")

    def __init__(self, bot: Any, config: NetworkConfig) -> None:
        super().__init__(bot, config)
        store = NetworkStore(bot.db)
        links = Links(bot, store, self.config_for, functools.partial(self.required, Trust))
        self.parts = (links, Relays(bot, store, links, self.name, self.config_for),
                      Mirrors(bot, store, links, self.name))


__all__ = ["Network", "NetworkConfig"]
