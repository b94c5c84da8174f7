"""Secrecy: keeps identifying patient data out of case threads.

It follows the case lifecycle that the cases plugin publishes (`plugins/cases/events.py`) and
never reaches into that plugin: it refuses to open a case in a room that is not private and
encrypted (`CaseOpening`), warns (kinds only, never the values) when a case, a thread reply,
an edit or a photo's metadata seems to identify a patient (`CaseOpened`, `CaseReplied`,
`CaseEdited`), redacts on request (`!redact`) or, in `redact` mode, at once for validated
findings — a new case's post before the case exists, so none is left open behind it — and
shows the rules.

Stored: counts per room, kind and day, and who was already shown the rules. No text, no
found value is ever stored or logged. Which messages were flagged, and which threads are
cases, is kept in memory only: after a restart nothing is flagged, and a case thread is known
again from its next message or edit (until then `!redact` there says where it works).
"""

from __future__ import annotations

import asyncio
import html
import re
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

from bot.content import Part, Rich, fill
from bot.events import Attachment, Message, Redaction, RoomInfo
from bot.plugin import BotAPI, Context, Plugin, Refusal, command, on
from bot.router import split_command
from bot.storage import Migration
from plugins.cases.events import (
    CaseEdited,
    CaseOpened,
    CaseOpening,
    CaseReplied,
    StatsLines,
)
from plugins.cases.model import redaction_applies
from plugins.secrecy.detector import HIGH_CONFIDENCE, KINDS, MAX_SCAN, Finding, scan
from plugins.secrecy.events import RulesLines
from plugins.secrecy.photo import PHOTO_KINDS, worth_reading
from plugins.secrecy.photo_lane import PhotoLane
from plugins.secrecy.strings import STRINGS

MEMORY = 2000
"""How many flagged events are remembered (older ones are forgotten first)."""
CASES_REMEMBERED = 10_000
"""How many case threads are remembered for `!redact` (the least recently active forgotten)."""
REDACT_COMMANDS = ("redact", "masquer")
CLEAN_COMMANDS = ("clean", "nettoyer")

MIGRATIONS = (
    Migration("warning counts per room, kind and day; members shown the rules", """
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
    """),
)


@dataclass(frozen=True, slots=True)
class SecrecyConfig:
    mode: Literal["warn", "redact"] = "warn"
    rules_text: str = ""
    """One rules text for every language (a room's own); wins over the per-language ones."""
    rules_text_fr: str = ""
    rules_text_en: str = ""
    """Empty: the built-in rules text."""


@dataclass(slots=True)
class _Flag:
    """One flagged event, in memory only: where it is, who posted it, what kinds."""

    room_id: str
    root: str
    sender: str
    kinds: frozenset[str]
    warning: str | None = None
    photo: Attachment | None = None
    """The flagged photo itself (for `!clean`), None for a text."""


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


INLINE_SCAN = 2048
"""Texts up to this many characters (HTML included) are scanned on the event loop: a few
hundred microseconds, less than a worker thread's hand-off costs; longer ones in a thread."""


async def scan_off_loop(text: str, formatted: str | None, body: str) -> list[Finding]:
    """`scan_message`, in a worker thread unless the text is short (see `INLINE_SCAN`)."""
    if len(text) + len(formatted or "") <= INLINE_SCAN:
        return scan_message(text, formatted, body)
    return await asyncio.to_thread(scan_message, text, formatted, body)


def _html_of(ctx: Context, event_id: str) -> tuple[str | None, str]:
    """The HTML and body of the message that `ctx` answers, when it is `event_id` (a new
    case's post: the case events carry its text without the command, not its HTML)."""
    source = ctx.source
    if isinstance(source, Message) and source.event_id == event_id:
        return source.formatted_body, source.body
    return None, ""


# ---- the plugin ------------------------------------------------------------------------------
class Secrecy(Plugin):
    name = "secrecy"
    Config = SecrecyConfig
    strings = STRINGS
    migrations = MIGRATIONS
    room_settings = ("mode", "rules_text")

    def __init__(self, bot: BotAPI, config: SecrecyConfig) -> None:
        super().__init__(bot, config)
        self._flags: OrderedDict[str, _Flag] = OrderedDict()
        self._cases: OrderedDict[tuple[str, str], None] = OrderedDict()
        """(room, root) of the case threads seen in the case events, for `!redact`."""
        self._lane = PhotoLane(bot)
        self._overflowing: set[tuple[str, str]] = set()
        self._gone: OrderedDict[str, Redaction] = OrderedDict()
        """Redactions of events not flagged (yet): a photo deleted while it waits its turn."""
        """(room, member) told that their next photos are not checked, until their queue
        empties."""

    # ---- what is kept in memory --------------------------------------------------------------
    def _remember(self, event_id: str, flag: _Flag) -> None:
        self._flags[event_id] = flag
        self._flags.move_to_end(event_id)
        while len(self._flags) > MEMORY:
            self._flags.popitem(last=False)

    def _case_seen(self, room_id: str, root: str) -> None:
        key = (room_id, root)
        self._cases[key] = None
        self._cases.move_to_end(key)
        while len(self._cases) > CASES_REMEMBERED:
            self._cases.popitem(last=False)

    async def _count(self, room_id: str, kinds: Iterable[str]) -> None:
        """Add one per kind to today's counts (kinds only: no text, no value)."""
        day = int(self.bot.now() // 86400)
        for kind in kinds:
            await self.bot.db.execute(
                "INSERT INTO secrecy_counts (room_id, kind, day, count) VALUES (?, ?, ?, 1) "
                "ON CONFLICT (room_id, kind, day) DO UPDATE SET count = count + 1",
                (room_id, kind, day),
            )

    # ---- words ---------------------------------------------------------------------------------
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

    def rules_text(self, ctx: Context) -> str:
        """The room's rules text, else the configured one for its language, else built-in."""
        shared = self.config_for(ctx.room_id).rules_text.strip()
        custom = self.config.rules_text_en if ctx.lang == "en" else self.config.rules_text_fr
        return shared or custom.strip() or ctx.t("secrecy.rules")

    @staticmethod
    async def added_rules(ctx: Context, first_case: bool) -> list[tuple[Part, ...]]:
        """Other features' lines after the rules (`RulesLines`: the conduct charter)."""
        return [line for lines in await ctx.publish(RulesLines(ctx.room_id, first_case))
                for line in lines or ()]

    def _warning(self, ctx: Context, sender: str, kinds: Iterable[str], edited: bool) -> Rich:
        key = "secrecy.warn.edited" if edited else "secrecy.warn"
        return Rich.of(
            fill(ctx.t(key), kinds=self.kinds_text(ctx, kinds),
                 poster=ctx.pill(sender, notify=True)),
            ctx.t("secrecy.rule"),
            ctx.t("secrecy.fix", prefix=ctx.prefix),
        )

    def _redacted(self, ctx: Context, sender: str, kinds: Iterable[str]) -> tuple[Part, ...]:
        return fill(ctx.t("secrecy.auto_redacted"), kinds=self.kinds_text(ctx, kinds),
                    poster=ctx.pill(sender, notify=True))

    # ---- 1. a case about to open: the room, and redact mode ----------------------------------
    @staticmethod
    def problems(room: RoomInfo) -> list[str]:
        """The string keys of what makes a room unfit for cases (empty: fit)."""
        found: list[str] = []
        if not room.encrypted:
            found.append("secrecy.refuse.encryption")
        if room.join_rule == "public":
            found.append("secrecy.refuse.public")
        if room.history_visibility == "world_readable":
            found.append("secrecy.refuse.history")
        return found

    @on(CaseOpening)
    async def opening(self, ctx: Context, event: CaseOpening) -> None:
        """No case in a room unfit for health data (checked on every case: a room turned
        public refuses from then on). In redact mode, a post carrying validated identifiers
        is deleted and its case refused, so no case stays open behind a deleted post."""
        problems = self.problems(ctx.room)
        if problems:
            raise Refusal(Rich.of(ctx.t("secrecy.refuse"), *(ctx.t(p) for p in problems)))
        if self.config_for(event.room_id).mode != "redact":
            return
        formatted, body = _html_of(ctx, event.event_id)
        findings = await scan_off_loop(event.text, formatted, body)
        if not any(f.confidence >= HIGH_CONFIDENCE for f in findings):
            return
        if not await ctx.redact(event.event_id, ctx.t("secrecy.reason")):
            return  # not allowed to: the case opens and is warned about under its card
        kinds = frozenset(f.kind for f in findings)
        await self._count(event.room_id, kinds)
        raise Refusal(self._redacted(ctx, event.poster, kinds))

    # ---- 2. warnings -------------------------------------------------------------------------
    async def _check(
        self, ctx: Context, event_id: str, sender: str, root: str, text: str, *,
        edited: bool = False, formatted: str | None = None, body: str = "",
        may_redact: bool = True,
    ) -> None:
        """Warn about `text` (and what `formatted` shows beyond `body`, see `scan_message`);
        in redact mode, delete it at once for validated findings when `may_redact`."""
        findings: Sequence[Finding] = await scan_off_loop(text, formatted, body)
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
        if may_redact and self.config_for(ctx.room_id).mode == "redact":
            sure = any(f.confidence >= HIGH_CONFIDENCE for f in findings)
            if sure and await ctx.redact(event_id, ctx.t("secrecy.reason")):
                self._flags.pop(event_id, None)
                await thread.reply(self._redacted(ctx, sender, kinds))
                return
        update = edited and known is not None and known.warning is not None
        message = self._warning(ctx, sender, kinds, update)
        if known is not None and known.warning:
            await thread.edit(known.warning, message)
            warning: str | None = known.warning
        else:
            warning = await thread.reply(message)
        self._remember(event_id, _Flag(ctx.room_id, root, sender, kinds, warning))

    @on(CaseOpened)
    async def opened(self, ctx: Context, event: CaseOpened) -> None:
        """Under the new case's card, before anyone is paged: the first-case reminder, then
        the check of the case's text (redact mode already acted in `opening`)."""
        case = event.case
        self._case_seen(case.room_id, case.root_event_id)
        await self._onboard(ctx, case.poster, case.root_event_id)
        formatted, body = _html_of(ctx, case.root_event_id)
        await self._check(ctx, case.root_event_id, case.poster, case.root_event_id,
                          event.text, formatted=formatted, body=body, may_redact=False)

    @on(CaseReplied)
    async def replied(self, ctx: Context, event: CaseReplied) -> None:
        """A message (not a notice, not `!redact`) or a photo in a case's thread."""
        root = event.case.root_event_id
        self._case_seen(event.case.room_id, root)
        reply = event.event
        if isinstance(reply, Attachment):
            await self._photo(ctx, reply, root)
            return
        split = split_command(reply.body, ctx.prefixes)
        if reply.msgtype == "m.notice" or (split is not None and split[0] in
                                            (*REDACT_COMMANDS, *CLEAN_COMMANDS)):
            return
        await self._check(ctx, reply.event_id, reply.sender, root, reply.body,
                          formatted=reply.formatted_body, body=reply.body)

    @on(CaseEdited)
    async def edited(self, ctx: Context, event: CaseEdited) -> None:
        """An edit of a case's root or reply, by that message's author (cases publishes no
        other): checked again, its HTML too (an identifier may be there only); the warning
        is updated, or cleared."""
        root = event.case.root_event_id
        self._case_seen(event.case.room_id, root)
        edit = event.event
        await self._check(ctx, edit.original, edit.sender, root, event.text, edited=True,
                          formatted=edit.formatted_body, body=edit.body)

    @on(Redaction)
    async def redaction(self, ctx: Context, event: Redaction) -> None:
        """A flagged message is forgotten once it is gone: the homeserver applies the
        redaction (its sender or a member with the redact power sent it)."""
        flag = self._flags.get(event.redacts)
        if flag is not None and redaction_applies(ctx.room, event, flag.sender):
            del self._flags[event.redacts]
        elif flag is None:  # maybe a photo waiting in the lane: not checked once gone
            self._gone[event.redacts] = event
            while len(self._gone) > MEMORY:
                self._gone.popitem(last=False)

    @on(StatsLines)
    async def stats_lines(self, ctx: Context, event: StatsLines) -> list[tuple[Part, ...]]:
        """`!stats`: how many warnings of each kind (counts only) since `event.since`."""
        rows = await self.bot.db.fetchall(
            "SELECT kind, SUM(count) AS n FROM secrecy_counts WHERE room_id = ? AND day >= ? "
            "GROUP BY kind ORDER BY n DESC, kind", (event.room_id, int(event.since // 86400)))
        if not rows:
            return [(ctx.t("secrecy.stats.none"),)]
        details = ", ".join(ctx.t("secrecy.stats.item", kind=self.kinds_text(ctx, [r["kind"]]),
                                  count=r["n"]) for r in rows)
        return [(ctx.t("secrecy.stats", total=sum(r["n"] for r in rows), details=details),)]

    # ---- 3. !redact --------------------------------------------------------------------------
    @staticmethod
    def _target(event: Message, flagged: Sequence[tuple[str, _Flag]],
                moderator: bool) -> str | None:
        """Which flagged message of the thread `!redact` removes: the one it replies to, else
        the sender's latest; a moderator's, else the thread's latest."""
        if event.in_reply_to:
            for eid, flag in flagged:
                if eid == event.in_reply_to and (moderator or flag.sender == event.sender):
                    return eid
        own = [eid for eid, f in flagged if f.sender == event.sender]
        if own:
            return own[-1]
        return flagged[-1][0] if moderator and flagged else None

    @command(*REDACT_COMMANDS, summary="secrecy.redact.summary")
    async def redact(self, ctx: Context) -> None:
        event = ctx.event
        assert isinstance(event, Message)
        root = event.thread_root
        flagged = [(eid, f) for eid, f in self._flags.items()
                   if f.room_id == event.room_id and f.root == root]
        if not root or not (flagged or (event.room_id, root) in self._cases):
            raise Refusal(ctx.t("secrecy.redact.where", prefix=ctx.prefix))
        target = self._target(event, flagged, ctx.is_admin())
        if target is None:
            raise Refusal(ctx.t("secrecy.redact.nothing"))
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
                *await self.added_rules(ctx, first_case=True),
            )
        )

    # ---- 5. !rules ---------------------------------------------------------------------------
    @command("rules", "regles", summary="secrecy.rules.summary", order=5)
    async def rules(self, ctx: Context) -> None:
        await ctx.reply(Rich.of(self.rules_text(ctx), *await self.added_rules(ctx, False)))

    @command("rules pin", "regles pin", "regles epingler", admin=True,
             summary="secrecy.rules.pin.summary", section="admin")
    async def pin_rules(self, ctx: Context) -> None:
        event_id = await ctx.send(
            Rich.of(self.rules_text(ctx), *await self.added_rules(ctx, False)), in_thread=False)
        # The current pins, from the homeserver: our copy may be a sync behind, and a pin
        # someone added meanwhile must not be dropped.
        current = await self.bot.get_state(ctx.room_id, "m.room.pinned_events") or {}
        listed = current.get("pinned")
        pinned = [p for p in (listed if isinstance(listed, list) else ())
                  if isinstance(p, str) and p != event_id] + [event_id]
        if not await self.bot.put_state(ctx.room_id, "m.room.pinned_events", {"pinned": pinned}):
            await ctx.reply(ctx.t("secrecy.pin.failed"))

    # ---- 6. photos ---------------------------------------------------------------------------
    async def _photo(self, ctx: Context, event: Attachment, root: str) -> None:
        """Queue the photo's check (`PhotoLane`: metadata, faces and written identifiers, off
        the loop and behind the room's events); when the poster has too many photos waiting,
        say once that the next ones are not checked."""
        if not worth_reading(event):
            return
        key = (event.room_id, event.sender)
        if self._lane.submit(event.sender, lambda: self._check_photo(ctx, event, root)):
            return
        if key not in self._overflowing:
            self._overflowing.add(key)
            await ctx.in_thread_of(root).reply(fill(
                ctx.t("secrecy.photo.busy"), poster=ctx.pill(event.sender, notify=True)))

    async def _check_photo(self, ctx: Context, event: Attachment, root: str) -> None:
        """A warning (kinds only) that `!redact` and `!clean` answer."""
        if not self._lane.waiting(event.sender):
            self._overflowing.discard((event.room_id, event.sender))
        gone = self._gone.pop(event.event_id, None)
        if gone is not None and redaction_applies(ctx.room, gone, event.sender):
            return
        kinds = (await self._lane.inspect(event)).kinds
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
        self._remember(event.event_id, _Flag(ctx.room_id, root, event.sender, frozenset(kinds),
                                             warning, photo=event))

    async def stop(self) -> None:
        await self._lane.stop()

    @command(*CLEAN_COMMANDS, summary="secrecy.clean.summary")
    async def clean(self, ctx: Context) -> None:
        """A cleaned copy of a flagged photo of the thread (the one replied to, else the
        sender's latest; a moderator may clean anyone's), posted encrypted in the thread."""
        event = ctx.event
        assert isinstance(event, Message)
        root = event.thread_root
        photos = [(eid, f) for eid, f in self._flags.items()
                  if f.room_id == event.room_id and f.root == root and f.photo is not None]
        target = self._target(event, photos, ctx.is_admin()) if root else None
        if target is None:
            raise Refusal(ctx.t("secrecy.clean.nothing"))
        flag = self._flags[target]
        if not self._lane.submit(event.sender, lambda: self._send_clean(ctx, flag)):
            raise Refusal(ctx.t("secrecy.clean.busy", prefix=ctx.prefix))

    async def _send_clean(self, ctx: Context, flag: _Flag) -> None:
        """`!clean`'s work, in the lane (a 50-MP photo takes seconds: not in the handler)."""
        assert flag.photo is not None
        cleaned = await self._lane.clean(flag.photo)
        if cleaned is None:
            await ctx.reply(ctx.t("secrecy.clean.failed", prefix=ctx.prefix))
            return
        await ctx.send_file(cleaned.data, ctx.t("secrecy.clean.filename"), cleaned.mimetype,
                            image_size=(cleaned.width, cleaned.height))
        await ctx.reply(fill(ctx.t("secrecy.clean.done"), regions=cleaned.blurred,
                             prefix=ctx.prefix, poster=ctx.pill(flag.sender, notify=True)))
