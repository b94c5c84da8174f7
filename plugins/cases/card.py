"""The case card: the first bot message of a case's thread, edited in place to show the
case's state; and how a case was tagged."""

from __future__ import annotations

from collections.abc import Sequence

from bot.content import Bold, Link, Part, Rich, fill, permalink
from bot.plugin import Context
from plugins.cases.model import CLOSED, RESOLVED, SUGGESTED, WITHDRAWN, Case
from plugins.specialties import Tag

Line = tuple[Part, ...]
PICK_KEYS = ("1️⃣", "2️⃣", "3️⃣")
"""The reactions that pick a proposed specialty on the card, as the bot offers them."""


def tag_source(tags: Sequence[Tag]) -> str:
    """How the tags were found: `hashtag`, `keywords`, `suggested` (keywords the tagger is
    not confident of: proposals to confirm) or `none`."""
    if not tags:
        return "none"
    if not tags[0].confident:
        return SUGGESTED
    return "hashtag" if tags[0].evidence[0].startswith("#") else "keywords"


def evidence_words(tags: Sequence[Tag]) -> list[str]:
    """The words that decided the tags (hashtags without `#`), at most five, for the card."""
    words: list[str] = []
    for tag in tags:
        for word in tag.evidence:
            clean = word.lstrip("#")
            if clean not in words:
                words.append(clean)
    return words[:5]


def draw(ctx: Context, case: Case, specialties: str, extra: Sequence[Line],
         evidence: Sequence[str] = (), proposals: Sequence[str] = (),
         signs: Sequence[Part] = ()) -> Rich:
    """The card: title line, then what a reader needs to act on the case.

    `specialties` is the case's specialties as the room names them; `extra` the lines other
    features add (`CardLines`); `evidence` the words that tagged a case just opened or edited;
    `proposals` the names of the specialties a case awaiting its tag proposes, in order;
    `signs` what other features show after the poster's name (in their own formatting,
    which no display name can carry).
    Names are shown without a pill: the card pings nobody, the poster least of all (each
    edit would).
    """
    t, name = ctx.t, ctx.room.display_name
    lines: list[Line] = [(Bold(t("cases.card.title", number=case.number,
                                 specialties=specialties,
                                 status=t(f"cases.status.{case.status}"))),)]
    poster: list[Part] = [name(case.poster)]
    for sign in signs:
        poster.extend((" ", sign))
    lines.append(fill(t("cases.card.poster"), poster=poster))
    if case.tag_source == "hashtag":
        lines.append((t("cases.card.hashtag", tags=", ".join(f"#{e}" for e in evidence))
                      if evidence else t("cases.card.by_hashtag"),))
    elif case.awaiting_tag:
        choices = " · ".join(f"{key} {name}" for key, name in zip(PICK_KEYS, proposals,
                                                                  strict=False))
        lines.append((t("cases.card.proposed", choices=choices, prefix=ctx.prefix),))
    elif case.tag_source == "keywords":
        lines.append((t("cases.card.detected", words=", ".join(evidence))
                      if evidence else t("cases.card.keywords"),))
    elif case.tag_source == "manual" and case.tagged_by:
        how = (t("cases.card.by_reaction", key=case.tag_pick) if case.tag_pick
               else f"{ctx.prefix}tag")
        lines.append(fill(t("cases.card.chosen_by"), who=name(case.tagged_by), how=how))
    elif case.tag_source == "manual":
        lines.append((t("cases.card.manual"),))
    elif case.is_open:
        lines.append((t("cases.card.untagged", prefix=ctx.prefix),))
    lines.extend(extra)
    if case.status == RESOLVED:
        if case.resolved_by:
            lines.append(fill(t("cases.card.resolved_by"), who=name(case.resolved_by)))
        if case.accepted_event_id:
            lines.append(fill(t("cases.card.accepted"), link=Link(
                permalink(case.room_id, case.accepted_event_id), t("cases.card.this_answer"))))
        if case.resolution_event_id:
            lines.append(fill(t("cases.card.summary_link"), link=Link(
                permalink(case.room_id, case.resolution_event_id),
                t("cases.card.this_summary"))))
    elif case.status == WITHDRAWN:
        lines.append((t("cases.card.withdrawn"),))
    elif case.status == CLOSED:
        lines.append((t("cases.card.closed"),))
    if case.is_open:
        lines.append((t("cases.card.how", prefix=ctx.prefix),))
    elif case.status in (RESOLVED, CLOSED):
        lines.append((t("cases.card.reopen", prefix=ctx.prefix),))
    return Rich(tuple(lines))
