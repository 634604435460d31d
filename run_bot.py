"""Composition root: reads config, wires store, core and adapters, runs them.

    python run_bot.py                 run the bot (console when no token is set)
    python run_bot.py validate FILE   check quiz packs, line-numbered errors
    python run_bot.py schema          print the pack JSON Schema
"""
from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import signal
import sys
from pathlib import Path

from bot import logsafe
from bot.core import Core
from bot.pacing import Pacer
from bot.packs import PackLibrary, load_pack_file
from bot.packs.schema import Pack
from bot.ports import StoreError
from storage.sqlite import SqliteStore

HERE = Path(__file__).resolve().parent
DEFAULT_PACKS = HERE / "quizzes"
DEFAULT_DB = Path("data") / "bot.sqlite3"
DEFAULT_PACK_ID = "japan-ussr-1945"
TOKEN_NAMES = ("TELEGRAM_BOT_TOKEN", "DISCORD_BOT_TOKEN")

log = logging.getLogger("run_bot")


def read_secrets(path: str | None) -> dict[str, str]:
    """Tokens from the environment, or from a KEY=VALUE secrets file."""
    found = {name: os.environ[name] for name in TOKEN_NAMES if os.environ.get(name)}
    if path:
        for line in Path(path).read_text(encoding="utf-8").splitlines():
            key, sep, value = line.partition("=")
            if sep and key.strip() in TOKEN_NAMES and value.strip():
                found.setdefault(key.strip(), value.strip())
    return found


def cmd_validate(files: list[str]) -> int:
    failed = 0
    for name in files:
        result = load_pack_file(name)
        if result.report():
            print(result.report())
        if result.ok:
            p = result.pack
            print(f"{name}: ok: pack {p.id}, {len(p.questions)} questions, {len(p.events)} events, "
                  f"{len(p.discussions)} discussions, {len(result.warnings)} warning(s)")
        else:
            failed += 1
            print(f"{name}: {len(result.errors)} error(s); not loadable")
    return 1 if failed else 0


def cmd_schema(write: bool) -> int:
    text = json.dumps(Pack.model_json_schema(), indent=2, ensure_ascii=False) + "\n"
    if write:
        (DEFAULT_PACKS / "pack.schema.json").write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return 0


async def build_core(args) -> tuple[Core, SqliteStore]:
    store = await SqliteStore.open(args.db)
    packs = PackLibrary()
    packs.load_dir(args.packs)
    core = Core(store, packs, default_pack=DEFAULT_PACK_ID,
                question_seconds=args.question_seconds, pause_seconds=args.pause_seconds,
                discussion_hours=args.discussion_hours, grace_seconds=args.grace_minutes * 60,
                seed=args.seed)
    return core, store


async def run(args) -> int:
    tokens = read_secrets(args.secrets)
    try:
        core, store = await build_core(args)
    except StoreError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    try:
        if tokens:
            return await run_platforms(core, tokens)
        from adapters.console import ConsoleAdapter
        console = ConsoleAdapter(core, echo=not sys.stdin.isatty(),
                                 pictures=Path(args.db).parent / "pictures")
        await core.start()
        await console.run()
        return 0
    finally:
        await core.stop()
        await store.close()


async def run_platforms(core: Core, tokens: dict[str, str]) -> int:
    """Run every platform that has a token until SIGINT or SIGTERM."""
    for token in tokens.values():
        logsafe.hide(token)
    adapters = []
    if "TELEGRAM_BOT_TOKEN" in tokens:
        from adapters.telegram import TelegramAdapter, TelegramConfig
        config = TelegramConfig.from_env(tokens["TELEGRAM_BOT_TOKEN"], dict(os.environ))
        adapters.append(TelegramAdapter(core, config))
        # Telegram: about 30 messages a second overall and 20 a minute in a group.
        core.delivery.pace("telegram", Pacer(core.clock, per_second=30, per_chat_per_minute=20))
    if "DISCORD_BOT_TOKEN" in tokens:
        from adapters.discord import DiscordAdapter, DiscordConfig
        config = DiscordConfig.from_env(tokens["DISCORD_BOT_TOKEN"], dict(os.environ))
        adapters.append(DiscordAdapter(core, config))
        # Discord: 50 requests a second per bot, 5 messages per 5 seconds per channel.
        core.delivery.pace("discord", Pacer(core.clock, per_second=40, per_chat_per_minute=50))
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    started = []
    try:
        for adapter in adapters:
            await adapter.start()
            started.append(adapter)
        # After the adapters: closing rounds a crash left open posts to their chats.
        await core.start()
        print("ready: " + ", ".join(type(a).__name__ for a in started), file=sys.stderr, flush=True)
        await stop.wait()
        return 0
    finally:
        for adapter in reversed(started):
            await adapter.stop()


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="History quiz and discussion bot")
    sub = parser.add_subparsers(dest="command")
    runp = sub.add_parser("run", help="run the bot (the default)")
    validate = sub.add_parser("validate", help="check quiz pack files")
    validate.add_argument("files", nargs="+")
    schema = sub.add_parser("schema", help="print the quiz pack JSON Schema")
    schema.add_argument("--write", action="store_true", help="write quizzes/pack.schema.json")
    for p in (parser, runp):
        p.add_argument("--db", default=str(DEFAULT_DB), help="SQLite database file (default %(default)s)")
        p.add_argument("--packs", default=str(DEFAULT_PACKS), help="folder of quiz packs")
        p.add_argument("--seed", type=int, default=None, help="seed for drawing and shuffling")
        p.add_argument("--question-seconds", type=float, default=20.0,
                       help="default time each question stays open")
        p.add_argument("--pause-seconds", type=float, default=2.0, help="pause between questions")
        p.add_argument("--discussion-hours", type=float, default=24.0,
                       help="how long a discussion runs unless told (default %(default)s)")
        p.add_argument("--grace-minutes", type=float, default=60.0,
                       help="a schedule missed while down still runs if at most this late")
        p.add_argument("--secrets", default=os.environ.get("BOT_SECRETS_FILE"),
                       help="KEY=VALUE file with TELEGRAM_BOT_TOKEN / DISCORD_BOT_TOKEN")
        p.add_argument("--verbose", action="store_true")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if args.command == "validate":
        return cmd_validate(args.files)
    if args.command == "schema":
        return cmd_schema(args.write)
    logging.basicConfig(level=logging.INFO if getattr(args, "verbose", False) else logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # httpx logs every request URL at INFO; Telegram's contain the token (hidden
    # by logsafe all the same), and one line per poll is noise.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    try:
        return asyncio.run(run(args))
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
