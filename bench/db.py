"""Databases for the benchmarks: a fresh SQLite file or the bench PostgreSQL database.

Rows are written in bulk with SQLAlchemy Core, straight into the bot's own tables (its
models and Alembic migrations), so the bot finds exactly what it would have made itself.
Never the test suite's `test` database: other people drop its schema while tests run.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import insert, text, update
from sqlalchemy.engine import make_url

from bot.content import Libraries
from bot.db.engine import Database, make_engine
from bot.db.migrate import upgrade
from bot.db.models import Couple, Delivery, Person, Round, RoundMessage
from bot.paths import content_dir
from bot.services.schedule import WEEKDAYS, reschedule, zone

DEFAULT_PG = "postgresql+asyncpg://postgres@127.0.0.1:5432/bench"
CHUNK = 5000
# Telegram ids of simulated people: 2 per couple, far from the fake server's own ids.
FIRST_USER = 500_000_000


def encryption_key() -> str:
    """One Fernet key for the whole run: the bot encrypts answers and jar slips at rest
    (bot/db/crypto.py), and with PostgreSQL it needs ENCRYPTION_KEYS. The bot processes
    get it in their environment; this process (which writes and reads rows) uses it too."""
    global _KEY
    if _KEY is None:
        from cryptography.fernet import Fernet

        _KEY = Fernet.generate_key().decode()
        try:
            from bot.db import crypto
        except ImportError:  # a bot without encryption at rest
            return _KEY
        crypto.configure([_KEY])
    return _KEY


_KEY: str | None = None


def sqlite_url(path: Path) -> str:
    return f"sqlite+aiosqlite:///{path}"


async def ensure_pg_database(url: str) -> None:
    """CREATE DATABASE for the benchmarks if it is missing (connecting to `postgres`)."""
    import asyncpg

    parsed = make_url(url)
    name = parsed.database
    if name in (None, "", "test"):
        raise SystemExit("refusing to benchmark on the test suite's database; use e.g. /bench")
    conn = await asyncpg.connect(
        host=parsed.host or "127.0.0.1",
        port=parsed.port or 5432,
        user=parsed.username or "postgres",
        password=parsed.password,
        database="postgres",
    )
    try:
        if not await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name):
            await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()


async def fresh(url: str) -> Database:
    """An empty database at the latest schema revision."""
    if url.startswith("sqlite"):
        _remove_sqlite(Path(url.split("///", 1)[1]))
    else:
        await ensure_pg_database(url)
        engine = make_engine(url)
        async with engine.begin() as conn:
            await conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            await conn.execute(text("CREATE SCHEMA public"))
        await engine.dispose()
    db = Database.from_url(url)
    await upgrade(db.engine)
    return db


def _remove_sqlite(path: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def _chunks(rows: Sequence[dict[str, Any]]) -> Iterable[Sequence[dict[str, Any]]]:
    for i in range(0, len(rows), CHUNK):
        yield rows[i : i + CHUNK]


async def _insert(db: Database, table: Any, rows: Sequence[dict[str, Any]]) -> None:
    for part in _chunks(rows):
        async with db.engine.begin() as conn:
            await conn.execute(insert(table), list(part))


def user_id(couple_no: int, partner: int) -> int:
    """Telegram id (and private chat id) of partner 0 or 1 of couple number 1..N."""
    return FIRST_USER + 2 * couple_no + partner


async def add_couples(
    db: Database,
    count: int,
    now: dt.datetime,
    zones: Sequence[tuple[str, dt.datetime]],
) -> None:
    """`count` paired couples: people 2i-1 and 2i make couple i.

    `zones` is cycled through: (IANA zone, the UTC minute the couple's evening falls on);
    each couple's evening time is that minute in their zone, and the bot's own
    `reschedule` sets next_evening_at (and the jar slot) as it would.
    """
    created = now - dt.timedelta(days=30)
    people = []
    for i in range(1, count + 1):
        for p in (0, 1):
            uid = user_id(i, p)
            people.append(
                {
                    "id": 2 * i - 1 + p,
                    "telegram_id": uid,
                    "chat_id": uid,
                    "first_name": ("Alex", "Sam")[p],
                    "language_code": "en",
                    "couple_id": None,
                    "created_at": created,
                }
            )
    await _insert(db, Person, people)
    del people
    # A jar day that is not today, so the fan-out is evening prompts only on any weekday.
    jar_day = WEEKDAYS[(now.weekday() + 3) % 7]
    couples = []
    for i in range(1, count + 1):
        name, due = zones[i % len(zones)]
        local = due.astimezone(zone(name))
        couple = Couple(timezone=name, evening_time=local.strftime("%H:%M"), jar_day=jar_day)
        reschedule(couple, due - dt.timedelta(seconds=1))  # the bot's own slot logic
        assert couple.next_evening_at == due, (name, couple.next_evening_at, due)
        couples.append(
            {
                "id": i,
                "person_a_id": 2 * i - 1,
                "person_b_id": 2 * i,
                "created_at": created,
                "ended_at": None,
                "timezone": name,
                "evening_time": couple.evening_time,
                "jar_day": jar_day,
                "paused_until": None,
                "next_evening_at": couple.next_evening_at,
                "next_jar_at": couple.next_jar_at,
            }
        )
    await _insert(db, Couple, couples)
    del couples
    async with db.engine.begin() as conn:
        await conn.execute(update(Person).values(couple_id=(Person.id + 1) // 2))
    await analyze(db)


async def open_rounds(db: Database, count: int, now: dt.datetime) -> dict[int, int]:
    """A /question round per couple, delivered to both partners; the question messages'
    ids are remembered as the bot would, so a reply to them is an answer.

    Returns the message id of the question in each chat (chat id -> message id).
    """
    libraries = Libraries.load(content_dir())
    items = libraries.for_language(None).items("questions")
    rounds, messages, question_msg = [], [], {}
    for i in range(1, count + 1):
        rounds.append(
            {
                "id": i,
                "couple_id": i,
                "source": "question",
                "item_id": items[i % len(items)].id,
                "created_at": now,
            }
        )
        for p in (0, 1):
            chat, message_id = user_id(i, p), 10 * i + p
            question_msg[chat] = message_id
            messages.append(
                {
                    "round_id": i,
                    "person_id": 2 * i - 1 + p,
                    "chat_id": chat,
                    "message_id": message_id,
                }
            )
    await _insert(db, Round, rounds)
    await _insert(db, RoundMessage, messages)
    await analyze(db)
    return question_msg


async def add_history(
    db: Database, count: int, zones: Sequence[tuple[str, dt.datetime]], days: int
) -> None:
    """`days` past evenings for each of couples 1..count (`zones` as for add_couples): an
    evening round a day, both deliveries sent. A bot with this many couples has been
    running for a while: its tables are not empty, and the planner knows it."""
    libraries = Libraries.load(content_dir())
    items = libraries.for_language(None).items("evening")
    round_id = 0
    rounds, deliveries = [], []
    for day in range(days, 0, -1):
        for i in range(1, count + 1):
            name, due = zones[i % len(zones)]
            at = due - dt.timedelta(days=day)
            round_id += 1
            rounds.append(
                {
                    "id": round_id,
                    "couple_id": i,
                    "source": "evening",
                    "item_id": items[(i + day) % len(items)].id,
                    "local_date": at.astimezone(zone(name)).date(),
                    "created_at": at,
                    "revealed_at": at + dt.timedelta(hours=1),
                }
            )
            for p in (0, 1):
                deliveries.append(
                    {
                        "round_id": round_id,
                        "person_id": 2 * i - 1 + p,
                        "status": "sent",
                        "attempts": 1,
                        "next_attempt_at": at,
                        "updated_at": at,
                    }
                )
    await _insert(db, Round, rounds)
    del rounds
    await _insert(db, Delivery, deliveries)
    del deliveries
    await analyze(db)


async def analyze(db: Database) -> None:
    """Fresh planner statistics (as autovacuum keeps them on a live database), and
    PostgreSQL's id sequences moved past the ids written here."""
    async with db.engine.begin() as conn:
        if db.dialect == "postgresql":
            for table in ("people", "couples", "rounds", "round_messages", "deliveries"):
                await conn.execute(
                    text(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                        f"(SELECT COALESCE(MAX(id), 0) + 1 FROM {table}), false)"
                    )
                )
        await conn.execute(text("ANALYZE"))


async def count(db: Database, sql: str) -> int:
    async with db.engine.connect() as conn:
        return int((await conn.execute(text(sql))).scalar() or 0)
