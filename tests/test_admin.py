"""Room administration on the fake transport: specialties and settings by command, who may,
validation, announcements, and precedence (default < config.yaml < room)."""

from __future__ import annotations

import pytest

from bot.config import Config
from bot.testing import BOT, Harness
from plugins.cases import Cases
from plugins.secrecy.plugin import Secrecy
from plugins.specialties import Specialties
from plugins.volunteers import Volunteers

ADMIN = "@mod:test"
MEMBER = "@bob:test"
BOSS = "@boss:other"
ROOM = "!room:test"
PLUGINS = [Specialties, Cases, Secrecy, Volunteers]


def harness(**kwargs: object) -> Harness:
    return Harness(PLUGINS, **kwargs)  # type: ignore[arg-type]


@pytest.fixture
async def h():
    async with harness() as hh:
        hh.add_room(ROOM, members=[ADMIN, MEMBER], powers={ADMIN: 50, BOT: 100})
        yield hh


def announcements(h: Harness) -> list[str]:
    """The bot's notices posted in the main timeline (not in a thread)."""
    return [s.body for s in h.sent if s.content.get("m.relates_to") is None
            and s.event_type == "m.room.message"]


def card(h: Harness) -> str:
    """The body of the last case card the bot posted."""
    return next(s.body for s in reversed(h.sent) if s.body.startswith(("Cas #", "Case #")))


async def tagged(h: Harness, text: str, who: str = MEMBER) -> str:
    await h.say(who, text)
    row = await h.db.fetchone("SELECT specialties FROM cases ORDER BY rowid DESC LIMIT 1")
    return row["specialties"]


# ---- specialties -------------------------------------------------------------------------------
async def test_add_specialty_with_keywords_then_case_is_tagged(h: Harness) -> None:
    await h.say(ADMIN, '!specialty add sommeil "Médecine du sommeil" somno')
    assert announcements(h)[-1] == (
        "@mod:test a ajouté la spécialité #sommeil (Médecine du sommeil). "
        "Mots-clés : !specialty keywords sommeil add <mot>…")
    assert h.last().thread_root is None and h.last().mentions == []  # audit trail, no ping
    await h.say(ADMIN, '!specialty keywords sommeil add somnologie "réveils nocturnes"')
    assert "a ajouté 2 mot(s)-clé(s) à #sommeil : somnologie, réveils nocturnes" in (
        announcements(h)[-1])
    assert await tagged(h, "!case reveils nocturnes, somnologie prévue ?") == "sommeil"
    assert await tagged(h, "!case #somno question de mélatonine") == "sommeil"
    await h.say(MEMBER, "!specialties")
    listing = h.last().body
    assert ("#sommeil — Médecine du sommeil · alias #somno · 2 mot(s)-clé(s) · "
            "2 cas ouvert(s) · modifiée ici") in listing
    assert "Spécialités de ce salon (24)" in listing


async def test_member_is_refused_politely_and_nothing_changes(h: Harness) -> None:
    for command in ('!specialty add toxico "Addictologie"', "!specialty remove dermato",
                    '!specialty rename dermato "Peau"', "!specialty keywords dermato add x",
                    "!specialty reset", "!config set language en", "!config unset language"):
        await h.say(MEMBER, command)
        assert "seuls les membres de niveau 50 ou plus" in h.last().body, command
    assert await h.db.fetchval("SELECT COUNT(*) FROM room_specialties") == 0
    assert await h.db.fetchval("SELECT COUNT(*) FROM room_settings") == 0
    assert announcements(h) == []


async def test_bot_admin_may_whatever_their_power() -> None:
    async with harness(config=Config(admins=("@boss:*",))) as h:
        h.add_room(ROOM, members=[BOSS, MEMBER])
        await h.say(BOSS, "!specialty remove dermato")
        assert "a retiré la spécialité #dermato" in announcements(h)[-1]


async def test_admin_power_level_follows_the_room_setting(h: Harness) -> None:
    await h.say(ADMIN, "!config set admin_power_level 40")
    h.update_room(ROOM, power_users={ADMIN: 50, MEMBER: 40, BOT: 100})
    await h.say(MEMBER, '!specialty rename dermato "Peau"')
    assert "a renommé #dermato : Dermatologie → Peau" in announcements(h)[-1]


async def test_cannot_lock_oneself_out(h: Harness) -> None:
    await h.say(ADMIN, "!config set admin_power_level 100")
    assert "vous ne pourriez plus administrer" in h.last().body
    assert await h.db.fetchval("SELECT COUNT(*) FROM room_settings") == 0


async def test_remove_keeps_open_cases_readable(h: Harness) -> None:
    root = await h.say(MEMBER, "!case #dermato plaque du coude")
    await h.say(ADMIN, "!specialty remove dermato")
    text = announcements(h)[-1]
    assert "@mod:test a retiré la spécialité #dermato (Dermatologie)." in text
    assert "1 cas ouvert(s) gardent cette étiquette" in text
    await h.say(MEMBER, "!cases")
    assert "#1 · Dermatologie (retirée)" in h.last().body
    await h.say(MEMBER, "!case 1")
    assert "Dermatologie (retirée)" in h.last().body
    assert await tagged(h, "!case #dermato autre plaque") == ""
    await h.say(MEMBER, "!tag dermato", thread_root=root)
    assert "inconnue" in h.last().body.lower()
    await h.say(MEMBER, "!specialties")
    assert "Retirées : #dermato" in h.last().body


async def test_remove_tells_its_volunteers_once_and_unregisters_them(h: Harness) -> None:
    h.add_room(ROOM, members=[ADMIN, MEMBER, "@carol:test"], powers={ADMIN: 50, BOT: 100})
    await h.say(MEMBER, "!volunteer dermato")
    await h.say("@carol:test", "!volunteer dermato cardio")
    await h.say(MEMBER, "!specialties")
    assert "#dermato — Dermatologie · alias" in h.last().body
    assert "2 volontaire(s)" in h.last().body
    await h.say(ADMIN, "!specialty remove dermato")
    text = announcements(h)[-1]
    assert "@bob:test, @carol:test : vous n’êtes plus volontaires pour #dermato" in text
    assert sorted(h.last().mentions) == ["@bob:test", "@carol:test"]
    rows = await h.db.fetchall("SELECT user_id, specialty FROM volunteers ORDER BY user_id")
    assert [tuple(r) for r in rows] == [("@carol:test", "cardio")]
    await h.say(MEMBER, "!volunteer dermato")
    assert "dermato" in h.last().body and await h.db.fetchval(
        "SELECT COUNT(*) FROM volunteers WHERE user_id = ?", (MEMBER,)) == 0


async def test_rename_keeps_the_id(h: Harness) -> None:
    await h.say(MEMBER, "!case #dermato plaque")
    await h.say(ADMIN, '!specialty rename dermato "Peau et phanères"')
    await h.say(MEMBER, "!cases dermato")
    assert "#1 · Peau et phanères" in h.last().body
    assert await tagged(h, "!case #dermato eczéma") == "dermato"


async def test_add_checks_ids_names_and_hashtags(h: Harness) -> None:
    await h.say(ADMIN, '!specialty add Dérmato "X"')
    assert "ne convient pas comme id" in h.last().body
    await h.say(ADMIN, '!specialty add dermato "Dermato bis"')
    assert "existe déjà" in h.last().body
    await h.say(ADMIN, '!specialty add peau "Peau" dermatologie')
    assert "#dermatologie désigne déjà la spécialité #dermato" in h.last().body
    await h.say(ADMIN, '!specialty add peau "Peau" der-mato')
    assert "ne peut pas servir de hashtag" in h.last().body
    await h.say(ADMIN, "!specialty add peau")
    assert "Utilisation : !specialty add <id> <\"Nom\"> [alias…]" in h.last().body
    await h.say(ADMIN, '!specialty add peau "Peau')
    assert "guillemet non fermé" in h.last().body
    assert await h.db.fetchval("SELECT COUNT(*) FROM room_specialties") == 0


async def test_keywords_remove_and_list(h: Harness) -> None:
    await h.say(ADMIN, "!specialty keywords cardio remove palpitations")
    assert "a retiré 1 mot(s)-clé(s) de #cardio : palpitations" in announcements(h)[-1]
    assert await tagged(h, "!case palpitations depuis hier") != "cardio"
    await h.say(ADMIN, "!specialty keywords cardio remove palpitations")
    assert "Rien à changer pour #cardio" in h.last().body
    await h.say(MEMBER, "!specialty keywords cardio")
    assert "Mots-clés de #cardio :" in h.last().body
    assert "palpitations" not in h.last().body and "tachycardie" in h.last().body
    await h.say(ADMIN, "!specialty keywords cardio ajouter palpitations")
    assert await tagged(h, "!case palpitations depuis hier") == "cardio"


async def test_reset_returns_to_defaults(h: Harness) -> None:
    await h.say(ADMIN, '!specialty add toxico "Addictologie"')
    await h.say(ADMIN, "!specialty remove dermato")
    await h.say(ADMIN, "!specialty reset")
    assert "a rétabli les spécialités par défaut (2 modification(s)" in announcements(h)[-1]
    assert await tagged(h, "!case #dermato plaque") == "dermato"
    await h.say(ADMIN, "!specialty reset")
    assert "utilise déjà les spécialités par défaut" in h.last().body


async def test_subcommand_family_usage_and_help(h: Harness) -> None:
    await h.say(ADMIN, "!specialty")
    body = h.last().body
    assert "!specialty add <id>" in body and "!specialty remove <id>" in body
    await h.say(ADMIN, "!help specialty")
    assert "!specialty keywords <id> [add|remove|ajouter|retirer] [mot…]" in h.last().body
    await h.say(ADMIN, "!spécialité ajouter toxico Addictologie")
    assert "#toxico (Addictologie)" in announcements(h)[-1]


async def test_changes_survive_a_restart(tmp_path) -> None:
    db = tmp_path / "bot.db"
    async with harness(db_path=db) as h:
        h.add_room(ROOM, members=[ADMIN], powers={ADMIN: 50})
        await h.say(ADMIN, '!specialty add sommeil "Sommeil"')
        await h.say(ADMIN, "!specialty keywords sommeil add somnologie")
        await h.say(ADMIN, "!config set language en")
    async with harness(db_path=db) as h:
        h.add_room(ROOM, members=[ADMIN], powers={ADMIN: 50})
        await h.say(ADMIN, "!case somnologie ?")
        assert card(h).startswith("Case #1 · Sommeil · open")


async def test_yaml_room_override_then_room_changes_win() -> None:
    sections = {"specialties": {"rooms": {"#urgences:test": {
        "remove": ["dermato"],
        "add": [{"id": "sommeil", "name_fr": "Sommeil", "name_en": "Sleep medicine",
                 "keywords": ["somnologie"]}]}}}}
    async with harness(sections=sections) as h:
        h.add_room(ROOM, members=[ADMIN], powers={ADMIN: 50}, canonical_alias="#urgences:test")
        h.add_room("!other:test", members=[ADMIN], powers={ADMIN: 50})
        assert await tagged(h, "!case somnologie ?", ADMIN) == "sommeil"
        assert await tagged(h, "!case #dermato plaque", ADMIN) == ""
        await h.say(ADMIN, "!case #dermato plaque", room="!other:test")
        assert card(h).startswith("Cas #1 · Dermatologie")
        await h.say(ADMIN, '!specialty add dermato "Peau"')
        assert await tagged(h, "!case #dermato plaque", ADMIN) == "dermato"
        await h.say(ADMIN, "!specialty reset")
        assert await tagged(h, "!case #dermato plaque", ADMIN) == ""


async def test_bad_yaml_room_override_is_a_config_error() -> None:
    from bot.config import ConfigError

    with pytest.raises(ConfigError, match=r"specialties\.rooms\.!x:test\.remove: unknown"):
        async with harness(sections={"specialties": {"rooms": {"!x:test": {
                "remove": ["nope"]}}}}):
            pass


# ---- settings ----------------------------------------------------------------------------------
async def test_config_shows_values_and_sources() -> None:
    async with harness(sections={"cases": {"auto_close": "7d"}}) as h:
        h.add_room(ROOM, members=[ADMIN], powers={ADMIN: 50})
        await h.say(ADMIN, "!config set cases.unanswered_reminder 2h")
        await h.say(ADMIN, "!config")
        body = h.last().body
        assert "language = fr (par défaut)" in body
        assert "cases.auto_close = 7d (config.yaml)" in body
        assert "cases.unanswered_reminder = 2h (réglé dans ce salon)" in body
        assert "admin_power_level = 50 (par défaut)" in body
        assert "secrecy.mode = warn (par défaut)" in body


async def test_set_is_validated_with_localized_errors(h: Harness) -> None:
    cases = [
        ("!config set cases.auto_close demain", "une durée est attendue (ex. 30m, 4h, 14j)"),
        ("!config set resolve_power_level 500", "la valeur doit être entre 0 et 100"),
        ("!config set resolve_power_level beaucoup", "un nombre est attendu"),
        ("!config set language de", "choisir parmi fr, en"),
        ("!config set secrecy.mode strict", "choisir parmi warn, redact"),
        ("!config set timezone Mars/Olympus", "fuseau horaire inconnu « Mars/Olympus »"),
        ("!config set prefix_aliases abc", "un préfixe fait 1 à 3 signes"),
    ]
    for command, reason in cases:
        await h.say(ADMIN, command)
        body = h.last().body
        assert "Valeur refusée" in body and reason in body, (command, body)
        assert "Utilisation : !config set" in body
    await h.say(ADMIN, "!config set nope 3")
    assert "Réglage inconnu : « nope »" in h.last().body
    assert "volunteers.per_round" in h.last().body and "cases.auto_close" in h.last().body
    assert "list_limit" not in h.last().body  # not a room setting
    await h.say(ADMIN, "!config set language")
    assert "Utilisation : !config set <réglage> <valeur>" in h.last().body
    assert await h.db.fetchval("SELECT COUNT(*) FROM room_settings") == 0


async def test_room_value_wins_and_unset_falls_back_to_yaml() -> None:
    async with harness(sections={"cases": {"unanswered_reminder": "1h"}}) as h:
        h.add_room(ROOM, members=[ADMIN, MEMBER], powers={ADMIN: 50})
        await h.say(ADMIN, "!config set unanswered_reminder 30m")
        assert announcements(h)[-1] == (
            "@mod:test a réglé cases.unanswered_reminder sur 30m (avant : 1h).")
        await h.say(MEMBER, "!case #dermato plaque")
        assert await h.advance(1800 + 1) == 1
        await h.say(ADMIN, "!config unset cases.unanswered_reminder")
        assert "a rétabli cases.unanswered_reminder : 1h (config.yaml)" in announcements(h)[-1]
        await h.say(ADMIN, "!config unset cases.unanswered_reminder")
        assert "n’est pas réglé dans ce salon : 1h (config.yaml)" in h.last().body


async def test_language_and_prefix_aliases(h: Harness) -> None:
    await h.say(ADMIN, "!config set language en")
    assert announcements(h)[-1] == "@mod:test set language to en (was: fr)."
    await h.say(ADMIN, "!config set prefix_aliases ? //")
    await h.say(MEMBER, "?case #dermato plaque")
    assert card(h).startswith("Case #1 · Dermatology · open")
    await h.say(MEMBER, "//cases")
    assert "#1 · Dermatology" in h.last().body
    await h.say(MEMBER, "?specialty remove dermato")
    assert "only members with power level 50 or more" in h.last().body


async def test_secrecy_settings_by_room(h: Harness) -> None:
    await h.say(ADMIN, "!config set secrecy.rules_text Pas de nom, pas de photo de visage.")
    await h.say(MEMBER, "!rules")
    assert h.last().body == "Pas de nom, pas de photo de visage."
    await h.say(MEMBER, "!rules pin")
    assert "seuls les membres de niveau 50" in h.last().body


async def test_specialty_argument_names_one_of_the_room(h: Harness) -> None:
    for command in ("!specialty remove banane", '!specialty rename banane "Fruit"',
                    "!specialty keywords banane"):
        await h.say(ADMIN, command)
        assert h.last().body == ("Spécialité inconnue dans ce salon : « banane ». "
                                 "Liste : !specialties"), command
    await h.say(MEMBER, "!specialty keywords #Dermato")  # listing: everyone, alias or id
    assert h.last().body.startswith("Mots-clés de #dermato : ")
    await h.say(MEMBER, "!specialty keywords dermato add peau")
    assert "seuls les membres de niveau 50 ou plus" in h.last().body
    await h.say(ADMIN, "!help specialty remove")
    assert h.last().body.splitlines()[0] == "!specialty remove <id>"
