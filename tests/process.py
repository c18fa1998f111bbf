"""The bot as a real process (`python -m bot`), talking HTTP to the fake Bot API server."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path

from tests.fakegram import FakeBotAPIServer
from tests.support import TOKEN


async def eventually(condition: Callable[[], bool], limit: float = 20.0, what: str = "") -> None:
    """Wait, bounded, for something another process does."""
    deadline = time.monotonic() + limit
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {limit}s waiting for {what or condition}")
        await asyncio.sleep(0.05)


class BotProcess:
    def __init__(self, server: FakeBotAPIServer, workdir: Path, **env: str) -> None:
        self.server, self.workdir = server, workdir
        self.env = {
            **os.environ,
            "TELEGRAM_BOT_TOKEN": TOKEN,
            "TELEGRAM_BASE_URL": server.base_url,
            "DATABASE_URL": f"sqlite+aiosqlite:///{workdir / 'bot.sqlite3'}",
            "LOG_LEVEL": "INFO",
            **env,
        }
        self.proc: asyncio.subprocess.Process | None = None
        self.log = workdir / "bot.log"

    async def start(self, *args: str) -> None:
        with self.log.open("ab") as log:
            self.proc = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "bot",
                *args,
                cwd=self.workdir,
                env=self.env,
                stdout=log,
                stderr=log,
            )
        await eventually(
            lambda: bool(self.server.tg.calls("getUpdates")) or self.exited, 30, "the bot to poll"
        )
        assert not self.exited, self.log.read_text()

    @property
    def exited(self) -> bool:
        return self.proc is not None and self.proc.returncode is not None

    async def stop(self, sig: int = signal.SIGTERM) -> int:
        assert self.proc is not None
        if self.proc.returncode is None:
            self.proc.send_signal(sig)
        try:
            return await asyncio.wait_for(self.proc.wait(), 20)
        except TimeoutError:
            self.proc.kill()
            return await self.proc.wait()
