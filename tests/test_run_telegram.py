"""run_bot.py as a user starts it, with TELEGRAM_BOT_TOKEN set and the Bot API
pointed at the fake server: it answers, stops on SIGTERM, and logs no token."""
from __future__ import annotations

import asyncio
import os
import signal
import sys

from tests.conftest import ROOT
from tests.fake_telegram import FakeBotApi, message_update, user_json
from tests.helpers import until


async def test_run_bot_serves_telegram_and_hides_the_token(tmp_path):
    api = FakeBotApi()
    await api.start()
    env = {**os.environ, "TELEGRAM_BOT_TOKEN": api.token, "TELEGRAM_API_BASE_URL": api.base_url}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, str(ROOT / "run_bot.py"), "--db", str(tmp_path / "bot.sqlite3"),
        "--verbose", env=env, cwd=tmp_path,
        stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE)
    try:
        await until(lambda: api.called("getUpdates"), timeout=30)
        api.push(message_update(-100, user_json(1, "Alice"), "/packs"))
        await until(lambda: api.sent_texts(), timeout=10)
        assert "japan-ussr-1945" in api.sent_texts()[0]
        proc.send_signal(signal.SIGTERM)
        out, err = await asyncio.wait_for(proc.communicate(), timeout=20)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
        await api.stop()
    log = (out + err).decode()
    assert proc.returncode == 0, log
    assert "ready: TelegramAdapter" in log and "running as @history_quiz_bot" in log
    assert api.token not in log
    secret_part = api.token.split(":")[1]
    assert secret_part not in log
