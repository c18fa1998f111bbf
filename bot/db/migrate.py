"""Alembic, driven from the bot: `python -m bot migrate`, and on start."""

from __future__ import annotations

from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.paths import migrations_dir


def alembic_config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(migrations_dir()))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


async def _run(engine: AsyncEngine, action: Any) -> Any:
    async with engine.begin() as conn:
        return await conn.run_sync(action)


async def upgrade(engine: AsyncEngine, revision: str = "head") -> None:
    await _run(engine, lambda c: command.upgrade(alembic_config(c), revision))


async def downgrade(engine: AsyncEngine, revision: str = "base") -> None:
    await _run(engine, lambda c: command.downgrade(alembic_config(c), revision))


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


async def current_revision(engine: AsyncEngine) -> str | None:
    return await _run(engine, lambda c: MigrationContext.configure(c).get_current_revision())  # type: ignore[no-any-return]
