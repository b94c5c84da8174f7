"""The specialties feature: which specialties a room tags its cases with, and the commands its
admins use to change them.

A room's set is the configured defaults, then the YAML override for that room (by room id or
alias), then the changes its admins made by command (stored per room; `!specialty reset`
forgets them).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from bot.content import Bold, Part, Rich, fill
from bot.i18n import echo
from bot.plugin import Context, Plugin, Refusal, command
from bot.router import Arg, Choice, Many
from plugins.specialties.catalog import (
    Specialty,
    hashtag_key,
    is_hashtag_body,
    is_valid_id,
    load_defaults,
    match_specialties,
    normalize,
    specialties_from_data,
)
from plugins.specialties.classify import Tag, classify
from plugins.specialties.events import SpecialtyFigures, SpecialtyRemoved
from plugins.specialties.learn import vocabulary_words
from plugins.specialties.lessons import MIGRATIONS as LESSON_MIGRATIONS
from plugins.specialties.lessons import MODES, Lessons
from plugins.specialties.rooms import (
    MIGRATIONS,
    Override,
    RoomSet,
    RoomSpecialtyStore,
    apply,
    yaml_override,
)
from plugins.specialties.strings import STRINGS

MAX_NAME = 60
MAX_KEYWORD = 60


# ---- the specialty argument ----------------------------------------------------------------
# Converters get the command's context, whose `plugin` is the plugin running the command: this
# one, or one that requires it (cases, volunteers). The room's set is kept in memory here.

def room_specialties(ctx: Context) -> tuple[Specialty, ...]:
    """The specialties of the context's room (the set its cases are tagged with)."""
    owner = ctx.plugin
    assert owner is not None, "a specialty argument belongs to a plugin's command"
    source = owner if isinstance(owner, Specialties) else owner.required(Specialties)
    return source.for_room(ctx.room_id)


def find_specialty(ctx: Context, word: str) -> Specialty | None:
    """The room's specialty `word` names (id or alias, `#`, case and accents optional)."""
    found, _ = match_specialties([word], room_specialties(ctx))
    return next((s for s in room_specialties(ctx) if s.id == found[0]), None) if found else None


@dataclass(frozen=True, slots=True)
class SpecialtyArg(Arg):
    """One word naming a specialty of the room, converted to its `Specialty`.

    A word naming none refuses the command with the string `unknown` (given `name`, the
    word, and `prefix`), which points to `!specialties` rather than to a usage line.
    """

    unknown: str = "specialties.unknown"

    def convert(self, raw: str, ctx: Context) -> Specialty:
        found = find_specialty(ctx, raw)
        if found is None:
            raise Refusal(ctx.t(self.unknown, name=echo(raw), prefix=ctx.prefix))
        return found


@dataclass(frozen=True, slots=True)
class SpecialtiesConfig:
    defaults: tuple[dict[str, Any], ...] | None = None
    """A replacement for the shipped set (same fields as defaults.yaml); None keeps it."""
    rooms: Mapping[str, Any] = field(default_factory=dict)
    """Per room (id `!…` or alias `#…`): `add` (specialties, replacing same ids), `remove`."""
    learn: str = "room"
    """What confirmed tags teach the tagger: each `room` its own model, one model `pooled`
    for all rooms, or `off` (plugins/specialties/learn.py)."""


class Specialties(Plugin):
    name = "specialties"
    help_section = "admin"
    Config = SpecialtiesConfig
    strings = STRINGS
    migrations = (*MIGRATIONS, *LESSON_MIGRATIONS)

    def __init__(self, bot: Any, config: SpecialtiesConfig) -> None:
        super().__init__(bot, config)
        self.defaults, self._configured = self._sets(config)
        self.store = RoomSpecialtyStore(bot.db)
        self._cache: dict[tuple[str, str | None], RoomSet] = {}
        self.lessons = Lessons(bot.db, config.learn)

    @staticmethod
    def _sets(config: SpecialtiesConfig
              ) -> tuple[tuple[Specialty, ...], dict[str, tuple[Specialty, ...]]]:
        """The default set and each configured room's set (ValueError naming the path)."""
        try:
            defaults = (specialties_from_data(list(config.defaults)) if config.defaults
                        else load_defaults())
        except ValueError as exc:
            raise ValueError(f"specialties.defaults: {exc}") from None
        return defaults, {key: yaml_override(defaults, value, f"specialties.rooms.{key}")
                          for key, value in config.rooms.items()}

    @classmethod
    def check(cls, config: SpecialtiesConfig) -> list[str]:
        if config.learn not in MODES:
            return [f"specialties.learn: expected one of {', '.join(MODES)}, "
                    f"got {config.learn!r}"]
        try:
            cls._sets(config)
        except ValueError as exc:
            return [str(exc)]
        return []

    async def start(self) -> None:
        await self.store.load()
        await self.lessons.load()
        # The default set's matcher (~40 ms), compiled now rather than on the first case: at
        # the bot's start this runs while the homeserver answers the first sync request.
        classify("", self.defaults)

    # ---- tagging, and what the room's choices teach it ----------------------------------------
    def tag(self, ctx: Context, key: str, text: str, max_tags: int) -> list[Tag]:
        """`classify` a case (`key`: its root event id) of the context's room with what the
        room learned; when that learning decided, the first evidence says so. The post's
        vocabulary words wait in memory for the room's confirmation (`confirmed`)."""
        tags = classify(text, self.for_room(ctx.room_id), max_tags,
                        learned=self.lessons.model(ctx.room_id))
        if tags and not tags[0].evidence[0].startswith("#"):
            self.lessons.expect(ctx.room_id, key, vocabulary_words(text),
                                tags[0].specialty_id if tags[0].confident else "")
        if tags and tags[0].learned:
            why = ctx.t("specialties.learned_why_pooled" if self.lessons.mode == "pooled"
                        else "specialties.learned_why", words=", ".join(tags[0].learned))
            rest = tuple(e for e in tags[0].evidence if e not in tags[0].learned)
            tags[0] = tags[0]._replace(evidence=(why, *rest))
        return tags

    async def confirmed(self, room_id: str, key: str, ids: Sequence[str]) -> None:
        """The room chose `ids` for its case `key` (a pick, `!tag`, a retag): learn from it."""
        await self.lessons.confirmed(room_id, key, ids)

    # ---- the room's set --------------------------------------------------------------------
    def room_set(self, room_id: str) -> RoomSet:
        """The room's set: the configured one (by room id, else alias; what `!specialty
        reset` returns to) with the room's own changes."""
        alias = self.bot.room(room_id).canonical_alias if self._configured else None
        key = (room_id, alias)
        found = self._cache.get(key)
        if found is None:
            base = self._configured.get(room_id)
            if base is None:
                base = self._configured.get(alias or "", self.defaults)
            found = self._cache[key] = apply(base, self.store.of(room_id))
        return found

    def for_room(self, room_id: str) -> tuple[Specialty, ...]:
        """The specialties cases of `room_id` are tagged with."""
        return self.room_set(room_id).active

    def label(self, room_id: str, specialty_id: str, lang: str) -> str:
        """A specialty's name in the room, marked when the room removed it."""
        room = self.room_set(room_id)
        for spec in room.active:
            if spec.id == specialty_id:
                return spec.name(lang)
        gone = room.removed.get(specialty_id)
        name = gone.name(lang) if gone else specialty_id
        return self.bot.catalog.t(lang, "specialties.removed_name", name=name)

    async def _save(self, room_id: str, specialty_id: str, change: Override) -> None:
        await self.store.put(room_id, specialty_id, change)
        self._forget(room_id)

    def _forget(self, room_id: str) -> None:
        for key in [k for k in self._cache if k[0] == room_id]:
            del self._cache[key]

    # ---- checks ------------------------------------------------------------------------------
    def _check_tags(self, ctx: Context, tags: list[str], owner: str) -> None:
        """Refuse unless the id/alias `tags` are hashtags naming no other specialty here."""
        for tag in tags:
            if not hashtag_key(tag) or not is_hashtag_body(tag):
                raise Refusal(ctx.t("specialties.bad_alias", alias=tag))
            for spec in self.for_room(ctx.room_id):
                if spec.id != owner and hashtag_key(tag) in {
                        hashtag_key(x) for x in (spec.id, *spec.aliases)}:
                    raise Refusal(ctx.t("specialties.taken", tag=tag, other=spec.id))

    @staticmethod
    def _check_name(ctx: Context, name: str) -> None:
        if not name.strip() or len(name) > MAX_NAME:
            raise Refusal(ctx.t("specialties.bad_name", max=MAX_NAME))

    async def _removed(self, ctx: Context, specialty: Specialty) -> list[tuple[Part, ...]]:
        """Tell the features that keep something per specialty; the lines they return."""
        return [line for lines in await ctx.ask(SpecialtyRemoved(ctx.room_id, specialty))
                for line in lines]

    # ---- commands ------------------------------------------------------------------------------
    @command("specialties", "specialites", summary="specialties.list.summary")
    async def list_specialties(self, ctx: Context) -> None:
        room = self.room_set(ctx.room_id)
        figures: dict[str, list[str]] = {}
        for found in await ctx.ask(SpecialtyFigures(ctx.room_id)):
            for sid, items in found.items():
                figures.setdefault(sid, []).extend(items)
        lines: list[tuple[Part, ...]] = [(Bold(ctx.t("specialties.list.header",
                                                     count=len(room.active))),)]
        for spec in room.active:
            parts = [ctx.t("specialties.list.keywords", count=len(spec.all_keywords)),
                     *figures.get(spec.id, [])]
            if spec.aliases:
                parts.insert(0, ctx.t("specialties.list.aliases", aliases=", ".join(
                    f"#{a}" for a in spec.aliases)))
            if spec.id in room.changed:
                parts.append(ctx.t("specialties.list.changed"))
            lines.append((f"#{spec.id} — {spec.name(ctx.lang)} · " + " · ".join(parts),))
        if room.removed:
            lines.append((ctx.t("specialties.list.removed", ids=", ".join(
                f"#{sid}" for sid in room.removed)),))
        lines.append((ctx.t("specialties.list.footer", prefix=ctx.prefix),))
        await ctx.reply(Rich(tuple(lines)))

    @command("specialty add", "specialite ajouter",
             args=(Arg("id"), Arg("name"), Many("aliases", optional=True)),
             summary="specialties.add.summary", admin=True)
    async def add(self, ctx: Context, id: str, name: str, aliases: list[str]) -> None:
        sid = id.lstrip("#").lower()
        if not is_valid_id(sid) or len(sid) > 30:
            raise Refusal(ctx.t("specialties.bad_id", id=id))
        if any(spec.id == sid for spec in self.for_room(ctx.room_id)):
            raise Refusal(ctx.t("specialties.exists", id=sid, prefix=ctx.prefix))
        tags = [a.lstrip("#") for a in aliases]
        self._check_name(ctx, name)
        self._check_tags(ctx, [sid, *tags], sid)
        before = self.store.of(ctx.room_id).get(sid, Override())
        await self._save(ctx.room_id, sid, dataclasses.replace(
            before, removed=False, name=name.strip(), aliases=tuple(tags)))
        await ctx.announce(fill(ctx.t("specialties.added"), id=sid, name=name.strip(),
                                prefix=ctx.prefix, who=ctx.pill()),
                           f"specialty add {sid}")

    @command("specialty remove", "specialite retirer", args=(SpecialtyArg("id"),),
             summary="specialties.remove.summary", admin=True)
    async def remove(self, ctx: Context, id: Specialty) -> None:
        before = self.store.of(ctx.room_id).get(id.id, Override())
        await self._save(ctx.room_id, id.id, dataclasses.replace(before, removed=True))
        lines: list[tuple[Part, ...]] = [fill(ctx.t("specialties.removed"), id=id.id,
                                              name=id.name(ctx.lang), who=ctx.pill())]
        lines.extend(await self._removed(ctx, id))
        lines.append((ctx.t("specialties.undo", prefix=ctx.prefix, id=id.id),))
        await ctx.announce(Rich(tuple(lines)), f"specialty remove {id.id}")

    @command("specialty rename", "specialite renommer", args=(SpecialtyArg("id"), Arg("name")),
             summary="specialties.rename.summary", admin=True)
    async def rename(self, ctx: Context, id: Specialty, name: str) -> None:
        self._check_name(ctx, name)
        before = self.store.of(ctx.room_id).get(id.id, Override())
        await self._save(ctx.room_id, id.id, dataclasses.replace(before, name=name.strip()))
        await ctx.announce(fill(ctx.t("specialties.renamed"), id=id.id,
                                old=id.name(ctx.lang), new=name.strip(), who=ctx.pill()),
                           f"specialty rename {id.id}")

    @staticmethod
    async def _admin_to_change(ctx: Context, values: dict[str, Any]) -> None:
        """Listing a specialty's keywords is for everyone, changing them for room admins."""
        if values["action"] is not None:
            ctx.check_admin()

    @command("specialty keywords", "specialite motscles", "specialite mots-cles",
             args=(SpecialtyArg("id"), Choice("action", optional=True,
                                              choices=("add", "remove", "ajouter", "retirer")),
                   Many("words", optional=True)),
             summary="specialties.keywords.summary", checks=(_admin_to_change,))
    async def keywords(self, ctx: Context, id: Specialty, action: str | None,
                       words: list[str]) -> None:
        spec = id
        if action is None:
            await ctx.reply(ctx.t("specialties.keywords.list", id=spec.id,
                                  words=", ".join(spec.all_keywords) or "—"))
            return
        if not words:
            raise Refusal(ctx.t("usage", usage=f"{ctx.prefix}specialty keywords {spec.id} "
                                               f"{action} <{ctx.t('specialties.arg.words')}>…"))
        bad = [w for w in words if not normalize(w) or len(w) > MAX_KEYWORD]
        if bad:
            raise Refusal(ctx.t("specialties.bad_keyword", word=bad[0], max=MAX_KEYWORD))
        have = {normalize(k) for k in spec.all_keywords}
        before = self.store.of(ctx.room_id).get(spec.id, Override())
        if action in ("add", "ajouter"):
            changed = [w for w in dict.fromkeys(words) if normalize(w) not in have]
            keep_dropped = {normalize(w) for w in changed}
            change = dataclasses.replace(
                before, keywords_added=(*before.keywords_added, *changed),
                keywords_removed=tuple(k for k in before.keywords_removed
                                       if normalize(k) not in keep_dropped))
            key = "specialties.keywords.added"
        else:
            changed = [w for w in dict.fromkeys(words) if normalize(w) in have]
            dropped = {normalize(w) for w in changed}
            change = dataclasses.replace(
                before, keywords_removed=(*before.keywords_removed, *changed),
                keywords_added=tuple(k for k in before.keywords_added
                                     if normalize(k) not in dropped))
            key = "specialties.keywords.removed"
        if not changed:
            raise Refusal(ctx.t("specialties.keywords.nothing", id=spec.id))
        await self._save(ctx.room_id, spec.id, change)
        await ctx.announce(fill(ctx.t(key), id=spec.id, count=len(changed),
                                words=", ".join(changed), who=ctx.pill()),
                           f"specialty keywords {spec.id}")

    @command("specialty reset", "specialite reinitialiser", summary="specialties.reset.summary",
             admin=True)
    async def reset(self, ctx: Context) -> None:
        if not self.store.of(ctx.room_id):
            raise Refusal(ctx.t("specialties.reset.nothing"))
        before = self.for_room(ctx.room_id)
        count = await self.store.reset(ctx.room_id)
        self._forget(ctx.room_id)
        kept = {spec.id for spec in self.for_room(ctx.room_id)}
        lines: list[tuple[Part, ...]] = [fill(ctx.t("specialties.reset"), count=count,
                                              who=ctx.pill())]
        for spec in before:
            if spec.id not in kept:
                lines.extend(await self._removed(ctx, spec))
        await ctx.announce(Rich(tuple(lines)), "specialty reset")

    # ---- what the room taught the tagger ------------------------------------------------------
    @command("tagger", summary="specialties.tagger.summary", admin=True)
    async def tagger(self, ctx: Context) -> None:
        """What the room's confirmed cases taught the tagger, per specialty."""
        model = self.lessons.model(ctx.room_id)
        if self.lessons.mode == "off":
            raise Refusal(ctx.t("specialties.tagger.off"))
        if model is None or not model.weights:
            await ctx.reply(ctx.t("specialties.tagger.empty", prefix=ctx.prefix))
            return
        lines: list[tuple[Part, ...]] = [(Bold(ctx.t(
            "specialties.tagger.header" if self.lessons.mode == "room"
            else "specialties.tagger.header_pooled")),)]
        for sid in model.specialties():
            lines.append((f"#{sid} — {self.label(ctx.room_id, sid, ctx.lang)} : "
                          + ", ".join(model.top_words(sid)),))
        lines.append((ctx.t("specialties.tagger.footer", prefix=ctx.prefix),))
        await ctx.reply(Rich(tuple(lines)))

    @command("tagger forget", "tagger oublier", args=(SpecialtyArg("id", optional=True),),
             summary="specialties.tagger_forget.summary", admin=True)
    async def tagger_forget(self, ctx: Context, id: Specialty | None) -> None:
        """Forget the room's lessons. A pooled model is every room's: the operator's to reset
        (by `specialties.learn: off`, or the table), not one room's admins'."""
        if self.lessons.mode == "off":
            raise Refusal(ctx.t("specialties.tagger.off"))
        if self.lessons.mode == "pooled":
            raise Refusal(ctx.t("specialties.tagger.pooled_forget"))
        await self.lessons.forget(ctx.room_id, id.id if id else None)
        if id is None:
            await ctx.announce(fill(ctx.t("specialties.tagger.forgot_all"), who=ctx.pill()),
                               "tagger forget")
        else:
            await ctx.announce(fill(ctx.t("specialties.tagger.forgot"), id=id.id,
                                    who=ctx.pill()), f"tagger forget {id.id}")
