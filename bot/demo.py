"""`casebot demo`: a throwaway Synapse, the bot and two physicians in an encrypted room.

Everything lives in a temporary directory that is removed on exit. The transcript printed is
what a physician's client received and decrypted, threads indented under their case.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import secrets
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from bot.config import Config, Duration, MatrixConfig, Secrets
from bot.homeserver import LocalSynapse
from bot.loading import known_plugins
from bot.matrix import Seen, UserClient
from bot.service import serve

ROOM_NAME = "Cas cliniques (démo)"
DEMO_PASSWORD = "demo-casebot"
DOCTORS = (("dr.martin", "Dr Claire Martin"), ("dr.benali", "Dr Karim Benali"))
AVATAR_COLOURS = ((0x2E, 0x7D, 0x6B), (0x8E, 0x44, 0xAD))
"""One per physician: Element draws every "Dr …" with the same grey "D" otherwise."""


def avatar_png(name: str, colour: tuple[int, int, int], size: int = 96) -> bytes:
    """A small avatar made at demo time: the initials of `name` (without "Dr") in white on a
    coloured disc, as PNG."""
    from PIL import Image, ImageDraw, ImageFont

    initials = "".join(w[0] for w in name.removeprefix("Dr ").split()[:2]).upper()
    image = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    draw.ellipse((0, 0, size - 1, size - 1), fill=(*colour, 255))
    font = ImageFont.load_default(size=size * 2 // 5)
    draw.text((size / 2, size / 2), initials, font=font, fill="white", anchor="mm")
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


class Demo:
    """The demo's homeserver accounts, bot and scripted physicians.

    Each physician's nio device is cross-signed and the account gets secret storage and a key
    backup, exactly what a new Element device looks for: typing the printed recovery key into
    Element's "Confirm your identity" verifies the new device (no "unverified sessions"
    warning) and lets it download the keys of the scripted exchange from the backup (Element
    Web sends no room-key requests, so the backup is the only way it can read that history).
    The scripted devices also answer key requests from their user's cross-signed devices,
    for clients that do ask.
    """

    def __init__(self, base: Path, hs: LocalSynapse, suffix: str = "") -> None:
        self.base = base
        self.hs = hs
        self.suffix = suffix
        self.names: dict[str, str] = {}
        self.recovery_keys: dict[str, str] = {}
        self.clients: list[UserClient] = []
        self.bot_id = ""
        self.room_id = ""
        self._stop = asyncio.Event()
        self._bot_task: asyncio.Task[None] | None = None

    def localpart(self, name: str) -> str:
        return f"{name}{self.suffix}"

    async def setup(self) -> tuple[UserClient, UserClient]:
        self.bot_id = self.hs.register(self.localpart("casebot"), DEMO_PASSWORD)
        self.names[self.bot_id] = "casebot"
        for (localpart, name), colour in zip(DOCTORS, AVATAR_COLOURS, strict=True):
            user_id = self.hs.register(self.localpart(localpart), DEMO_PASSWORD)
            client = UserClient(self.hs.url, user_id, DEMO_PASSWORD, self.base / localpart,
                                share_with_own_devices=True)
            self.clients.append(client)
            await client.start()
            assert client.client is not None
            await client.client.set_displayname(name)
            await client.set_avatar(avatar_png(name, colour))
            await client.cross_sign()
            self.recovery_keys[user_id] = await client.set_up_recovery()
            self.names[user_id] = name
        return self.clients[0], self.clients[1]

    def bot_config(self) -> tuple[Config, Secrets]:
        matrix = MatrixConfig(homeserver=self.hs.url, user_id=self.bot_id,
                              allowed_inviters=("@*:localhost",), sync_timeout=Duration(5))
        config = Config(matrix=matrix, data_dir=self.base / "bot")
        return config, Secrets(password=DEMO_PASSWORD, pickle_key=secrets.token_urlsafe(24))

    async def start(self) -> tuple[UserClient, UserClient]:
        """Physicians, the bot (running until :meth:`close`) and the encrypted room."""
        martin, benali = await self.setup()
        config, secret = self.bot_config()
        ready = asyncio.Event()
        self._bot_task = asyncio.create_task(serve(config, secret, stop=self._stop, ready=ready))
        waiter = asyncio.create_task(ready.wait())
        await asyncio.wait({self._bot_task, waiter}, return_when=asyncio.FIRST_COMPLETED)
        if self._bot_task.done():
            waiter.cancel()
            self._bot_task.result()
        await self.open_room(martin, benali)
        return martin, benali

    async def back_up(self) -> None:
        """Upload every room key the scripted devices hold to their accounts' backups."""
        for client in self.clients:
            await client.back_up_room_keys()

    async def stopped(self) -> None:
        """Until the bot is told to stop: its own SIGINT/SIGTERM handler sets the event."""
        await self._stop.wait()

    async def close(self) -> None:
        self._stop.set()
        if self._bot_task is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._bot_task, timeout=20)
        for client in self.clients:
            await client.close()

    async def open_room(self, martin: UserClient, benali: UserClient) -> None:
        self.room_id = await martin.create_room(
            ROOM_NAME, invite=[self.bot_id, benali.user_id], encrypted=True)
        await martin.wait_joined(self.room_id, self.bot_id)
        await benali.wait_joined(self.room_id, benali.user_id)
        await martin.wait_joined(self.room_id, benali.user_id)

    async def bot_answer(self, client: UserClient, root: str, count: int = 1,
                         containing: str = "") -> None:
        """Wait until the bot posted `count` messages answering `root` (in its thread, or
        replies to it), `containing` that text."""
        def enough(_: Seen) -> bool:
            return sum(1 for e in client.seen if e.sender == self.bot_id
                       and e.answer_to == root and containing in e.body) >= count
        await client.wait_for(enough, timeout=30)

    async def play(self, martin: UserClient, benali: UserClient) -> None:
        """The scripted exchange; it uses whatever features are loaded."""
        root = await martin.say(self.room_id, "!help")
        await self.bot_answer(benali, root)
        if "cases" not in known_plugins():
            return
        if "volunteers" in known_plugins():  # Dr Benali is paged for Dr Martin's case
            enlisted = await benali.say(self.room_id, "!volunteer dermato")
            await self.bot_answer(benali, enlisted)
        case = await martin.say(
            self.room_id,
            "!case Femme 45 ans, plaques érythémato-squameuses des coudes et genoux depuis "
            "2 mois, prurit modéré, pas d'atcd. Dermocorticoïdes sans effet. Psoriasis ? "
            "Quel traitement en 1re intention ?")
        await self.bot_answer(benali, case)
        answer = await benali.say(
            self.room_id, "Tableau typique de psoriasis en plaques. Dermocorticoïde classe "
            "forte + analogue de la vitamine D, réévaluer à 4 semaines.", thread_root=case)
        await asyncio.sleep(0.5)
        await martin.react(self.room_id, answer, "\u2705\ufe0f")  # Element Web's ✅
        await self.bot_answer(benali, case, containing="Cas #1 résolu")
        # A case the tagger is unsure of: the card proposes, Dr Martin picks with a reaction.
        unsure = await martin.say(
            self.room_id,
            "!case Dyspnée d'effort chez une femme de 70 ans, BNP à 450, œdèmes des chevilles. "
            "Échographie cardiaque ou EFR d'abord ?")
        await self.bot_answer(benali, unsure)
        card = next(e for e in benali.seen if e.sender == self.bot_id
                    and e.thread_root == unsure)
        await asyncio.sleep(0.5)
        await martin.react(self.room_id, card.event_id, "2\ufe0f\u20e3")  # as Element sends
        await self.bot_answer(benali, unsure, containing="Cas #2 :")
        listing = await benali.say(self.room_id, "!cases")
        await self.bot_answer(benali, listing)

    def transcript(self, client: UserClient) -> str:
        """The room as the client decrypted it: threads under their root, replies marked,
        edits applied."""
        events = [e for e in client.seen if e.room_id == self.room_id]
        messages = [e for e in events if e.type == "m.room.message"
                    and e.relation.get("rel_type") != "m.replace"]
        edits = {e.relation["event_id"]: e.content.get("m.new_content", {})
                 for e in events if e.relation.get("rel_type") == "m.replace"}
        reactions = [e for e in events if e.type == "m.reaction"]
        lines: list[str] = [f"— {ROOM_NAME} (chiffré de bout en bout), vu par "
                            f"{self.names[client.user_id]} —"]
        top = [m for m in messages if m.thread_root is None]
        for msg in top:  # a bot's reply to a command sits under it
            lines.extend(self._render(msg, edits, reactions, "  ↪ " if msg.answer_to else ""))
            for reply in (m for m in messages if m.thread_root == msg.event_id):
                lines.extend(self._render(reply, edits, reactions, "    ↳ "))
        return "\n".join(lines)

    def _render(self, msg: Seen, edits: dict[str, dict[str, object]],
                reactions: list[Seen], indent: str) -> list[str]:
        body = str(edits.get(msg.event_id, {}).get("body", msg.body))
        who = self.names.get(msg.sender, msg.sender)
        lock = "" if msg.decrypted else " [non déchiffré]"
        text = body.replace("\n", "\n" + " " * len(indent) + "  ")
        out = [f"{indent}{who}{lock} : {text}"]
        keys = [r.relation.get("key") for r in reactions
                if r.relation.get("event_id") == msg.event_id]
        if keys:
            out.append(f"{indent}  (réactions : {' '.join(str(k) for k in keys)})")
        return out


def instructions(demo: Demo) -> list[str]:
    """How to read the demo from Element, and what Element shows at first login."""
    lines = [
        "",
        "La démo tourne. Pour la voir dans Element (Element Web ou Desktop) :",
        "  1. « Se connecter », serveur d’accueil « Modifier » → " + demo.hs.url,
        "  2. identifiant et mot de passe de l’un des médecins :",
    ]
    for localpart, name in DOCTORS:
        user_id = next(u for u, n in demo.names.items() if n == name)
        lines.append(f"       {name} : {demo.localpart(localpart)} / {DEMO_PASSWORD}")
        lines.append(f"         clé de récupération : {demo.recovery_keys[user_id]}")
    lines += [
        "  3. Element demande « Confirmez votre identité » : choisissez",
        "     « Utiliser la clé de récupération » et collez la clé du médecin. (Pas « Utiliser",
        "     un autre appareil » : les sessions scriptées de la démo ne répondent pas à une",
        "     vérification interactive.)",
        "  4. « Votre nouvel appareil est maintenant vérifié » → « Terminé ». Element télécharge",
        "     les clés de l’échange depuis la sauvegarde du compte : le salon",
        f"     « {ROOM_NAME} » se lit en clair, fils de discussion compris.",
        "     Les messages antérieurs à votre connexion portent un bouclier gris (« l’authenticité",
        "     n’est pas garantie sur cet appareil ») : Element le met sur tout message dont la clé",
        "     vient de la sauvegarde. Ce que vous écrivez ensuite n’en a pas.",
        "  Aucune alerte « sessions non vérifiées » : les sessions de la démo sont signées par",
        "  leur propriétaire. Sans la clé, « Confirmation impossible ? » réinitialise l’identité",
        "  du compte : l’historique reste alors illisible sur ce nouvel appareil.",
        "Ctrl-C arrête le bot et Synapse et efface tout.",
    ]
    return lines


async def _main(script_only: bool, out: Callable[[str], None]) -> int:
    base = Path(tempfile.mkdtemp(prefix="casebot-demo-"))
    hs = LocalSynapse(base / "synapse")
    (base / "synapse").mkdir()
    demo = Demo(base, hs)
    try:
        out("Démarrage d’un Synapse local jetable…")
        await asyncio.to_thread(hs.start)
        martin, benali = await demo.start()
        started = time.monotonic()
        await demo.play(martin, benali)
        await asyncio.sleep(1)
        await demo.back_up()
        out(demo.transcript(benali))
        out(f"(échange joué en {time.monotonic() - started:.1f} s)")
        if script_only:
            return 0
        for line in instructions(demo):
            out(line)
        await demo.stopped()
        return 0
    finally:
        await demo.close()
        await asyncio.to_thread(hs.stop)
        shutil.rmtree(base, ignore_errors=True)


def main(script_only: bool = False) -> int:
    """Run the demo; Ctrl-C stops the bot and Synapse and removes the temporary directory."""
    def out(line: str) -> None:
        print(line, flush=True)
    try:
        return asyncio.run(_main(script_only, out))
    except KeyboardInterrupt:
        print("Démo arrêtée, fichiers temporaires effacés.", file=sys.stderr)
        return 0
