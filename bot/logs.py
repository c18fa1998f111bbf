"""Logs: one event a line on stderr, as text or JSON, with the update, couple and timing.

What people write (questions, answers, jar slips) is never passed to a logger; the
third-party loggers that would print it (python-telegram-bot's request and update dumps,
aiosqlite's statements) are held at INFO or above, whatever LOG_LEVEL says.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import sys
import time
from collections.abc import Awaitable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from types import MappingProxyType, TracebackType
from typing import TYPE_CHECKING, Any, TextIO

from telegram import Update
from telegram.ext import SimpleUpdateProcessor

if TYPE_CHECKING:
    from bot.config import Settings

# Extra fields an event may carry, in the order they are printed.
FIELDS = ("update_id", "couple_id", "duration_ms")

# Fields bound to the work in progress (the update being handled), added to its events.
_bound: ContextVar[Mapping[str, Any]] = ContextVar("log_fields", default=MappingProxyType({}))

# Loggers that print request parameters or whole updates below these levels.
_FLOORS = {
    "telegram": logging.INFO,
    "aiosqlite": logging.INFO,
    "sqlalchemy": logging.WARNING,
    "httpx": logging.WARNING,  # logs every request URL, and the URL holds the bot token
    "httpcore": logging.WARNING,
    "apscheduler": logging.WARNING,
    "alembic.runtime.plugins": logging.WARNING,
}


def bind(**fields: Any) -> None:
    """Add fields (such as couple_id) to every later event of the update being handled."""
    _bound.set({**_bound.get(), **fields})


@contextmanager
def bound(**fields: Any) -> Iterator[None]:
    """Add fields to every event logged inside the block (and tasks it starts)."""
    token = _bound.set({**_bound.get(), **fields})
    try:
        yield
    finally:
        _bound.reset(token)


class BoundFields(logging.Filter):
    """Adds the bound fields to each event that passes."""

    def filter(self, record: logging.LogRecord) -> bool:
        for name, value in _bound.get().items():
            if not hasattr(record, name):
                setattr(record, name, value)
        return True


def _fields(record: logging.LogRecord) -> dict[str, Any]:
    return {name: getattr(record, name) for name in FIELDS if hasattr(record, name)}


class JsonFormatter(logging.Formatter):
    """A JSON object a line: time, level, logger, message, and the fields present."""

    def format(self, record: logging.LogRecord) -> str:
        event: dict[str, Any] = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            **_fields(record),
        }
        if record.exc_info:
            event["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            event["stack"] = self.formatStack(record.stack_info)
        return json.dumps(event, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    """`time LEVEL logger: message key=value ...`, for people reading a terminal."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def formatMessage(self, record: logging.LogRecord) -> str:
        line = super().formatMessage(record)
        extra = " ".join(f"{name}={value}" for name, value in _fields(record).items())
        return f"{line} {extra}" if extra else line


class RedactingHandler(logging.StreamHandler[TextIO]):
    """Writes events to stderr, with the given secrets blanked out wherever they appear."""

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__(sys.stderr)
        self.secrets = [secret for secret in secrets if secret]

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        for secret in self.secrets:
            line = line.replace(secret, "<secret>")
        return line


def setup_logging(level: str, fmt: str = "text", secrets: Iterable[str] = ()) -> None:
    """Log to stderr as text or JSON; `secrets` (the bot token, ...) never get printed."""
    handler = RedactingHandler(secrets)
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    handler.addFilter(BoundFields())
    logging.basicConfig(level=level, handlers=[handler], force=True)
    hold_content_loggers(logging.getLogger().level)
    # Warnings and a crash are events too: through the handler, one line each.
    logging.captureWarnings(True)
    sys.excepthook = _log_crash


def hold_content_loggers(root_level: int = logging.NOTSET) -> None:
    """Keep the loggers that would print what people write at INFO or above."""
    for name, floor in _FLOORS.items():
        logging.getLogger(name).setLevel(max(root_level, floor))


def _log_crash(kind: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
    if issubclass(kind, KeyboardInterrupt):
        sys.__excepthook__(kind, exc, tb)
        return
    logging.getLogger("bot").critical("stopped by %s", kind.__name__, exc_info=(kind, exc, tb))


def setup_logging_for(settings: Settings) -> None:
    """Logging as the settings ask, never printing the bot token or the webhook secret."""
    secrets = [settings.telegram_bot_token.get_secret_value()]
    if settings.webhook_secret is not None:
        secrets.append(settings.webhook_secret.get_secret_value())
    setup_logging(settings.log_level, settings.log_format, secrets)


class TimedUpdates(SimpleUpdateProcessor):
    """Handles updates one at a time, as by default, and logs each with its id and timing.

    Every event logged while an update is handled carries its update_id.
    """

    __slots__ = ()

    def __init__(self) -> None:
        super().__init__(max_concurrent_updates=1)

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        update_id = update.update_id if isinstance(update, Update) else None
        started = time.perf_counter()
        with bound(update_id=update_id):
            try:
                await coroutine
            finally:
                duration_ms = round((time.perf_counter() - started) * 1000, 1)
                logging.getLogger("bot.updates").info(
                    "update handled", extra={"duration_ms": duration_ms}
                )
