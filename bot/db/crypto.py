"""Encryption at rest for what people write: answers and jar slips (Fernet, rotatable).

Keys come from ENCRYPTION_KEYS (comma-separated, newest first: new rows use the first,
any of them reads old rows, `python -m bot rekey` rewrites old rows with the first).
With SQLite and no key configured, one is created beside the database file, readable
only by its owner; PostgreSQL deployments must configure one.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from sqlalchemy import Dialect, Text
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.types import TypeDecorator

from bot.config import Settings

log = logging.getLogger(__name__)
_TOKEN_PREFIX = "gAAAAA"  # every Fernet token starts so (version byte and timestamp)
_cipher: MultiFernet | None = None

ENCRYPTED_COLUMNS = (("answers", "text"), ("jar_slips", "text"))


class KeyProblem(ValueError):
    """No usable encryption key: the bot must not start."""


def configure(keys: list[str]) -> None:
    global _cipher
    try:
        _cipher = MultiFernet([Fernet(k.strip().encode()) for k in keys if k.strip()])
    except ValueError as exc:  # a malformed key, or none at all
        raise KeyProblem(
            "ENCRYPTION_KEYS must be Fernet keys (44 characters, URL-safe base64)"
        ) from exc


def cipher() -> MultiFernet:
    if _cipher is None:
        raise RuntimeError("encryption keys are not configured")
    return _cipher


def load_keys(settings: Settings) -> list[str]:
    """The configured keys, or SQLite's key file (created on first start)."""
    if settings.encryption_keys is not None:
        return settings.encryption_keys.get_secret_value().split(",")
    path = settings.sqlite_path
    if path is None:
        raise KeyProblem(
            "ENCRYPTION_KEYS is required with PostgreSQL (`python -m bot newkey` makes one)"
        )
    key_file = path.with_name(path.name + ".key")
    if not key_file.exists():
        _create_key_file(key_file)
    return [key_file.read_text().strip()]


def _create_key_file(key_file: Path) -> None:
    key_file.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(Fernet.generate_key().decode() + "\n")
    log.warning(
        "Created the encryption key for answers at %s. Keep it safe and back it up with the "
        "database: without it the stored answers cannot be read.",
        key_file.resolve(),
    )


class EncryptedText(TypeDecorator[str]):
    """Text stored as a Fernet token; plain text from before encryption still reads."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: Dialect) -> Any:
        return None if value is None else cipher().encrypt(value.encode()).decode()

    def process_result_value(self, value: Any, dialect: Dialect) -> str | None:
        if value is None or not str(value).startswith(_TOKEN_PREFIX):
            return value  # type: ignore[no-any-return]
        return cipher().decrypt(str(value).encode()).decode()


async def rekey(engine: AsyncEngine) -> int:
    """Rewrite every encrypted value with the newest key (and encrypt any plain text)."""
    changed = 0
    for table_name, column in ENCRYPTED_COLUMNS:
        table = sa.table(table_name, sa.column("id"), sa.column(column))
        async with engine.begin() as conn:
            rows = (await conn.execute(sa.select(table.c.id, table.c[column]))).all()
            for row_id, value in rows:
                if value is None:
                    continue
                try:
                    new = cipher().rotate(value.encode()).decode()
                except InvalidToken:
                    if str(value).startswith(_TOKEN_PREFIX):
                        raise  # encrypted with a key we were not given: stop, change nothing
                    new = cipher().encrypt(value.encode()).decode()
                await conn.execute(
                    sa.update(table).where(table.c.id == row_id).values({column: new})
                )
                changed += 1
    return changed
