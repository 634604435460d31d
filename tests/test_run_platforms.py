"""run_bot.py as a user starts it, with both tokens set and the platforms
pointed at the fakes: it answers on both, stops on SIGTERM, and logs no token."""
from __future__ import annotations

import asyncio
import os
import signal
import sys

from tests.conftest import ROOT
from tests.fake_discord import FakeDiscord, slash
from tests.fake_discord import user_json as discord_user
from tests.fake_telegram import FakeBotApi, message_update, user_json


async def test_run_bot_serves_telegram_and_discord_and_hides_the_tokens(tmp_path):
    telegram, discord = FakeBotApi(), FakeDiscord()
    await telegram.start()
    await discord.start()
    env = {**os.environ, "TELEGRAM_BOT_TOKEN": telegram.token,
           "TELEGRAM_API_BASE_URL": telegram.base_url, "DISCORD_BOT_TOKEN": discord.token,
           "DISCORD_API_BASE_URL": discord.base_url, "DISCORD_GATEWAY_URL": discord.gateway_url}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, str(ROOT / "run_bot.py"), "--db", str(tmp_path / "bot.sqlite3"),
        "--verbose", env=env, cwd=tmp_path,
        stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE)
    seen = []
    try:
        while not any("ready:" in line for line in seen):  # both adapters have started
            line = await asyncio.wait_for(proc.stderr.readline(), timeout=30)
            assert line, "the bot exited before it was ready: " + "".join(seen)
            seen.append(line.decode())
        telegram.push(message_update(-100, user_json(1, "Alice"), "/packs"))
        await wait_for(lambda: telegram.sent_texts())
        assert "japan-ussr-1945" in telegram.sent_texts()[0]
        interaction = slash("packs", discord_user(2, "Bob"))
        await discord.dispatch("INTERACTION_CREATE", interaction)
        await wait_for(lambda: discord.callbacks())
        assert "japan-ussr-1945" in discord.callbacks()[0]["data"]["embeds"][0]["description"]
        proc.send_signal(signal.SIGTERM)
        out, err = await asyncio.wait_for(proc.communicate(), timeout=20)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
        await telegram.stop()
        await discord.stop()
    log = "".join(seen) + (out + err).decode()
    assert proc.returncode == 0, log
    assert "ready: TelegramAdapter, DiscordAdapter" in log
    for token in (telegram.token, discord.token):
        assert token not in log
    assert telegram.token.split(":")[1] not in log


async def wait_for(condition, timeout: float = 30) -> None:
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while not condition():
        assert loop.time() < end, "the bot did not get there in time"
        await asyncio.sleep(0.02)
