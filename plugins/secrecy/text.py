"""The text a message shows, scanned on the loop or in a worker thread."""

from __future__ import annotations

import asyncio
import html
import re

from bot.events import Message
from bot.plugin import Context
from plugins.secrecy.detector import MAX_SCAN, Finding, scan

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


def html_of(ctx: Context, event_id: str) -> tuple[str | None, str]:
    """The HTML and body of the message that `ctx` answers, when it is `event_id` (a new
    case's post: the case events carry its text without the command, not its HTML)."""
    source = ctx.source
    if isinstance(source, Message) and source.event_id == event_id:
        return source.formatted_body, source.body
    return None, ""
