"""/pack load through the core: admins only, size-checked, all-or-nothing."""
from pathlib import Path

from bot.model import Attachment, Command, Document, Text
from tests.helpers import ADMIN, ALICE, CHAT

GOOD = (Path(__file__).parent / "data" / "mini.yaml").read_bytes()


def attach(data: bytes, name="pack.yaml", size=None):
    fetched = []

    async def fetch():
        fetched.append(True)
        return data
    return Attachment(name, len(data) if size is None else size, fetch), fetched


async def load(core, user, data, **kw):
    file, fetched = attach(data, **kw)
    return await core.handle(Command(CHAT, user, "pack", "load", file)), fetched


def body(replies):
    return "\n".join(r.body for r in replies if isinstance(r, Text))


async def test_admin_loads_and_replaces_a_pack(core):
    renamed = GOOD.replace(b"title: Mini pack", b"title: Mini pack v2")
    replies, _ = await load(core, ADMIN, renamed)
    assert "Pack mini replaced: 3 questions" in body(replies)
    assert core.packs.get("mini").title == "Mini pack v2"


async def test_broken_pack_reports_lines_and_changes_nothing(core):
    broken = GOOD.replace(b"answer: Moscow", b"answer: Paris").replace(b"prompt: In what", b"promt: In what")
    replies, _ = await load(core, ADMIN, broken, name="broken.yaml")
    text = body(replies)
    assert "broken.yaml was not loaded: 3 error(s)" in text
    assert "broken.yaml:9:5: question capital: the answer 'Paris' is not among the choices" in text
    assert "broken.yaml:18:5: question year: unknown key `promt` (did you mean `prompt`?)" in text
    assert "question year: missing field `prompt`" in text
    assert core.packs.get("mini").questions[0].answer == "Moscow"


async def test_long_report_comes_as_a_file(core):
    many = b"id: big\ntitle: Big\nquestions:\n" + b"".join(
        b"  - id: q%d\n    kind: choice\n    prompt: P%d\n    choices: [A]\n    answer: A\n"
        b"    explanation: x\n    source: y\n" % (i, i) for i in range(30))
    replies, _ = await load(core, ADMIN, many, name="big.yaml")
    assert "more in the file" in body(replies)
    doc = [r for r in replies if isinstance(r, Document)][0]
    assert doc.content.decode().count("needs 2 to 12 choices") == 30
    assert core.packs.get("big") is None


async def test_member_is_refused_and_file_never_fetched(core):
    replies, fetched = await load(core, ALICE, GOOD)
    assert "/pack is for admins only" in body(replies) and fetched == []


async def test_oversized_file_refused_before_download(core):
    replies, fetched = await load(core, ADMIN, GOOD, size=50 * 1024 * 1024)
    assert "Nothing was loaded" in body(replies) and fetched == []


async def test_load_without_a_file(core):
    replies = await core.handle(Command(CHAT, ADMIN, "pack", "load"))
    assert "Attach a YAML pack file" in body(replies)
