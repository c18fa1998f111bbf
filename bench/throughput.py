"""Parts 1 and 2: the echo ceiling, and couples answering open rounds through the real bot.

Both bots run as their own processes and long-poll the fake Bot API over HTTP; the
simulated people keep `window` updates in flight (see bench/load.py), so the bot always
has work waiting, and time each update from its offer to the bot's last reply for it.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench import db as benchdb
from bench.fakes import BenchTelegram, FakeBotAPIServer
from bench.load import Job, Outcome, Pump
from bench.procs import CpuMeter, Proc
from tests.fakegram import BOT_USER

ECHO_USERS = 900_000_000


def text_update(
    tg: BenchTelegram, user: int, name: str, text: str, reply_to: int | None = None
) -> dict[str, Any]:
    """A private text message from `user`, replying to the bot's message `reply_to`."""
    chat = {"id": user, "type": "private", "first_name": name}
    message: dict[str, Any] = {
        "message_id": tg.next_message_id(),
        "date": int(time.time()),
        "chat": chat,
        "from": {"id": user, "is_bot": False, "first_name": name, "language_code": "en"},
        "text": text,
    }
    if reply_to is not None:
        message["reply_to_message"] = {
            "message_id": reply_to,
            "date": int(time.time()) - 60,
            "chat": chat,
            "from": BOT_USER,
            "text": "The question",
        }
    return tg.make_update(message=message)


@dataclass
class RunResult:
    name: str
    outcome: Outcome
    bot_cpu: float  # share of one core used by the bot process while under load
    harness_cpu: float  # share of one core used by the fake server and simulated people
    peak_rss_mb: float
    errors_logged: int
    checks: dict[str, Any]

    def row(self) -> dict[str, Any]:
        return {
            "name": self.name,
            **self.outcome.brief(),
            "bot_cpu": round(self.bot_cpu, 2),
            "harness_cpu": round(self.harness_cpu, 2),
            "peak_rss_mb": round(self.peak_rss_mb, 1),
            "errors_logged": self.errors_logged,
            **self.checks,
        }


async def _drive(
    name: str,
    tg: BenchTelegram,
    server: FakeBotAPIServer,
    proc: Proc,
    jobs: Iterator[Job],
    window: int,
    seconds: float,
    max_jobs: int,
    settle_s: float = 0.0,
    pause_s: float = 0.0,
) -> tuple[Outcome, float, float]:
    await proc.start()
    try:
        await asyncio.sleep(settle_s)  # let start-up work (the first scheduler tick) pass
        meter = CpuMeter(proc)
        meter.start()
        pump = Pump(tg, jobs, window, pause_s)
        await pump.run(seconds, max_jobs)
        bot_cpu, own_cpu = meter.shares()
        outcome = pump.outcome()
    finally:
        await proc.stop()
    return outcome, bot_cpu, own_cpu


async def echo(workdir: Path, seconds: float, window: int, rate_limited: bool = False) -> RunResult:
    """The ceiling: a minimal echo bot, one reply per message."""
    tg = BenchTelegram()
    server = FakeBotAPIServer(tg)
    await server.start()
    name = "echo+ratelimiter" if rate_limited else "echo"
    proc = Proc(
        server,
        workdir,
        "bench.echo",
        name=name,
        ECHO_RATE_LIMITER="1" if rate_limited else "0",
    )
    counter = itertools.count()

    def job_for(user: int) -> Job:
        return Job(
            make=lambda: text_update(tg, user, "Echo", f"hello {next(counter)}"),
            expect={user: 1},
            then=lambda: job_for(user),  # each person sends again once answered
        )

    jobs = (job_for(ECHO_USERS + k) for k in range(window))
    try:
        outcome, bot_cpu, own_cpu = await _drive(
            name, tg, server, proc, jobs, window, seconds, max_jobs=10_000_000
        )
    finally:
        await server.stop()
    return RunResult(name, outcome, bot_cpu, own_cpu, proc.peak_rss_mb, proc.errors_logged(), {})


async def answers(
    workdir: Path,
    url: str,
    couples: int,
    seconds: float,
    window: int,
    rate_limited: bool = True,
    label: str = "",
    profile: Path | None = None,
    pause_s: float = 0.0,
) -> RunResult:
    """Couples with an open round answer it: the first answer is stored and acknowledged
    (and the partner told), the second is stored and reveals both answers to both."""
    now = dt.datetime.now(dt.UTC).replace(second=0, microsecond=0)
    db = await benchdb.fresh(url)
    evening = now + dt.timedelta(hours=12)  # nobody's evening falls inside the run
    await benchdb.add_couples(db, couples, now, [("UTC", evening)])
    question = await benchdb.open_rounds(db, couples, now)
    await db.dispose()

    tg = BenchTelegram()
    server = FakeBotAPIServer(tg)
    await server.start()
    name = label or f"answers {'pg' if url.startswith('postgresql') else 'sqlite'}"
    module, args = ("bot", ()) if rate_limited else ("bench.launch", ("--no-rate-limit",))
    if profile is not None:
        module, args = "bench.launch", (*args[-1:], "--profile", str(profile))
    proc = Proc(server, workdir, module, *args, name=name.replace(" ", "_"), DATABASE_URL=url)

    def answer(i: int, partner: int) -> Job:
        a, b = benchdb.user_id(i, 0), benchdb.user_id(i, 1)
        me = (a, b)[partner]
        name = ("Alex", "Sam")[partner]
        return Job(
            make=lambda: text_update(tg, me, name, f"My answer, {name} of {i}", question[me]),
            # First answer: "saved" to the author, "your partner answered" to the other.
            # Second answer: each partner receives the other's answer (the reveal).
            expect={a: 1, b: 1},
            then=(lambda: answer(i, 1)) if partner == 0 else None,
        )

    jobs = (answer(i, 0) for i in range(1, couples + 1))
    try:
        outcome, bot_cpu, own_cpu = await _drive(
            name, tg, server, proc, jobs, window, seconds, 2 * couples, 1.5, pause_s
        )
    finally:
        await server.stop()
    db = benchdb.Database.from_url(url)
    try:
        checks = {
            "answers_stored": await benchdb.count(db, "SELECT count(*) FROM answers"),
            "rounds_revealed": await benchdb.count(
                db, "SELECT count(*) FROM rounds WHERE revealed_at IS NOT NULL"
            ),
        }
    finally:
        await db.dispose()
    return RunResult(
        name, outcome, bot_cpu, own_cpu, proc.peak_rss_mb, proc.errors_logged(), checks
    )
