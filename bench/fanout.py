"""Part 3: the evening fan-out. 100,000 couples due in the same minute.

1. Claim: the database work of one scheduler tick (bot/telegram/scheduler.py, run_tick),
   without sending: `evening.claim_due` a batch per transaction until no couple is due,
   then `evening.claim_deliveries` a batch per transaction until none is pending. This is
   the bot's own code, run in this process on its own Database, timed per phase.
   With a time budget, the loops stop early and the total is projected from the rate.
2. Send: the bot as a real process (`python -m bot`, AIORateLimiter and all) sends the
   claimed deliveries to a fake Bot API that enforces Telegram's limits (bench/fakes.py:
   30 messages a second overall, about one a second per chat, 429 beyond). Measured for
   one minute from its first message: the rate as a share of 30 a second, the 429s, and
   the bot process's peak resident memory.
3. Send path capacity: the same with Telegram's limit lifted (bench/launch.py
   --no-rate-limit, a fake without limits): how fast the bot's sending path itself goes.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import inspect
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import text, update

from bench import db as benchdb
from bench.fakes import BenchTelegram, FakeBotAPIServer, LimitedTelegram
from bench.procs import CpuMeter, Proc
from bot.db.models import Couple, Delivery
from bot.services import evening
from bot.telegram import scheduler
from bot.telegram.app import build_application
from tests.fakegram import FakeRequest
from tests.process import eventually
from tests.support import make_settings

# Where the couples live: their evening is the same UTC minute, so local times differ.
ZONES = (
    "Asia/Kolkata",
    "Europe/Moscow",
    "America/Sao_Paulo",
    "Europe/Berlin",
    "America/New_York",
    "Asia/Jakarta",
    "Europe/London",
    "Asia/Tehran",
    "America/Los_Angeles",
    "UTC",
)


@dataclass
class Claim:
    couples: int  # due couples in the database
    claimed: int  # couples looked at by claim_due within the budget
    rounds: int
    due_s: float  # claim_due loops, measured
    deliveries: int  # claimed by claim_deliveries within the budget
    deliveries_s: float  # claim_deliveries loops, measured
    complete: bool  # both loops ran to the end (else the total is projected)
    projected_s: float  # both phases for every due couple (measured when complete)
    due_batches: list[float] = field(default_factory=list, repr=False)
    deliveries_batches: list[float] = field(default_factory=list, repr=False)

    @property
    def due_per_couple_s(self) -> float:
        return self.due_s / max(self.claimed, 1)

    @property
    def due_per_round_s(self) -> float:
        return self.due_s / max(self.rounds, 1)

    @property
    def per_delivery_s(self) -> float:
        return self.deliveries_s / max(self.deliveries, 1)

    def row(self) -> dict[str, Any]:
        return {
            k: v for k, v in self.__dict__.items() if k not in ("due_batches", "deliveries_batches")
        } | {
            "due_ms_per_couple": round(self.due_per_couple_s * 1000, 3),
            "claim_ms_per_delivery": round(self.per_delivery_s * 1000, 3),
            "slowest_batch_s": round(max(self.due_batches + self.deliveries_batches or [0]), 3),
        }


@dataclass
class Send:
    name: str
    seconds: float  # measured from the first message
    messages: int  # let through in that time
    per_s: float
    share: float  # of Telegram's 30 a second
    http_429: int
    http_429_chat: int
    first_message_s: float  # from starting the process to its first message
    peak_rss_mb: float
    bot_cpu: float
    harness_cpu: float
    statuses: dict[str, int]
    errors_logged: int
    idle_s: float  # time in the window inside pauses of more than 0.25 s
    max_in_1s: int  # the most messages in any one-second stretch (bursts)
    stop_s: float  # from SIGTERM to exit (capped: then SIGKILL)
    killed: bool  # had not exited within the cap

    def row(self) -> dict[str, Any]:
        return dict(self.__dict__)


async def setup(
    url: str, couples: int, history_days: int = 1
) -> tuple[benchdb.Database, dt.datetime]:
    """A fresh database with `couples` couples, all due in the minute that just began,
    each with `history_days` past evenings."""
    due = dt.datetime.now(dt.UTC).replace(second=0, microsecond=0)
    db = await benchdb.fresh(url)
    zones = [(z, due) for z in ZONES]
    await benchdb.add_couples(db, couples, due, zones)
    if history_days:
        await benchdb.add_history(db, couples, zones, history_days)
    return db, due


@asynccontextmanager
async def bot_deps(db: benchdb.Database) -> AsyncIterator[Any]:
    """The running bot's shared services (Deps), built by the bot's own composition root
    on this database, with the fake Telegram in-process (nothing is sent here)."""
    settings = make_settings(
        db.engine.url.render_as_string(hide_password=False),
        encryption_keys=benchdb.encryption_key(),
    )
    app = build_application(settings, db=db, request=FakeRequest(BenchTelegram()))
    await app.initialize()
    assert app.post_init is not None
    await app.post_init(app)
    try:
        yield app.bot_data["deps"]
    finally:
        await app.shutdown()


async def _call(fn: Any, session: Any, now: dt.datetime, rules: Any, deps: Any) -> Any:
    """Call a claiming function as run_tick does: session, now, rules, then the services
    it names (libraries, practices, ...) from Deps."""
    known = {"session": session, "now": now, "rules": rules}
    args = [
        known[name] if name in known else getattr(deps, name)
        for name in inspect.signature(fn).parameters
    ]
    return await fn(*args)


async def claim(
    db: benchdb.Database, now: dt.datetime, couples: int, budget_s: float | None
) -> Claim:
    """run_tick's two claiming loops, timed, without sending."""
    async with bot_deps(db) as deps:
        return await _claim(db, deps, now, couples, budget_s)


async def _claim(
    db: benchdb.Database, deps: Any, now: dt.datetime, couples: int, budget_s: float | None
) -> Claim:
    rules = scheduler.rules(deps)
    rounds_before = await benchdb.count(db, "SELECT count(*) FROM rounds")
    deadline = time.perf_counter() + budget_s if budget_s else float("inf")
    due_batches: list[float] = []
    claimed, complete = 0, True
    while True:
        t0 = time.perf_counter()
        async with db.transaction() as session:
            result = await _call(evening.claim_due, session, now, rules, deps)
        due_batches.append(time.perf_counter() - t0)
        looked_at = result[0] if isinstance(result, tuple) else result
        claimed += looked_at
        if looked_at < rules.batch:
            break
        if time.perf_counter() > deadline:
            complete = False
            break
    rounds = await benchdb.count(db, "SELECT count(*) FROM rounds") - rounds_before
    # Deliveries: what is left of the budget, and at least a third of it.
    remaining = max(deadline - time.perf_counter(), budget_s / 3 if budget_s else 0)
    deadline = time.perf_counter() + remaining if budget_s else float("inf")
    delivery_batches: list[float] = []
    delivered = 0
    while True:
        t0 = time.perf_counter()
        async with db.transaction() as session:
            batch = await _call(evening.claim_deliveries, session, now, rules, deps)
        delivery_batches.append(time.perf_counter() - t0)
        delivered += len(batch)
        if len(batch) < rules.batch:
            break
        if time.perf_counter() > deadline:
            complete = False
            break
    due_s, deliveries_s = sum(due_batches), sum(delivery_batches)
    result = Claim(
        couples=couples,
        claimed=claimed,
        rounds=rounds,
        due_s=due_s,
        deliveries=delivered,
        deliveries_s=deliveries_s,
        complete=complete,
        projected_s=0.0,
        due_batches=due_batches,
        deliveries_batches=delivery_batches,
    )
    if complete:
        result.projected_s = due_s + deliveries_s
    else:  # the same work per couple for every couple, and per delivery for all of theirs
        per_couple_deliveries = 2 * rounds / max(claimed, 1)
        result.projected_s = (
            result.due_per_couple_s * couples
            + result.per_delivery_s * per_couple_deliveries * couples
        )
    return result


async def ready_to_send(db: benchdb.Database, now: dt.datetime) -> int:
    """Hand the claimed deliveries back as pending, as claim_due left them, and move on the
    couples the budget left unclaimed (so the bot's tick goes straight to sending)."""
    async with db.engine.begin() as conn:
        await conn.execute(
            update(Delivery)
            .where(Delivery.status.in_(("pending", "sending")))
            .values(status="pending", next_attempt_at=now, updated_at=now, error=None, attempts=0)
        )
        await conn.execute(
            update(Couple)
            .where(Couple.next_evening_at <= now)
            .values(next_evening_at=now + dt.timedelta(days=1))
        )
    return await benchdb.count(db, "SELECT count(*) FROM deliveries WHERE status = 'pending'")


async def send(
    workdir: Path,
    url: str,
    seconds: float,
    limited: bool = True,
    name: str = "",
    limiter: str | None = None,
    profile: Path | None = None,
    stop_within: float = 15.0,
) -> Send:
    """The bot process's tick sends the pending deliveries; measured from its first message."""
    tg: BenchTelegram = LimitedTelegram() if limited else BenchTelegram()
    server = FakeBotAPIServer(tg)
    await server.start()
    sent_at: list[float] = []
    if not limited:
        tg.on_message = lambda _chat, at: sent_at.append(at)
    module, args = ("bot", ()) if limited else ("bench.launch", ("--no-rate-limit",))
    if limiter:
        module, args = "bench.launch", ("--limiter", limiter)
    if profile is not None:
        module, args = "bench.launch", (*args, "--profile", str(profile))
    name = name or ("send" if limited else "send unlimited")
    proc = Proc(server, workdir, module, *args, name=name.replace(" ", "_"), DATABASE_URL=url)
    started = time.perf_counter()
    try:
        await proc.start()
        meter = CpuMeter(proc)
        meter.start()
        # The first tick comes a second after start; claiming may take a while.
        await eventually(lambda: tg.messages > 0 or proc.exited, 120, "the first message")
        await asyncio.sleep(seconds)
        bot_cpu, own_cpu = meter.shares()
    finally:
        await proc.stop(stop_within)
        await server.stop()
    times = tg.sent_at if isinstance(tg, LimitedTelegram) else sent_at
    if not times:
        raise RuntimeError(f"the bot sent nothing; see {proc.log}")
    start = times[0]
    window = [t for t in times if start <= t < start + seconds]
    idle = _idle_seconds(window, start, start + seconds)
    db = benchdb.Database.from_url(url)
    try:
        async with db.engine.connect() as conn:
            rows = await conn.execute(text("SELECT status, count(*) FROM deliveries GROUP BY 1"))
            statuses = {status: int(n) for status, n in rows}
    finally:
        await db.dispose()
    per_s = len(window) / seconds
    return Send(
        name=name,
        seconds=seconds,
        messages=len(window),
        per_s=per_s,
        share=per_s / 30.0,
        http_429=tg.refused if isinstance(tg, LimitedTelegram) else 0,
        http_429_chat=tg.refused_chat if isinstance(tg, LimitedTelegram) else 0,
        first_message_s=start - started,
        peak_rss_mb=proc.peak_rss_mb,
        bot_cpu=bot_cpu,
        harness_cpu=own_cpu,
        statuses=statuses,
        errors_logged=proc.errors_logged(),
        idle_s=idle,
        max_in_1s=_max_in(window, 1.0),
        stop_s=proc.stop_s,
        killed=proc.killed,
    )


def _max_in(times: list[float], span: float) -> int:
    """The most of `times` (sorted) inside any stretch of `span` seconds."""
    best, lo = 0, 0
    for hi, t in enumerate(times):
        while t - times[lo] >= span:
            lo += 1
        best = max(best, hi - lo + 1)
    return best


def _idle_seconds(times: list[float], start: float, end: float, gap: float = 0.25) -> float:
    """Time in [start, end) inside stretches of more than `gap` s without a message."""
    idle, last = 0.0, start
    for t in [*times, end]:
        if t - last > gap:
            idle += t - last
        last = t
    return idle
