"""nio's events and rooms as the bot's own types (`bot.events`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from nio import (
    Event as NioEvent,
)
from nio import (
    MatrixRoom,
    PowerLevelsEvent,
    ReactionEvent,
    RedactionEvent,
    RoomEncryptedMedia,
    RoomEncryptionEvent,
    RoomHistoryVisibilityEvent,
    RoomJoinRulesEvent,
    RoomMemberEvent,
    RoomMessageFormatted,
    RoomMessageMedia,
    UnknownEvent,
)

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

WATCHED_STATE = {
    "m.room.encryption", "m.room.join_rules", "m.room.history_visibility",
    "m.room.power_levels", "m.room.pinned_events", "m.room.name",
}


def _relation(source: dict[str, Any]) -> dict[str, Any]:
    rel = (source.get("content") or {}).get("m.relates_to")
    return rel if isinstance(rel, dict) else {}


def _thread_root(source: dict[str, Any]) -> str | None:
    rel = _relation(source)
    return rel.get("event_id") if rel.get("rel_type") == "m.thread" else None


CREATOR_POWER = 2**53 - 1
"""Room version 12 gives creators unlimited power; they are absent from the users map."""


def _privileged_creators(room: MatrixRoom, creators: Sequence[str]) -> bool:
    return room.room_version.isdigit() and int(room.room_version) >= 12 and bool(creators)


def room_info(room: MatrixRoom, pinned: Sequence[str] = (),
              creators: Sequence[str] = ()) -> RoomInfo:
    """Our snapshot of a nio room (no request: all from the synced state)."""
    joined = frozenset(u for u in room.users if u not in room.invited_users)
    levels = room.power_levels
    users = dict(levels.users)
    if _privileged_creators(room, creators):
        users.update(dict.fromkeys(creators, CREATOR_POWER))
    return RoomInfo(
        room_id=room.room_id,
        name=room.display_name,
        encrypted=room.encrypted,
        join_rule=room.join_rule,
        history_visibility=room.history_visibility,
        members=joined,
        display_names={u: (room.user_name(u) or u) for u in joined},
        power_users=users,
        power_users_default=levels.defaults.users_default,
        power_events=dict(levels.events),
        power_events_default=levels.defaults.events_default,
        power_redact=levels.defaults.redact,
        pinned_events=tuple(pinned),
        canonical_alias=room.canonical_alias,
    )


def convert(event: NioEvent, room_id: str) -> Event | None:
    """A nio timeline event as one of ours, or None for what plugins do not need."""
    source = event.source or {}
    ts = int(getattr(event, "server_timestamp", 0) or source.get("origin_server_ts", 0))
    base = (room_id, event.event_id, event.sender, ts)
    rel = _relation(source)
    if isinstance(event, RoomMessageFormatted):
        msg_content = source.get("content", {})
        if rel.get("rel_type") == "m.replace":
            new = msg_content.get("m.new_content") or {}
            return Edit(*base, original=rel.get("event_id", ""),
                        body=str(new.get("body", event.body.removeprefix("* "))),
                        msgtype=str(new.get("msgtype", "m.text")))
        mentions = (msg_content.get("m.mentions") or {}).get("user_ids") or []
        return Message(*base, body=event.body, msgtype=str(msg_content.get("msgtype", "m.text")),
                       formatted_body=getattr(event, "formatted_body", None),
                       thread_root=_thread_root(source),
                       in_reply_to=(rel.get("m.in_reply_to") or {}).get("event_id"),
                       mentions=tuple(m for m in mentions if isinstance(m, str)))
    if isinstance(event, RoomMessageMedia | RoomEncryptedMedia):
        media = source.get("content", {})
        info = media.get("info") or {}
        file_info = media.get("file") if isinstance(event, RoomEncryptedMedia) else None
        url = file_info.get("url", "") if file_info else media.get("url", "")
        return Attachment(*base, msgtype=str(media.get("msgtype", "m.file")),
                          mimetype=str(info.get("mimetype", "")), size=int(info.get("size", 0)),
                          url=url, encryption=file_info, thread_root=_thread_root(source))
    if isinstance(event, ReactionEvent):
        return Reaction(*base, relates_to=event.reacts_to, key=event.key)
    if isinstance(event, UnknownEvent) and event.type == "m.reaction":
        return Reaction(*base, relates_to=str(rel.get("event_id", "")), key=str(rel.get("key", "")))
    if isinstance(event, RedactionEvent):
        return Redaction(*base, redacts=event.redacts)
    if isinstance(event, RoomMemberEvent):
        prev = (event.prev_content or {}).get("membership")
        return MemberChange(*base, user_id=event.state_key, membership=event.membership,
                            prev_membership=prev)
    if isinstance(event, RoomEncryptionEvent | RoomJoinRulesEvent | RoomHistoryVisibilityEvent
                  | PowerLevelsEvent):
        return StateChange(*base, event_type=str(source.get("type", "")))
    if isinstance(event, UnknownEvent) and event.type in WATCHED_STATE:
        return StateChange(*base, event_type=event.type,
                           state_key=str(source.get("state_key", "")))
    return None


