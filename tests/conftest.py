import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.core import Core  # noqa: E402
from bot.packs import PackLibrary, load_pack_file  # noqa: E402
from storage.sqlite import SqliteStore  # noqa: E402
from tests.helpers import FakeClock, RecordingOutbox  # noqa: E402

DATA = ROOT / "tests" / "data"


@pytest.fixture
async def store(tmp_path):
    s = await SqliteStore.open(tmp_path / "bot.sqlite3")
    yield s
    await s.close()


@pytest.fixture
def clock():
    return FakeClock()


@pytest.fixture
def packs():
    library = PackLibrary()
    library.add(load_pack_file(DATA / "mini.yaml"))
    library.add(load_pack_file(DATA / "choices.yaml"))
    return library


@pytest.fixture
async def core(store, packs, clock):
    c = Core(store, packs, clock=clock, question_seconds=20, pause_seconds=0, seed=7,
             default_pack="mini")
    outbox = RecordingOutbox()
    c.delivery.register("test", outbox)
    c.outbox = outbox  # the tests read what was sent from here
    await c.start()
    # APScheduler runs on the real clock; tests fire schedules themselves on the fake one.
    c.schedules.scheduler.pause()
    yield c
    await c.stop()
