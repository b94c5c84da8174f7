"""Pure builders for the Matrix event contents the bot sends (threads, mentions, edits).

Every piece of user text put into HTML goes through `html.escape`; `Text` values are escaped
once, in `render`, so callers cannot forget it.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote


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


def fill(template: str, **parts: Part) -> tuple[Part, ...]:
    """Split a translated `template` on its `{name}` fields and put `parts` in their place.

    Lets a translation place a pill or a link anywhere in its sentence.
    """
    out: list[Part] = []
    rest = template
    while rest:
        start = rest.find("{")
        end = rest.find("}", start)
        if start < 0 or end < 0:
            out.append(rest)
            break
        if start:
            out.append(rest[:start])
        name = rest[start + 1:end]
        out.append(parts[name] if name in parts else rest[start:end + 1])
        rest = rest[end + 1:]
    return tuple(out)


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


def _plain(part: Part) -> str:
    if isinstance(part, Pill):
        return part.name
    if isinstance(part, Link):
        return f"{part.label} ({part.url})"
    if isinstance(part, Bold):
        return part.text
    return part


def _html(part: Part) -> str:
    if isinstance(part, Pill):
        href = f"https://matrix.to/#/{quote(part.user_id, safe='@:')}"
        return f'<a href="{html.escape(href)}">{html.escape(part.name)}</a>'
    if isinstance(part, Link):
        return f'<a href="{html.escape(part.url)}">{html.escape(part.label)}</a>'
    if isinstance(part, Bold):
        return f"<b>{html.escape(part.text)}</b>"
    return html.escape(part)


Say = str | Rich | tuple[Part, ...]
"""What a handler can say: plain text, one line of parts, or several lines."""


def render(message: Say, msgtype: str = "m.notice") -> dict[str, Any]:
    """Content for an m.room.message: plain body, escaped HTML and m.mentions."""
    rich = message if isinstance(message, Rich) else Rich.of(message)
    body = "\n".join("".join(_plain(p) for p in line) for line in rich.lines)
    formatted = "<br>".join("".join(_html(p) for p in line) for line in rich.lines)
    mentioned = sorted({p.user_id for line in rich.lines for p in line
                        if isinstance(p, Pill) and p.notify})
    return {
        "msgtype": msgtype,
        "body": body,
        "format": "org.matrix.custom.html",
        "formatted_body": formatted,
        "m.mentions": {"user_ids": mentioned} if mentioned else {},
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
