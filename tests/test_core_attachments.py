"""Encrypted attachments and direct rooms through the core, on the fake transport."""

from __future__ import annotations

from bot.plugin import Context, Plugin, command
from bot.testing import Harness

ALICE = "@alice:test"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 40


class Files(Plugin):
    name = "files"

    @command("picture")
    async def picture(self, ctx: Context) -> None:
        await ctx.send_file(PNG, "chart.png", "image/png", image_size=(640, 480))

    @command("mine")
    async def mine(self, ctx: Context) -> None:
        direct = await ctx.direct()
        await direct.send_file(b"a;b\n", "log.csv", "text/csv")


async def test_an_image_answers_the_command_encrypted() -> None:
    async with Harness([Files]) as h:
        h.add_room(members=[ALICE])
        root = await h.say(ALICE, "!picture")
        sent = h.last()
        assert sent.reply_to == root and sent.room_id == "!room:test"
        assert sent.content["msgtype"] == "m.image"
        assert sent.content["info"] == {"mimetype": "image/png", "size": len(PNG),
                                        "w": 640, "h": 480}
        assert "url" not in sent.content and sent.content["file"]["v"] == "v2"
        assert h.file(sent) == PNG
        assert [u.filename for u in h.transport.uploads] == ["chart.png"]


async def test_a_file_goes_to_the_members_direct_room_reused_until_they_leave() -> None:
    async with Harness([Files]) as h:
        h.add_room(members=[ALICE])
        await h.say(ALICE, "!mine")
        first = h.last()
        assert first.room_id != "!room:test" and first.thread_root is None
        assert first.content["msgtype"] == "m.file" and "w" not in first.content["info"]
        assert h.file(first) == b"a;b\n"
        await h.say(ALICE, "!mine")
        assert h.last().room_id == first.room_id
        await h.member(ALICE, "leave", room=first.room_id)
        await h.say(ALICE, "!mine")
        assert h.last().room_id not in (first.room_id, "!room:test")
