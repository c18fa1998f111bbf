"""The tests' fake Bot API (tests/fakegram.py), tuned for load, and one that enforces limits.

- `BenchTelegram` keeps nothing it does not need (no inboxes, only the last requests),
  honours getUpdates' `limit` (Telegram returns at most 100 updates a call), and tells a
  listener the instant it answers each message the bot sends.
- `LimitedTelegram` adds Telegram's flood limits to the sending methods: about 30
  messages a second overall and about one a second per chat, answered beyond that with
  HTTP 429 and `retry_after`, as Telegram does.

Both are served over real HTTP on 127.0.0.1 by the tests' `FakeBotAPIServer`.
"""

from __future__ import annotations

import collections
import itertools
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tests.fakegram import FakeBotAPIServer, FakeTelegram

__all__ = ["BenchTelegram", "Bucket", "FakeBotAPIServer", "LimitedTelegram"]

GET_UPDATES_LIMIT = 100  # Telegram's default and maximum for getUpdates
SENDING = ("send", "copy", "forward")  # methods that put a message in a chat


class BenchTelegram(FakeTelegram):
    """The fake Bot API without the bookkeeping scenario tests need."""

    def __post_init__(self) -> None:
        super().__post_init__()
        self.requests = collections.deque(maxlen=200)  # type: ignore[assignment]
        self.pending_updates = collections.deque()  # type: ignore[assignment]
        self.on_message: Callable[[int, float], None] | None = None
        self.messages = 0  # messages the bot sent (answered with ok)
        self.calls_by_method: collections.Counter[str] = collections.Counter()
        self.fetched_at: dict[int, float] = {}  # update_id -> first handed to the bot
        self.track_fetches = False
        self._message_ids = itertools.count(10_000_000)

    def handle(self, method: str, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        self.calls_by_method[method] += 1
        return super().handle(method, params)

    def _bot_message(self, chat_id: int, **content: Any) -> dict[str, Any]:
        message = {
            "message_id": next(self._message_ids),
            "date": int(time.time()),
            "chat": {"id": chat_id, "type": "private"},
            "from": self.bot_user,
            **{k: v for k, v in content.items() if v is not None and k != "reply_to_message"},
        }
        self.messages += 1
        if self.on_message is not None:
            self.on_message(chat_id, time.perf_counter())
        return message

    def _api_getUpdates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        offset = int(params.get("offset") or 0)
        limit = min(int(params.get("limit") or GET_UPDATES_LIMIT), GET_UPDATES_LIMIT)
        pending: collections.deque[dict[str, Any]] = self.pending_updates  # type: ignore[assignment]
        while pending and pending[0]["update_id"] < offset:
            pending.popleft()
        batch = list(itertools.islice(pending, limit))
        if self.track_fetches:
            now = time.perf_counter()
            for update in batch:
                self.fetched_at.setdefault(update["update_id"], now)
        return batch


class Bucket:
    """A token bucket: `rate` tokens a second, holding at most `burst`."""

    __slots__ = ("burst", "rate", "stamp", "tokens")

    def __init__(self, rate: float, burst: float, now: float) -> None:
        self.rate, self.burst, self.tokens, self.stamp = rate, burst, burst, now

    def take(self, now: float) -> float:
        """Take a token: 0.0 if there was one, else the seconds until there will be."""
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return 0.0
        return (1.0 - self.tokens) / self.rate


@dataclass
class Limits:
    overall_rate: float = 30.0  # messages a second, all chats together
    overall_burst: float = 30.0
    chat_rate: float = 1.0  # messages a second in one chat
    chat_burst: float = 3.0  # Telegram lets short bursts through, then answers 429


class LimitedTelegram(BenchTelegram):
    """Telegram's flood limits on the sending methods, answered with 429 and retry_after.

    A refused request takes no token (as with Telegram, a refused call is not a message).
    """

    def __init__(self, limits: Limits | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.limits = limits or Limits()
        start = time.monotonic()
        self.overall = Bucket(self.limits.overall_rate, self.limits.overall_burst, start)
        self.per_chat: dict[int, Bucket] = {}
        self.refused = 0  # 429s answered
        self.refused_overall = 0
        self.refused_chat = 0
        self.sent_at: list[float] = []  # perf_counter of every message let through

    def handle(self, method: str, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        chat_id = params.get("chat_id")
        if method.startswith(SENDING) and chat_id is not None and int(chat_id) not in self.blocked:
            wait = self._admit(int(chat_id))
            if wait > 0:
                self.calls_by_method[method] += 1
                self.refused += 1
                retry_after = max(1, math.ceil(wait))
                return 429, {
                    "ok": False,
                    "error_code": 429,
                    "description": f"Too Many Requests: retry after {retry_after}",
                    "parameters": {"retry_after": retry_after},
                }
            self.sent_at.append(time.perf_counter())
        return super().handle(method, params)

    def _admit(self, chat_id: int) -> float:
        now = time.monotonic()
        chat = self.per_chat.get(chat_id)
        if chat is None:
            chat = self.per_chat[chat_id] = Bucket(
                self.limits.chat_rate, self.limits.chat_burst, now
            )
        # Look at both before taking from either, so a refusal costs no token.
        chat_wait = _peek(chat, now)
        overall_wait = _peek(self.overall, now)
        if chat_wait > 0 or overall_wait > 0:
            if chat_wait > 0:
                self.refused_chat += 1
            else:
                self.refused_overall += 1
            return max(chat_wait, overall_wait)
        chat.take(now)
        self.overall.take(now)
        return 0.0


def _peek(bucket: Bucket, now: float) -> float:
    tokens = min(bucket.burst, bucket.tokens + (now - bucket.stamp) * bucket.rate)
    return 0.0 if tokens >= 1.0 else (1.0 - tokens) / bucket.rate
