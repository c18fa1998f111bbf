"""Simulated people: they send updates as fast as the bot takes them, and time the replies.

Each update is a `Job`: what it offers (an update pushed to the fake server's queue) and
which chats must then receive how many messages from the bot. A job is done the instant
the fake server answers the last of those messages; its latency runs from the offer.

At most `window` jobs are in flight at once (offered, not yet fully answered), and no
two in-flight jobs wait on the same chat, so every message is attributed without doubt.
A job may have a follow-up (the partner's answer, the same person's next message) that
is offered once it is done. Offering stops at the deadline or when jobs run out; then
the jobs in flight are waited for, bounded in time.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import math
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from bench.fakes import BenchTelegram


@dataclass(eq=False)
class Job:
    make: Callable[[], dict[str, Any]]  # builds the update when it is offered
    expect: dict[int, int]  # chat id -> messages the bot must send there
    then: Callable[[], Job | None] | None = None
    update_id: int = 0
    offered: float = 0.0
    done: float = 0.0
    waiting: dict[int, int] = field(default_factory=dict)


@dataclass
class Outcome:
    offered: int
    done: int
    unexpected: int  # messages to chats no job was waiting on (errors, extra messages)
    window: int
    seconds: float  # from the first offer to the last reply
    per_s: float  # done jobs a second, after the warm-up
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    queued_p50_ms: float  # of the latency: offered until first handed to the bot
    latencies_ms: list[float] = field(default_factory=list, repr=False)

    def brief(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if k != "latencies_ms"}


class Pump:
    def __init__(
        self, tg: BenchTelegram, jobs: Iterator[Job], window: int, pause_s: float = 0.0
    ) -> None:
        self.tg, self.jobs, self.window, self.pause_s = tg, jobs, window, pause_s
        self.ready: collections.deque[Job] = collections.deque()
        self.by_chat: dict[int, Job] = {}
        self.in_flight = 0
        self.offered = 0
        self.finished: list[Job] = []
        self.unexpected = 0
        self.deadline = 0.0
        self.last_offer = 0.0
        self.all_done = asyncio.Event()
        self._exhausted = False
        tg.track_fetches = True
        tg.on_message = self._on_message

    async def run(self, seconds: float, max_jobs: int, drain_s: float = 30.0) -> None:
        self.deadline = time.perf_counter() + seconds
        self.max_jobs = max_jobs
        self._fill()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.all_done.wait(), seconds + drain_s)
        self.deadline = 0.0
        self.tg.on_message = None
        self.tg.track_fetches = False

    def _next(self) -> Job | None:
        if self.ready:
            return self.ready.popleft()
        if self._exhausted or self.offered >= self.max_jobs:
            return None
        job = next(self.jobs, None)
        if job is None:
            self._exhausted = True
        return job

    def _fill(self) -> None:
        while self.in_flight < self.window and time.perf_counter() < self.deadline:
            job = self._next()
            if job is None:
                break
            self._offer(job)
        if self.in_flight == 0:
            self.all_done.set()

    def _offer(self, job: Job) -> None:
        update = job.make()
        job.update_id = update["update_id"]
        job.waiting = dict(job.expect)
        for chat in job.waiting:
            assert chat not in self.by_chat, f"chat {chat} already has a job in flight"
            self.by_chat[chat] = job
        self.in_flight += 1
        self.offered += 1
        job.offered = time.perf_counter()
        self.last_offer = job.offered
        self.tg.push(update)

    def _on_message(self, chat: int, at: float) -> None:
        job = self.by_chat.get(chat)
        if job is None:
            self.unexpected += 1
            return
        job.waiting[chat] -= 1
        if job.waiting[chat] > 0:
            return
        del self.by_chat[chat]
        del job.waiting[chat]
        if job.waiting:
            return
        job.done = at
        self.finished.append(job)
        self.in_flight -= 1
        follow = job.then() if job.then is not None else None
        if follow is not None:
            self.ready.append(follow)
        if self.pause_s > 0:  # people who take their time: a pause before the next one
            self.in_flight += 1  # the pause holds the slot
            asyncio.get_running_loop().call_later(self.pause_s, self._after_pause)
        else:
            self._fill()

    def _after_pause(self) -> None:
        self.in_flight -= 1
        self._fill()

    def outcome(self, warmup_s: float = 1.0) -> Outcome:
        """Rates and latencies while the bot was saturated: after a warm-up (connections,
        caches, first transactions) and before offering stopped (then the jobs in flight
        drain with nothing behind them)."""
        done = sorted(self.finished, key=lambda j: j.done)
        if not done:
            return Outcome(self.offered, 0, self.unexpected, self.window, 0, 0, 0, 0, 0, 0, 0)
        start = min(j.offered for j in done)
        t0, t1 = start + warmup_s, self.last_offer
        if t1 - t0 < 1.0:  # too short to leave a warm-up out
            t0 = start
        per_s = sum(1 for j in done if t0 <= j.done <= t1) / max(t1 - t0, 1e-9)
        steady = [j for j in done if t0 <= j.offered <= t1] or done
        lat = sorted((j.done - j.offered) * 1000 for j in steady)
        fetched = self.tg.fetched_at
        queued = sorted((fetched.get(j.update_id, j.offered) - j.offered) * 1000 for j in steady)
        return Outcome(
            offered=self.offered,
            done=len(done),
            unexpected=self.unexpected,
            window=self.window,
            seconds=done[-1].done - start,
            per_s=per_s,
            p50_ms=pct(lat, 50),
            p90_ms=pct(lat, 90),
            p99_ms=pct(lat, 99),
            max_ms=lat[-1],
            queued_p50_ms=pct(queued, 50),
            latencies_ms=lat,
        )


def pct(values: list[float], p: float) -> float:
    """The p-th percentile (nearest rank) of sorted values."""
    if not values:
        return 0.0
    rank = max(0, min(len(values) - 1, math.ceil(p / 100 * len(values)) - 1))
    return values[rank]
