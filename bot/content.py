"""Pure builders for the Matrix event contents the bot sends (threads, mentions, edits).

Every piece of user text put into HTML goes through `html.escape`; `Text` values are escaped
once, in `render`, so callers cannot forget it.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from bot.text import shorten


def permalink(room_id: str, event_id: str | None = None) -> str:
    """A matrix.to link to a room or an event (what Element opens)."""
    link = f"https://matrix.to/#/{quote(room_id, safe='!:@')}"
    return f"{link}/{quote(event_id, safe='$:')}" if event_id else link


@dataclass(frozen=True, slots=True)
class Pill:
    """A user mention rendered as a pill; `notify` adds the user to m.mentions."""

    user_id: str
    name: str
    notify: bool = True


@dataclass(frozen=True, slots=True)
class Link:
    url: str
    label: str


@dataclass(frozen=True, slots=True)
class Bold:
    text: str


Part = str | Pill | Link | Bold
"""A piece of a message: plain text (escaped in HTML), a pill, a link or bold text."""


_FIELD = re.compile(r"\{(\w+)\}")
MAX_FILLED = 500
"""Longer text values are cut there (with "…"): a reply never echoes a whole long input."""


def fill(template: str, **values: Part | int | Sequence[Part]) -> tuple[Part, ...]:
    """Put `values` in place of the `{name}` fields of a translated `template`, in one pass.

    Pass the template as translated (`ctx.t(key)`, no values) and every value here: a value
    is never read as a template itself, so a specialty name or any user text holding `{` or
    `{who}` stays text. A value is text, a number, a pill, a link, bold text or several parts
    (a list of pills). A field with no value stays as written; text longer than
    `MAX_FILLED` is cut.
    """
    pieces: list[Part] = []
    pos = 0
    for match in _FIELD.finditer(template):
        pieces.append(template[pos:match.start()])
        value = values.get(match[1])
        if value is None:
            pieces.append(match[0])
        elif isinstance(value, str):
            pieces.append(value if len(value) <= MAX_FILLED else shorten(value, MAX_FILLED))
        elif isinstance(value, Pill | Link | Bold):
            pieces.append(value)
        elif isinstance(value, int):
            pieces.append(str(value))
        else:
            pieces.extend(value)
        pos = match.end()
    pieces.append(template[pos:])
    out: list[Part] = []  # adjacent texts joined, empty ones dropped
    for part in pieces:
        if isinstance(part, str):
            if not part:
                continue
            if out and isinstance(out[-1], str):
                out[-1] += part
                continue
        out.append(part)
    return tuple(out)


_EMOJI_VARIANTS = frozenset({"\ufe0e", "\ufe0f", *map(chr, range(0x1F3FB, 0x1F400))})
MAX_EMOJI_KEY = 32
"""Longer reaction keys are cut there before comparing (no emoji we read is that long)."""


def emoji_key(key: str) -> str:
    """A reaction key as compared: without variation selectors (U+FE0E/U+FE0F) nor skin
    tones (U+1F3FB–U+1F3FF). Element Web sends ✅ as "✅️" and 🙋 may come as "🙋🏽"."""
    return "".join(c for c in key[:MAX_EMOJI_KEY] if c not in _EMOJI_VARIANTS)


@dataclass(frozen=True, slots=True)
class Rich:
    """A message made of parts and lines; `render` turns it into body + formatted_body."""

    lines: tuple[tuple[Part, ...], ...]

    @classmethod
    def of(cls, *lines: str | Part | tuple[Part, ...] | list[Part]) -> Rich:
        out: list[tuple[Part, ...]] = []
        for line in lines:
            if isinstance(line, tuple | list):
                out.append(tuple(line))
            else:
                out.append((line,))
        return cls(tuple(out))

    def __add__(self, other: Rich) -> Rich:
        return Rich(self.lines + other.lines)


Say = str | Rich | tuple[Part, ...]
"""What a handler can say: plain text, one line of parts, or several lines."""


def render(message: Say, msgtype: str = "m.notice") -> dict[str, Any]:
    """Content for an m.room.message: plain body, escaped HTML and m.mentions."""
    rich = message if isinstance(message, Rich) else Rich.of(message)
    plain: list[str] = []
    markup: list[str] = []
    mentioned: set[str] = set()
    for line in rich.lines:
        for part in line:
            if isinstance(part, str):
                plain.append(part)
                markup.append(html.escape(part))
            elif isinstance(part, Pill):
                href = f"https://matrix.to/#/{quote(part.user_id, safe='@:')}"
                plain.append(part.name)
                markup.append(f'<a href="{html.escape(href)}">{html.escape(part.name)}</a>')
                if part.notify:
                    mentioned.add(part.user_id)
            elif isinstance(part, Link):
                plain.append(f"{part.label} ({part.url})")
                markup.append(f'<a href="{html.escape(part.url)}">'
                              f'{html.escape(part.label)}</a>')
            else:
                plain.append(part.text)
                markup.append(f"<b>{html.escape(part.text)}</b>")
        plain.append("\n")
        # "<br>\n": Element's thread summary and room list drop the tags (a reply's <br>
        # comes back from its sanitizer as "<br />", which its preview no longer turns into
        # a line break), so the newline is what keeps two lines apart there.
        markup.append("<br>\n")
    return {
        "msgtype": msgtype,
        "body": "".join(plain[:-1]),
        "format": "org.matrix.custom.html",
        "formatted_body": "".join(markup[:-1]),
        "m.mentions": {"user_ids": sorted(mentioned)} if mentioned else {},
    }


def in_thread(content: dict[str, Any], root: str, latest: str | None = None) -> dict[str, Any]:
    """Attach `content` to the thread on `root` (with the reply fallback clients expect)."""
    return {
        **content,
        "m.relates_to": {
            "rel_type": "m.thread",
            "event_id": root,
            "is_falling_back": True,
            "m.in_reply_to": {"event_id": latest or root},
        },
    }


def reply_to(content: dict[str, Any], event_id: str) -> dict[str, Any]:
    """`content` as a reply to `event_id` in the main timeline. No fallback quote: clients
    show the replied-to message themselves, and the bot never echoes a member's text."""
    return {**content, "m.relates_to": {"m.in_reply_to": {"event_id": event_id}}}


def edit_of(original: str, content: dict[str, Any]) -> dict[str, Any]:
    """An m.replace of `original` carrying `content` as the new content.

    The fallback body starts with `* ` as the spec asks; m.mentions of the new content are
    kept in m.new_content only, so an edit does not ping people a second time.
    """
    new_content = {k: v for k, v in content.items() if k != "m.relates_to"}
    fallback = {
        "msgtype": content.get("msgtype", "m.notice"),
        "body": f"* {content.get('body', '')}",
        "m.new_content": new_content,
        "m.mentions": {},
        "m.relates_to": {"rel_type": "m.replace", "event_id": original},
    }
    if "formatted_body" in content:
        fallback["format"] = "org.matrix.custom.html"
        fallback["formatted_body"] = f"* {content['formatted_body']}"
    return fallback


def reaction(event_id: str, key: str) -> dict[str, Any]:
    return {"m.relates_to": {"rel_type": "m.annotation", "event_id": event_id, "key": key}}


def attachment(file: dict[str, Any], filename: str, mimetype: str, size: int,
               image_size: tuple[int, int] | None = None) -> dict[str, Any]:
    """An encrypted file (m.file) or, given its `(width, height)`, an image (m.image).

    `file` is what `upload` returned (url, key, iv, hashes, v): encrypted media carry it
    instead of a top-level `url`.
    """
    info: dict[str, Any] = {"mimetype": mimetype, "size": size}
    if image_size is not None:
        info["w"], info["h"] = image_size
    return {"msgtype": "m.image" if image_size else "m.file", "body": filename,
            "filename": filename, "file": dict(file), "info": info}
