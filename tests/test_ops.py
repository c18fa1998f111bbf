"""Operations: `python -m bot check`, and logs a machine can read and that keep secrets."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import secrets
import socket
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from bot.db.engine import make_engine
from bot.db.migrate import upgrade
from bot.logs import BoundFields, JsonFormatter, RedactingHandler, TextFormatter, bound
from tests.conftest import TEST_DATABASE_URL
from tests.fakegram import FakeBotAPIServer, FakeTelegram
from tests.process import BotProcess, eventually
from tests.support import TOKEN


@pytest.fixture
async def server() -> AsyncIterator[FakeBotAPIServer]:
    srv = FakeBotAPIServer(FakeTelegram())
    await srv.start()
    yield srv
    await srv.stop()


@pytest.fixture
async def empty_db_url(tmp_path: Path) -> AsyncIterator[str]:
    """A database with no schema: a fresh PostgreSQL database, or an empty SQLite file."""
    if not TEST_DATABASE_URL:
        path = tmp_path / "empty.sqlite3"
        path.touch()  # an empty file is an empty SQLite database
        yield f"sqlite+aiosqlite:///{path}"
        return
    name = f"check_{secrets.token_hex(4)}"
    admin = create_async_engine(TEST_DATABASE_URL, isolation_level="AUTOCOMMIT")
    async with admin.connect() as conn:
        await conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(TEST_DATABASE_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        async with admin.connect() as conn:
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await admin.dispose()


async def run_check(database_url: str, base_url: str, **env: str) -> tuple[int, list[str], str]:
    """`python -m bot check` as its own process: (exit status, stdout lines, stderr)."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "check",
        env={
            **os.environ, "TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_BASE_URL": base_url,
            "DATABASE_URL": database_url, **env,
        },
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode is not None
    return proc.returncode, out.decode().splitlines(), err.decode()


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port  # nothing listens there once the socket is closed


def status(lines: list[str]) -> dict[str, str]:
    return {line.split(":")[0]: line.split(":", 1)[1].split()[0] for line in lines}


async def test_check_passes_on_a_migrated_database(server: FakeBotAPIServer, db_url: str) -> None:
    code, lines, err = await run_check(db_url, server.base_url)
    assert code == 0, (lines, err)
    assert status(lines) == {"settings": "OK", "database": "OK", "schema": "OK", "telegram": "OK"}
    assert server.tg.calls("getMe")
    assert "TEST-token" not in "\n".join(lines) + err


async def test_check_fails_on_a_database_that_is_not_migrated(
    server: FakeBotAPIServer, empty_db_url: str
) -> None:
    code, lines, err = await run_check(empty_db_url, server.base_url)
    assert code == 1, (lines, err)
    assert status(lines) == {"settings": "OK", "database": "OK", "schema": "FAIL", "telegram": "OK"}
    schema = next(line for line in lines if line.startswith("schema:"))
    assert "not migrated" in schema and "python -m bot migrate" in schema


async def test_check_fails_on_a_schema_behind_the_latest(
    server: FakeBotAPIServer, empty_db_url: str
) -> None:
    engine = make_engine(empty_db_url)
    await upgrade(engine, "001")
    await engine.dispose()
    code, lines, _ = await run_check(empty_db_url, server.base_url)
    assert code == 1
    schema = next(line for line in lines if line.startswith("schema:"))
    assert "FAIL at 001, behind the latest" in schema


async def test_check_fails_when_telegram_does_not_answer(db_url: str) -> None:
    code, lines, err = await run_check(db_url, f"http://127.0.0.1:{closed_port()}/bot")
    assert code == 1, (lines, err)
    assert status(lines) == {"settings": "OK", "database": "OK", "schema": "OK", "telegram": "FAIL"}
    assert "TEST-token" not in "\n".join(lines)


async def test_check_reports_invalid_settings_and_skips_the_rest(tmp_path: Path) -> None:
    code, lines, _ = await run_check(
        f"sqlite+aiosqlite:///{tmp_path / 'x.db'}", "http://127.0.0.1:9/bot", EVENING_TIME="8pm"
    )
    assert code == 1
    assert lines[0].startswith("settings: FAIL EVENING_TIME is invalid")
    assert status(lines) == {
        "settings": "FAIL", "database": "SKIPPED", "schema": "SKIPPED", "telegram": "SKIPPED"
    }  # fmt: skip
    assert not (tmp_path / "x.db").exists()


async def test_json_logs_are_one_object_a_line_without_what_people_write(
    server: FakeBotAPIServer, tmp_path: Path
) -> None:
    tg = server.tg
    # DEBUG on purpose: even then, nobody's words reach the log.
    bot = BotProcess(server, tmp_path, LOG_FORMAT="json", LOG_LEVEL="DEBUG")
    await bot.start()
    try:
        alex = tg.person("Alex")
        start = alex.text("/start")
        tg.push(start)
        await eventually(lambda: alex.received("Hi Alex"), what="Alex's welcome")
        tg.push(alex.text("xyzzy, something only my partner should read"))
        await eventually(lambda: len(alex.inbox) >= 2, what="the reply to Alex's message")
    finally:
        assert await bot.stop() == 0, bot.log.read_text()
    lines = bot.log.read_text().splitlines()
    events = [json.loads(line) for line in lines]  # every line is one JSON object
    assert all({"time", "level", "logger", "message"} <= set(e) for e in events)
    handled = [e for e in events if e["message"] == "update handled"]
    assert any(e["update_id"] == start["update_id"] for e in handled)
    assert all(isinstance(e["duration_ms"], int | float) for e in handled)
    assert not any("xyzzy" in line or "TEST-token" in line for line in lines)


def record(**extra: object) -> logging.LogRecord:
    try:
        raise ValueError("boom")
    except ValueError:
        exc_info = sys.exc_info()
    rec = logging.LogRecord("bot.x", logging.ERROR, __file__, 1, "failed %s", ("once",), exc_info)
    rec.__dict__.update(extra)
    return rec


def test_json_formatter_keeps_an_event_with_its_traceback_on_one_line() -> None:
    line = JsonFormatter().format(record(couple_id=7, duration_ms=1.5))
    assert "\n" not in line
    event = json.loads(line)
    assert event["message"] == "failed once" and event["level"] == "ERROR"
    assert event["couple_id"] == 7 and event["duration_ms"] == 1.5
    assert "ValueError: boom" in event["exception"]


def test_fields_bound_to_the_work_in_progress_reach_its_events() -> None:
    handler = logging.StreamHandler()
    handler.addFilter(BoundFields())
    rec = record()
    with bound(update_id=42, couple_id=3):
        handler.filter(rec)
    assert "update_id=42 couple_id=3" in TextFormatter().format(rec)


def test_secrets_are_blanked_out_of_every_event() -> None:
    handler = RedactingHandler(["123:the-token", "hook-secret"])
    handler.setFormatter(JsonFormatter())
    rec = record()
    rec.msg, rec.args = "token %s rejected, secret %s", ("123:the-token", "hook-secret")
    line = handler.format(rec)
    assert "the-token" not in line and "hook-secret" not in line
    assert json.loads(line)["message"] == "token <secret> rejected, secret <secret>"
