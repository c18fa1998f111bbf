"""Webhook mode: `python -m bot --webhook` serves updates only to whoever knows the secret."""

from __future__ import annotations

import asyncio
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.fakegram import FakeBotAPIServer, FakeTelegram
from tests.process import BotProcess, eventually

SECRET = "Only-Telegram_knows-this-0123"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
PUBLIC = "https://bot.example.org"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class WebhookBot(BotProcess):
    """The bot as a process in webhook mode: ready once it has set its webhook."""

    def __init__(self, server: FakeBotAPIServer, workdir: Path, **env: str) -> None:
        self.port = free_port()
        super().__init__(
            server,
            workdir,
            WEBHOOK_URL=PUBLIC,
            WEBHOOK_LISTEN="127.0.0.1",
            WEBHOOK_PORT=str(self.port),
            WEBHOOK_PATH="hook",
            WEBHOOK_SECRET=SECRET,
            **env,
        )
        self.url = f"http://127.0.0.1:{self.port}/hook"

    async def start(self, *args: str) -> None:
        with self.log.open("ab") as log:
            self.proc = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot", *args, cwd=self.workdir, env=self.env,
                stdout=log, stderr=log,
            )  # fmt: skip
        await eventually(
            lambda: bool(self.server.tg.calls("setWebhook")) or self.exited,
            30,
            "the bot to set its webhook",
        )
        assert not self.exited, self.log.read_text()


async def post(
    http: aiohttp.ClientSession, url: str, update: dict[str, Any], secret: str | None = None
) -> int:
    headers = {SECRET_HEADER: secret} if secret is not None else {}
    async with http.post(url, json=update, headers=headers) as response:
        return response.status


async def until_listening(http: aiohttp.ClientSession, url: str, limit: float = 30) -> None:
    """The webhook is set just before the server listens: wait, bounded, for it to answer."""
    deadline = time.monotonic() + limit
    while True:
        try:
            async with http.get(url):
                return
        except aiohttp.ClientConnectionError:
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.05)


@pytest.fixture
async def server() -> AsyncIterator[FakeBotAPIServer]:
    srv = FakeBotAPIServer(FakeTelegram())
    await srv.start()
    yield srv
    await srv.stop()


async def test_webhook_serves_only_requests_with_the_secret(
    server: FakeBotAPIServer, tmp_path: Path
) -> None:
    tg = server.tg
    bot = WebhookBot(server, tmp_path)
    await bot.start("--webhook")
    try:
        webhook = tg.calls("setWebhook")[-1]
        assert webhook["url"] == f"{PUBLIC}/hook"
        assert webhook["secret_token"] == SECRET
        assert not tg.calls("getUpdates")  # no long polling alongside the webhook

        alex = tg.person("Alex")
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=20)) as http:
            await until_listening(http, bot.url)
            assert await post(http, bot.url, alex.text("/start")) == 403
            assert await post(http, bot.url, alex.text("/start"), "a-wrong-secret") == 403
            assert await post(http, bot.url, alex.text("/start"), SECRET) == 200
            await eventually(lambda: alex.received("Hi Alex"), what="Alex's welcome")
        # Updates are handled in order: had a refused one got through, it would be answered
        # before the accepted one.
        assert len(alex.inbox) == 1
    finally:
        assert await bot.stop() == 0, bot.log.read_text()
    log = bot.log.read_text()
    assert "webhook" in log and SECRET not in log and "TEST-token" not in log


async def test_run_sub_command_takes_the_flag_too(server: FakeBotAPIServer, tmp_path: Path) -> None:
    bot = WebhookBot(server, tmp_path, MIGRATE_ON_START="true")
    await bot.start("run", "--webhook")
    try:
        assert server.tg.calls("setWebhook")
    finally:
        assert await bot.stop() == 0, bot.log.read_text()


def run_webhook(env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", "--webhook"],
        env={"PATH": "/usr/bin:/bin", "HOME": str(cwd), "TELEGRAM_BOT_TOKEN": "1:x", **env},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    ("env", "name"),
    [
        ({"WEBHOOK_URL": PUBLIC}, "WEBHOOK_SECRET"),
        ({"WEBHOOK_URL": PUBLIC, "WEBHOOK_SECRET": ""}, "WEBHOOK_SECRET"),
        ({"WEBHOOK_URL": PUBLIC, "WEBHOOK_SECRET": "has spaces"}, "WEBHOOK_SECRET"),
        ({"WEBHOOK_URL": PUBLIC, "WEBHOOK_SECRET": "x" * 257}, "WEBHOOK_SECRET"),
        ({"WEBHOOK_SECRET": SECRET}, "WEBHOOK_URL"),
        ({"WEBHOOK_URL": "bot.example.org", "WEBHOOK_SECRET": SECRET}, "WEBHOOK_URL"),
    ],
)  # fmt: skip
def test_webhook_mode_without_a_valid_secret_and_url_does_not_start(
    env: dict[str, str], name: str, tmp_path: Path
) -> None:
    result = run_webhook(env, tmp_path)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and name in result.stderr, result.stderr
    assert result.stderr.startswith("Configuration error:")
    assert "has spaces" not in result.stderr and "x" * 257 not in result.stderr
    assert not (tmp_path / "twenty_minutes.sqlite3").exists()  # refused before any work
