"""Secrecy: keeps identifying patient data out of case threads.

It follows the case lifecycle that the cases plugin publishes (`plugins/cases/events.py`) and
never reaches into that plugin: it refuses to open a case in a room that is not private and
encrypted (`gate.py`, `CaseOpening`), warns (kinds only, never the values) when a case, a
thread reply or an edit seems to identify a patient (`warnings.py`: `CaseOpened`,
`CaseReplied`, `CaseEdited`), checks photos (`photos.py`), redacts on request (`redact.py`)
or, in `redact` mode, at once for validated findings — a new case's post before the case
exists, so none is left open behind it — and shows the rules (`rules.py`).

Stored (`store.py`): counts per room, kind and day, and who was already shown the rules. No
text, no found value is ever stored or logged. Which messages were flagged is kept in memory
only (`flags.py`): after a restart nothing is flagged. Whether a thread is a case, secrecy
asks cases (`CaseOfThread`), so `!redact` in an old case's thread is answered there.
"""

from __future__ import annotations

from typing import Any

from bot.plugin import Plugin
from plugins.secrecy.base import SecrecyConfig
from plugins.secrecy.flags import Flags
from plugins.secrecy.gate import Opening
from plugins.secrecy.photos import Photos
from plugins.secrecy.redact import Redact
from plugins.secrecy.rules import Rules
from plugins.secrecy.store import MIGRATIONS, SecrecyStore
from plugins.secrecy.strings import STRINGS
from plugins.secrecy.warnings import Warnings


class Secrecy(Plugin):
    name = "secrecy"
    Config = SecrecyConfig
    strings = STRINGS
    migrations = MIGRATIONS
    room_settings = ("mode", "rules_text")

    def __init__(self, bot: Any, config: SecrecyConfig) -> None:
        super().__init__(bot, config)
        self.store = SecrecyStore(bot.db)
        shared = (bot, self.name, config, self.config_for, self.store, Flags())
        self.parts = (Opening(*shared), Warnings(*shared), Redact(*shared), Rules(*shared),
                      Photos(*shared))
