"""`python -m bot` as a real process against the fake Bot API over HTTP."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.fakegram import FakeBotAPIServer, FakeTelegram
from tests.process import BotProcess, eventually


@pytest.fixture
async def server() -> AsyncIterator[FakeBotAPIServer]:
    srv = FakeBotAPIServer(FakeTelegram())
    await srv.start()
    yield srv
    await srv.stop()


async def test_two_people_pair_through_a_running_bot(
    server: FakeBotAPIServer, tmp_path: Path
) -> None:
    tg = server.tg
    bot = BotProcess(server, tmp_path)
    await bot.start()
    try:
        assert (tmp_path / "bot.sqlite3").exists()  # created and migrated on first start
        alex, sam = tg.person("Alex"), tg.person("Sam")
        tg.push(alex.text("/pair"))
        await eventually(lambda: alex.received("start="), what="Alex's invite")
        code = alex.last["text"].split("start=")[1].split()[0]
        tg.push(sam.text(f"/start {code}"))
        await eventually(lambda: sam.received("paired with Alex"), what="Sam paired")
        await eventually(lambda: alex.received("paired with Sam"), what="Alex told")
        assert tg.calls("setMyCommands")
    finally:
        assert await bot.stop() == 0, bot.log.read_text()
    log = bot.log.read_text()
    assert "TEST-token" not in log  # the token never reaches the log


def run_bot(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_missing_or_bad_setting_is_one_line_and_exit_2(tmp_path: Path) -> None:
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    missing = run_bot(env=env, cwd=tmp_path)
    assert missing.returncode == 2
    assert (
        missing.stderr.strip() == "Configuration error: TELEGRAM_BOT_TOKEN is required but not set."
    )
    bad = run_bot(
        env={**env, "TELEGRAM_BOT_TOKEN": "1:x", "DEFAULT_TIMEZONE": "Mars/Olympus"}, cwd=tmp_path
    )
    assert bad.returncode == 2
    assert bad.stderr.count("\n") == 1 and "DEFAULT_TIMEZONE" in bad.stderr
    assert "Traceback" not in bad.stderr


def test_help_lists_subcommands(tmp_path: Path) -> None:
    result = run_bot("--help", env={"PATH": "/usr/bin:/bin"}, cwd=tmp_path)
    assert result.returncode == 0
    for command in ("run", "migrate"):
        assert command in result.stdout


def test_migrate_creates_the_schema(tmp_path: Path) -> None:
    env = {
        "PATH": "/usr/bin:/bin",
        "TELEGRAM_BOT_TOKEN": "1:x",
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'x.db'}",
    }
    result = run_bot("migrate", env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    import sqlite3

    tables = {
        r[0]
        for r in sqlite3.connect(tmp_path / "x.db").execute(
            "select name from sqlite_master where type='table'"
        )
    }
    assert {"people", "couples", "invites", "alembic_version"} <= tables
