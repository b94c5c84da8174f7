"""Raw Matrix events and nio rooms as the bot's own types (`bot.events`).

Trust only what the homeserver vouches for: in an encrypted room the homeserver sees
`m.room.encrypted` only, and the decrypted `type` is whatever the sender wrote. So room state
(membership, power levels, join rules, pins, creators) and redactions come only from events
that were state events or redactions on the wire, never from decrypted payloads; and every
field may have any JSON type or be missing. `convert` reads the event's source dict (the
decrypted payload for encrypted events) and checks every field it uses.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from nio import MatrixRoom

from bot.events import (
    Attachment,
    Edit,
    Event,
    MemberChange,
    Message,
    Reaction,
    Redaction,
    RoomInfo,
    StateChange,
)

log = logging.getLogger(__name__)

WATCHED_STATE = frozenset({
    "m.room.encryption", "m.room.join_rules", "m.room.history_visibility",
    "m.room.power_levels", "m.room.pinned_events", "m.room.name", "m.room.create",
})
STATE_ONLY = WATCHED_STATE | {"m.room.member", "m.room.redaction", "m.room.canonical_alias",
                              "m.room.topic", "m.room.avatar", "m.room.guest_access",
                              "m.room.tombstone", "m.room.server_acl",
                              "m.room.third_party_invite"}
"""Types that mean something only as real state events (or real redactions)."""
TEXT_TYPES = frozenset({"m.text", "m.notice", "m.emote"})
MEDIA_TYPES = frozenset({"m.image", "m.file", "m.video", "m.audio"})
MAX_ID = 255
"""Matrix ids (event, user, room) are at most 255 bytes; longer ones are not ids."""
MAX_REASON = 500
"""A membership's reason is cut to this many characters (a knock's message, for instance)."""
CREATOR_POWER = 2**53 - 1
"""Room version 12 gives creators unlimited power; they are absent from the users map."""


def as_dict(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def as_str(value: Any, default: str = "") -> str:
    return value if isinstance(value, str) else default


def as_id(value: Any) -> str | None:
    """A Matrix identifier, or None when `value` cannot be one."""
    return value if isinstance(value, str) and 0 < len(value) <= MAX_ID else None


def as_int(value: Any, default: int = 0) -> int:
    """An integer within JSON's safe range (booleans and floats are not integers here)."""
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) <= CREATOR_POWER:
        return value
    return default


def relation(content: Mapping[str, Any]) -> Mapping[str, Any]:
    return as_dict(content.get("m.relates_to"))


def thread_root(content: Mapping[str, Any]) -> str | None:
    rel = relation(content)
    return as_id(rel.get("event_id")) if rel.get("rel_type") == "m.thread" else None


def is_real_state(source: Mapping[str, Any], decrypted: bool) -> bool:
    """Whether `source` was a state event on the wire (never true of a decrypted payload)."""
    return not decrypted and isinstance(source.get("state_key"), str)


def convert(source: Mapping[str, Any], room_id: str, decrypted: bool) -> Event | None:
    """One timeline event as the bot's own type, or None for what plugins do not need (and
    for anything malformed or forged, logged by type only: never its content)."""
    try:
        return _convert(source, room_id, decrypted)
    except Exception:  # a last guard: one event never stops the bot
        log.warning("skipped a malformed %s event", _type_name(source))
        return None


def _type_name(source: Any) -> str:
    kind = source.get("type") if isinstance(source, Mapping) else None
    return kind[:80] if isinstance(kind, str) else "untyped"


def _convert(source: Mapping[str, Any], room_id: str, decrypted: bool) -> Event | None:
    kind = source.get("type")
    event_id, sender = as_id(source.get("event_id")), as_id(source.get("sender"))
    if not isinstance(kind, str) or event_id is None or sender is None:
        return None
    if kind in STATE_ONLY and not (is_real_state(source, decrypted)
                                   or (kind == "m.room.redaction" and not decrypted)):
        log.warning("ignored a %s %s event (not a real %s)",
                    "decrypted" if decrypted else "plain", kind,
                    "redaction" if kind == "m.room.redaction" else "state event")
        return None
    content = as_dict(source.get("content"))
    base = (room_id, event_id, sender, max(0, as_int(source.get("origin_server_ts"))))
    rel = relation(content)
    if kind == "m.room.message":
        return _message(base, content, rel)
    if kind == "m.reaction":
        target = as_id(rel.get("event_id"))
        key = rel.get("key")
        if rel.get("rel_type") != "m.annotation" or target is None or not isinstance(key, str):
            return None
        return Reaction(*base, relates_to=target, key=key[:64])
    if kind == "m.room.redaction":
        redacts = as_id(source.get("redacts")) or as_id(content.get("redacts"))
        return Redaction(*base, redacts=redacts) if redacts else None
    if kind == "m.room.member":
        user = as_id(source.get("state_key"))
        membership = content.get("membership")
        if user is None or not isinstance(membership, str):
            return None
        prev_content = source.get("prev_content") or as_dict(source.get("unsigned")).get(
            "prev_content")
        prev = as_dict(prev_content).get("membership")
        return MemberChange(*base, user_id=user, membership=membership,
                            prev_membership=prev if isinstance(prev, str) else None,
                            displayname=as_str(content.get("displayname"))[:MAX_ID],
                            reason=as_str(content.get("reason"))[:MAX_REASON])
    if kind in WATCHED_STATE:
        return StateChange(*base, event_type=kind, state_key=as_str(source.get("state_key")))
    return None


def _message(base: tuple[str, str, str, int], content: Mapping[str, Any],
             rel: Mapping[str, Any]) -> Event | None:
    msgtype, body = content.get("msgtype"), content.get("body")
    if not isinstance(msgtype, str) or not isinstance(body, str):
        return None
    if rel.get("rel_type") == "m.replace":
        original = as_id(rel.get("event_id"))
        new = as_dict(content.get("m.new_content"))
        new_body, new_type = new.get("body"), new.get("msgtype", msgtype)
        if original is None or not isinstance(new_type, str) or new_type not in TEXT_TYPES:
            return None
        text = new_body if isinstance(new_body, str) else body.removeprefix("* ")
        html = new.get("formatted_body")
        return Edit(*base, original=original, body=text, msgtype=new_type,
                    formatted_body=html if isinstance(html, str) else None)
    root = thread_root(content)
    if msgtype in TEXT_TYPES:
        formatted = content.get("formatted_body")
        mentions = as_dict(content.get("m.mentions")).get("user_ids")
        # In a thread, a reply marked `is_falling_back` is only for clients without threads.
        reply_to = (None if root and rel.get("is_falling_back") is True
                    else as_id(as_dict(rel.get("m.in_reply_to")).get("event_id")))
        return Message(*base, body=body, msgtype=msgtype,
                       formatted_body=formatted if isinstance(formatted, str) else None,
                       thread_root=root, in_reply_to=reply_to,
                       mentions=tuple(m for m in (mentions if isinstance(mentions, list)
                                                  else ())[:100] if as_id(m)))
    if msgtype in MEDIA_TYPES:
        info = as_dict(content.get("info"))
        file = as_dict(content.get("file"))
        encryption = file if _valid_file(file) else None
        url = as_str(file.get("url")) if encryption else as_str(content.get("url"))
        if not url.startswith("mxc://"):
            return None
        return Attachment(*base, msgtype=msgtype, mimetype=as_str(info.get("mimetype"))[:100],
                          size=max(0, as_int(info.get("size"))), url=url,
                          encryption=encryption, thread_root=root)
    return None


def _valid_file(file: Mapping[str, Any]) -> bool:
    """An encrypted attachment's `file` object with the fields decryption needs."""
    return (isinstance(file.get("url"), str) and isinstance(file.get("iv"), str)
            and isinstance(as_dict(file.get("key")).get("k"), str)
            and isinstance(as_dict(file.get("hashes")).get("sha256"), str))


def room_creators(source: Mapping[str, Any]) -> tuple[str, ...]:
    """The creators a real `m.room.create` state event names (v12 gives them full power)."""
    extra = as_dict(source.get("content")).get("additional_creators")
    others = tuple(c for c in (extra if isinstance(extra, list) else ())[:100] if as_id(c))
    creator = as_id(source.get("sender"))
    return (creator, *others) if creator else others


def pinned_events(source: Mapping[str, Any]) -> tuple[str, ...]:
    pinned = as_dict(source.get("content")).get("pinned")
    return tuple(p for p in (pinned if isinstance(pinned, list) else ())[:1000] if as_id(p))


def _privileged_creators(room: MatrixRoom, creators: Sequence[str]) -> bool:
    version = room.room_version if isinstance(room.room_version, str) else ""
    return version.isascii() and version.isdigit() and int(version) >= 12 and bool(creators)


def _levels(mapping: Any) -> dict[str, int]:
    return {k: as_int(v) for k, v in as_dict(mapping).items() if isinstance(k, str)}


def room_info(room: MatrixRoom, pinned: Sequence[str] = (),
              creators: Sequence[str] = ()) -> RoomInfo:
    """Our snapshot of a nio room (no request: all from the synced, real state)."""
    joined = frozenset(u for u in room.users if u not in room.invited_users)
    levels = room.power_levels
    users = _levels(levels.users)
    if _privileged_creators(room, creators):
        users.update(dict.fromkeys(creators, CREATOR_POWER))
    return RoomInfo(
        room_id=room.room_id,
        name=room.display_name,
        encrypted=room.encrypted,
        join_rule=as_str(room.join_rule, "invite"),
        history_visibility=as_str(room.history_visibility, "shared"),
        members=joined,
        display_names={u: (room.user_name(u) or u) for u in joined},
        power_users=users,
        power_users_default=as_int(levels.defaults.users_default),
        power_events=_levels(levels.events),
        power_events_default=as_int(levels.defaults.events_default),
        power_redact=as_int(levels.defaults.redact, 50),
        power_invite=as_int(levels.defaults.invite, 50),
        pinned_events=tuple(pinned),
        canonical_alias=room.canonical_alias,
    )
