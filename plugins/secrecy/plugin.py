"""Secrecy: keeps identifying patient data out of case threads.

Refuses cases in rooms that are not private and encrypted, warns (kinds only, never the
values) when a case, a thread reply, an edit or a photo's metadata seems to identify a patient,
redacts on request (or at once for validated findings in `redact` mode), and shows the rules.

Stored: counts per room, kind and day, and who was already shown the rules. No text, no
found value is ever stored or logged; which message was flagged is kept in memory only.
"""

from __future__ import annotations

import asyncio
import html
import re
import struct
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from bot.content import Part, Rich, fill
from bot.events import Attachment, DownloadFailed, Edit, Message, Redaction, RoomInfo
from bot.plugin import Context, Plugin, command, on
from bot.router import Choice, split_command
from plugins.cases import Case
from plugins.cases.plugin import CaseExtension, redaction_applies
from plugins.secrecy.detector import HIGH_CONFIDENCE, KINDS, MAX_SCAN, Finding, scan
from plugins.secrecy.strings import STRINGS

MEMORY = 2000
"""How many flagged events are remembered (older ones are forgotten first)."""
PHOTO_KINDS = ("gps", "serial", "shot_date")
CASE_COMMANDS = frozenset({"case", "cas"})
PHOTO_TYPES = frozenset({"image/jpeg", "image/jpg", "image/pjpeg"})
"""The only attachments downloaded: the images whose EXIF we read. No mimetype: not read."""
MAX_PHOTO = 20 * 1024 * 1024
"""Bigger attachments are not downloaded (by their announced size) nor read."""
EXIF_WINDOW = 256 * 1024
"""Bytes of a photo read for its metadata (EXIF sits in the first segments)."""

MIGRATIONS = (
    """
    CREATE TABLE secrecy_counts (
        room_id TEXT NOT NULL,
        kind TEXT NOT NULL,
        day INTEGER NOT NULL,
        count INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (room_id, kind, day)
    );
    CREATE TABLE secrecy_onboarded (
        room_id TEXT NOT NULL,
        user_id TEXT NOT NULL,
        PRIMARY KEY (room_id, user_id)
    )
    """,
)


@dataclass(frozen=True, slots=True)
class SecrecyConfig:
    mode: Literal["warn", "redact"] = "warn"
    rules_text: str = ""
    """One rules text for every language (a room's own); wins over the per-language ones."""
    rules_text_fr: str = ""
    rules_text_en: str = ""
    """Empty: the built-in rules text."""


class _CaseLike(Protocol):
    root_event_id: str


class _CaseStore(Protocol):
    async def by_root(self, room_id: str, root: str) -> _CaseLike | None: ...
    async def by_reply(self, room_id: str, event_id: str) -> _CaseLike | None: ...
    async def sender_of(self, room_id: str, event_id: str) -> str | None: ...


@dataclass(slots=True)
class _Flag:
    """One flagged event, in memory only: where it is, who posted it, what kinds."""

    room_id: str
    root: str
    sender: str
    kinds: frozenset[str]
    warning: str | None = None


# ---- photo metadata --------------------------------------------------------------------------
_GPS_IFD, _EXIF_IFD = 0x8825, 0x8769
_SERIAL, _DATE_ORIGINAL = 0xA431, 0x9003
_TYPE_SIZES = {1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8}
_MAX_ENTRIES = 512


def _ifd(tiff: bytes, offset: int, order: str) -> dict[int, bytes | int]:
    """The entries of the IFD at `offset`: tag -> value bytes (or offset for LONG pointers)."""
    out: dict[int, bytes | int] = {}
    if offset <= 0 or offset + 2 > len(tiff):
        return out
    (count,) = struct.unpack_from(order + "H", tiff, offset)
    for i in range(min(count, _MAX_ENTRIES)):
        pos = offset + 2 + 12 * i
        if pos + 12 > len(tiff):
            break
        tag, typ, n = struct.unpack_from(order + "HHI", tiff, pos)
        size = _TYPE_SIZES.get(typ, 1) * n
        if tag in (_GPS_IFD, _EXIF_IFD) and typ in (4, 13):
            out[tag] = struct.unpack_from(order + "I", tiff, pos + 8)[0]
            continue
        if size <= 4:
            out[tag] = tiff[pos + 8 : pos + 8 + size]
        else:
            (where,) = struct.unpack_from(order + "I", tiff, pos + 8)
            out[tag] = tiff[where : where + size] if where + size <= len(tiff) else b""
    return out


def _meaningful(value: bytes | int | None) -> bool:
    return isinstance(value, bytes) and bool(value.strip(b"\x00 "))


def _tiff_kinds(tiff: bytes) -> set[str]:
    if len(tiff) < 8 or tiff[:2] not in (b"II", b"MM"):
        return set()
    order = "<" if tiff[:2] == b"II" else ">"
    (magic, first) = struct.unpack_from(order + "HI", tiff, 2)
    if magic != 42:
        return set()
    kinds: set[str] = set()
    ifd0 = _ifd(tiff, first, order)
    gps = ifd0.get(_GPS_IFD)
    if isinstance(gps, int):
        entries = _ifd(tiff, gps, order)
        if any(tag in entries for tag in (2, 4)):  # GPSLatitude, GPSLongitude
            kinds.add("gps")
    exif = ifd0.get(_EXIF_IFD)
    sub = _ifd(tiff, exif, order) if isinstance(exif, int) else {}
    for tag, kind in ((_SERIAL, "serial"), (_DATE_ORIGINAL, "shot_date")):
        if _meaningful(sub.get(tag)) or _meaningful(ifd0.get(tag)):
            kinds.add(kind)
    return kinds


def photo_metadata(data: bytes) -> set[str]:
    """Identifying EXIF kinds in JPEG bytes: `gps`, `serial`, `shot_date` (in memory only)."""
    if data[:2] != b"\xff\xd8":
        return set()
    kinds: set[str] = set()
    pos = 2
    try:
        while pos + 4 <= len(data):
            if data[pos] != 0xFF:
                break
            marker = data[pos + 1]
            if marker in (0xD9, 0xDA):  # end of image, start of scan: no more metadata
                break
            if marker == 0xFF or 0xD0 <= marker <= 0xD7 or marker == 0x01:
                pos += 1 if marker == 0xFF else 2
                continue
            (length,) = struct.unpack_from(">H", data, pos + 2)
            segment = data[pos + 4 : pos + 2 + length]
            if marker == 0xE1 and segment[:6] == b"Exif\x00\x00":
                kinds |= _tiff_kinds(segment[6:])
            pos += 2 + length
    except (struct.error, IndexError, ValueError):
        pass
    return kinds


# ---- text to scan ---------------------------------------------------------------------------
_BREAKS = frozenset({"br", "p", "div", "li", "tr", "td", "th", "blockquote", "pre",
                     "h1", "h2", "h3", "h4", "h5", "h6"})
_TAG = re.compile(r"(/?)([a-zA-Z][a-zA-Z0-9-]*)")


def visible_text(formatted: str) -> str:
    """What `formatted` (HTML) shows: tags and comments removed, the quoted reply
    (`<mx-reply>`) left out, entities decoded. One linear pass over at most 2 × MAX_SCAN
    characters (html.parser is quadratic on unclosed tags and attributes)."""
    source = formatted[:2 * MAX_SCAN]
    parts: list[str] = []
    quoted = pos = 0
    closes = True  # whether a ">" may follow (searched once more only while one does)
    while pos < len(source):
        start = source.find("<", pos)
        if start < 0:
            start = len(source)
        if not quoted:
            parts.append(source[pos:start])
        if start == len(source):
            break
        if source.startswith("<!--", start):
            end = source.find("-->", start + 4)
            pos = len(source) if end < 0 else end + 3
            continue
        tag = _TAG.match(source, start + 1)
        end = source.find(">", start + 1) if tag and closes else -1
        closes = closes and (end >= 0 or not tag)
        if end < 0:  # not a tag ("<3"), or no ">" anywhere after it: text
            if not quoted:
                parts.append("<")
            pos = start + 1
            continue
        closing, name = tag[1], tag[2].lower() if tag else ""
        if name == "mx-reply":
            quoted = max(0, quoted - 1) if closing else quoted + 1
        elif name in _BREAKS and not quoted:
            parts.append("\n")
        pos = end + 1
    return html.unescape("".join(parts))[:MAX_SCAN]


def scan_message(text: str, formatted: str | None = None, body: str = "") -> list[Finding]:
    """Findings in `text`, and in what `formatted` shows when that is not `body` (an
    identifier may be in the HTML only). CPU work: run it in a worker thread."""
    findings = scan(text)
    if formatted:
        shown = visible_text(formatted)
        if shown.split() != body[:MAX_SCAN].split():
            findings.extend(scan(shown))
    return findings


# ---- the plugin ------------------------------------------------------------------------------
class Secrecy(Plugin, CaseExtension):
    name = "secrecy"
    Config = SecrecyConfig
    strings = STRINGS
    migrations = MIGRATIONS
    room_settings = ("mode", "rules_text")

    def __init__(self, bot: Any, config: SecrecyConfig) -> None:
        super().__init__(bot, config)
        self._flags: OrderedDict[str, _Flag] = OrderedDict()

    # ---- helpers ---------------------------------------------------------------------------
    def _store(self) -> _CaseStore | None:
        cases = self.bot.plugin("cases")
        return getattr(cases, "store", None) if cases is not None else None

    async def _case_root(self, room_id: str, root: str | None) -> str | None:
        """`root` when it is the root of a case of the room."""
        store = self._store()
        if store is None or not root:
            return None
        case = await store.by_root(room_id, root)
        return case.root_event_id if case is not None else None


    @staticmethod
    def kinds_text(ctx: Context, kinds: Iterable[str]) -> str:
        """The kinds in words, in detector order: « un nom et un numéro de téléphone »."""
        order = {k: i for i, k in enumerate((*KINDS, *PHOTO_KINDS))}
        words = [
            ctx.t(f"secrecy.kind.{k}" if k in order else "secrecy.kind.other")
            for k in sorted(set(kinds), key=lambda k: order.get(k, len(order)))
        ]
        if len(words) <= 1:
            return "".join(words)
        return ", ".join(words[:-1]) + ctx.t("secrecy.and") + words[-1]

    async def rules_text(self, ctx: Context) -> str:
        """The room's rules text, else the configured one for its language, else built-in."""
        shared = self.config_for(ctx.room_id).rules_text.strip()
        custom = self.config.rules_text_en if ctx.lang == "en" else self.config.rules_text_fr
        return shared or custom.strip() or ctx.t("secrecy.rules")

    def _remember(self, event_id: str, flag: _Flag) -> None:
        self._flags[event_id] = flag
        self._flags.move_to_end(event_id)
        while len(self._flags) > MEMORY:
            self._flags.popitem(last=False)

    async def _count(self, room_id: str, kinds: Iterable[str]) -> None:
        """Add one per kind to today's counts (kinds only: no text, no value)."""
        day = int(self.bot.now() // 86400)
        for kind in kinds:
            await self.bot.db.execute(
                "INSERT INTO secrecy_counts (room_id, kind, day, count) VALUES (?, ?, ?, 1) "
                "ON CONFLICT (room_id, kind, day) DO UPDATE SET count = count + 1",
                (room_id, kind, day),
            )

    async def start(self) -> None:
        cases = self.bot.plugin("cases")
        if cases is not None:
            cases.stats_sources.append(self)
            cases.extensions.append(self)

    async def stats_lines(self, ctx: Context, since: float) -> list[tuple[Part, ...]]:
        """`!stats`: how many warnings of each kind (counts only) since `since`."""
        rows = await self.bot.db.fetchall(
            "SELECT kind, SUM(count) AS n FROM secrecy_counts WHERE room_id = ? AND day >= ? "
            "GROUP BY kind ORDER BY n DESC, kind", (ctx.room_id, int(since // 86400)))
        if not rows:
            return [(ctx.t("secrecy.stats.none"),)]
        details = ", ".join(ctx.t("secrecy.stats.item", kind=self.kinds_text(ctx, [r["kind"]]),
                                  count=r["n"]) for r in rows)
        return [(ctx.t("secrecy.stats", total=sum(r["n"] for r in rows), details=details),)]

    def _warning(self, ctx: Context, sender: str, kinds: Iterable[str], edited: bool) -> Rich:
        key = "secrecy.warn.edited" if edited else "secrecy.warn"
        return Rich.of(
            fill(ctx.t(key), kinds=self.kinds_text(ctx, kinds),
                 poster=ctx.pill(sender, notify=True)),
            ctx.t("secrecy.rule"),
            ctx.t("secrecy.fix", prefix=ctx.prefix),
        )

    # ---- 1. room checks --------------------------------------------------------------------
    def problems(self, room: RoomInfo) -> list[str]:
        """The string keys of what makes a room unfit for cases (empty: fit)."""
        found: list[str] = []
        if not room.encrypted:
            found.append("secrecy.refuse.encryption")
        if room.join_rule == "public":
            found.append("secrecy.refuse.public")
        if room.history_visibility == "world_readable":
            found.append("secrecy.refuse.history")
        return found

    async def refuse_case(self, ctx: Context) -> bool:
        """Called by cases before opening one: True (after explaining) when the room is unfit."""
        problems = self.problems(ctx.room)
        if not problems:
            return False
        await ctx.reply(Rich.of(ctx.t("secrecy.refuse"), *(ctx.t(p) for p in problems)))
        return True

    # ---- 2. warnings -------------------------------------------------------------------------
    async def _check(
        self, ctx: Context, event_id: str, sender: str, root: str, text: str,
        edited: bool = False, formatted: str | None = None, body: str = "",
    ) -> None:
        """Warn about `text` (and what `formatted` shows beyond `body`, see `scan_message`)."""
        findings: Sequence[Finding] = await asyncio.to_thread(scan_message, text, formatted,
                                                              body)
        thread = ctx.in_thread_of(root)
        known = self._flags.get(event_id)
        if not findings:
            if known is not None:
                del self._flags[event_id]
                if known.warning:
                    await thread.edit(known.warning, ctx.t("secrecy.cleared"))
            return
        kinds = frozenset(f.kind for f in findings)
        await self._count(ctx.room_id, kinds - (known.kinds if known else frozenset()))
        if self.config_for(ctx.room_id).mode == "redact":
            sure = [f for f in findings if f.confidence >= HIGH_CONFIDENCE]
            if sure and await ctx.redact(event_id, ctx.t("secrecy.reason")):
                self._flags.pop(event_id, None)
                await thread.reply(
                    fill(
                        ctx.t("secrecy.auto_redacted"), kinds=self.kinds_text(ctx, kinds),
                        poster=ctx.pill(sender, notify=True),
                    )
                )
                return
        update = edited and known is not None and known.warning is not None
        message = self._warning(ctx, sender, kinds, update)
        if known is not None and known.warning:
            await thread.edit(known.warning, message)
            warning: str | None = known.warning
        else:
            warning = await thread.reply(message)
        self._remember(event_id, _Flag(ctx.room_id, root, sender, kinds, warning))

    @on(Message)
    async def message(self, ctx: Context, event: Message) -> None:
        if event.msgtype == "m.notice":
            return
        split = split_command(event.body, ctx.prefixes)
        if split is not None and split[0] in CASE_COMMANDS and not event.thread_root:
            return  # a new case is checked in `case_posted`, under its card
        root = await self._case_root(event.room_id, event.thread_root)
        if root is None or (split is not None and split[0] in ("redact", "masquer")):
            return
        await self._check(ctx, event.event_id, event.sender, root, event.body,
                          formatted=event.formatted_body, body=event.body)

    async def case_posted(self, ctx: Context, case: Case) -> None:
        """Under the new case's card, before anyone is paged: the first-case reminder, then
        the check of the case's text."""
        event = ctx.event
        assert isinstance(event, Message)
        split = split_command(event.body, ctx.prefixes)
        await self._onboard(ctx, event.sender, case.root_event_id)
        await self._check(ctx, event.event_id, event.sender, case.root_event_id,
                          split[1] if split else event.body,
                          formatted=event.formatted_body, body=event.body)

    @on(Edit)
    async def edited(self, ctx: Context, event: Edit) -> None:
        store = self._store()
        if store is None:
            return
        case = await store.by_root(event.room_id, event.original)
        if case is None:
            case = await store.by_reply(event.room_id, event.original)
        # An edit counts only from the original's sender; an event we do not know, not at all.
        if case is None or await store.sender_of(event.room_id, event.original) != event.sender:
            return
        text = event.body
        split = split_command(text, ctx.prefixes)
        if case.root_event_id == event.original and split is not None:
            text = split[1]
        await self._check(ctx, event.original, event.sender, case.root_event_id, text, edited=True)

    @on(Redaction)
    async def redaction(self, ctx: Context, event: Redaction) -> None:
        flag = self._flags.get(event.redacts)
        if flag is not None and redaction_applies(ctx.room, event, flag.sender):
            del self._flags[event.redacts]

    # ---- 3. !redact --------------------------------------------------------------------------
    def _target(self, event: Message, root: str, moderator: bool) -> str | None:
        flagged = [
            (eid, f)
            for eid, f in self._flags.items()
            if f.room_id == event.room_id and f.root == root
        ]
        if event.in_reply_to:
            for eid, flag in flagged:
                if eid == event.in_reply_to and (moderator or flag.sender == event.sender):
                    return eid
        own = [eid for eid, f in flagged if f.sender == event.sender]
        if own:
            return own[-1]
        return flagged[-1][0] if moderator and flagged else None

    @command("redact", "masquer", summary="secrecy.redact.summary")
    async def redact(self, ctx: Context) -> None:
        event = ctx.event
        assert isinstance(event, Message)
        root = event.thread_root
        flagged_here = any(
            f.root == root and f.room_id == event.room_id for f in self._flags.values()
        )
        if not root or (not flagged_here and await self._case_root(event.room_id, root) is None):
            await ctx.reply(ctx.t("secrecy.redact.where", prefix=ctx.prefix))
            return
        target = self._target(event, root, ctx.is_admin())
        if target is None:
            await ctx.reply(ctx.t("secrecy.redact.nothing"))
            return
        flag = self._flags[target]
        if await ctx.redact(target, ctx.t("secrecy.reason")):
            self._flags.pop(target, None)
            await ctx.reply(ctx.t("secrecy.redact.done"))
        else:
            await ctx.reply(
                fill(ctx.t("secrecy.redact.cannot"), poster=ctx.pill(flag.sender, notify=True))
            )

    # ---- 4. onboarding -----------------------------------------------------------------------
    async def _onboard(self, ctx: Context, user_id: str, root: str) -> None:
        """The first time `user_id` opens a case in the room: a short reminder under the card
        (three lines, the full rules one command away), naming them without a ping."""
        if not await self.bot.db.execute(
                "INSERT OR IGNORE INTO secrecy_onboarded (room_id, user_id) VALUES (?, ?)",
                (ctx.room_id, user_id)):
            return
        await ctx.in_thread_of(root).reply(
            Rich.of(
                fill(ctx.t("secrecy.onboarding"), name=ctx.room.display_name(user_id)),
                ctx.t("secrecy.onboarding.rule"),
                fill(ctx.t("secrecy.onboarding.more"), prefix=ctx.prefix),
            )
        )

    # ---- 5. !rules ---------------------------------------------------------------------------
    @command(
        "rules",
        "regles",
        args=(Choice("action", optional=True, choices=("pin",)),),
        summary="secrecy.rules.summary",
    )
    async def rules(self, ctx: Context, action: str | None) -> None:
        text: tuple[Part, ...] = (await self.rules_text(ctx),)
        if action != "pin":
            await ctx.reply(text)
            return
        ctx.check_admin()
        event_id = await ctx.send(text, in_thread=False)
        # The current pins, from the homeserver: our copy may be a sync behind, and a pin
        # someone added meanwhile must not be dropped.
        current = await self.bot.get_state(ctx.room_id, "m.room.pinned_events") or {}
        listed = current.get("pinned")
        pinned = [p for p in (listed if isinstance(listed, list) else ())
                  if isinstance(p, str) and p != event_id] + [event_id]
        if not await self.bot.put_state(ctx.room_id, "m.room.pinned_events", {"pinned": pinned}):
            await ctx.reply(ctx.t("secrecy.pin.failed"))

    # ---- 6. photos ---------------------------------------------------------------------------
    @on(Attachment)
    async def attachment(self, ctx: Context, event: Attachment) -> None:
        root = await self._case_root(event.room_id, event.thread_root)
        if root is None or event.mimetype.lower() not in PHOTO_TYPES or event.size > MAX_PHOTO:
            return
        try:
            data = await self.bot.download(event, MAX_PHOTO)
        except DownloadFailed:  # bigger than it claimed, or gone
            return
        kinds = photo_metadata(data[:EXIF_WINDOW])
        if not kinds:
            return
        await self._count(ctx.room_id, kinds)
        warning = await ctx.in_thread_of(root).reply(
            Rich.of(
                fill(
                    ctx.t("secrecy.photo"), kinds=self.kinds_text(ctx, kinds),
                    poster=ctx.pill(event.sender, notify=True),
                ),
                ctx.t("secrecy.rule"),
                ctx.t("secrecy.photo.fix", prefix=ctx.prefix),
            )
        )
        self._remember(
            event.event_id, _Flag(ctx.room_id, root, event.sender, frozenset(kinds), warning)
        )
