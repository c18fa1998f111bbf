"""Part 4, on paper: a million couples across time zones, with a simulated clock.

The population (an assumption, stated in bench/README.md):
- Time zones weighted roughly by where a messenger's users live (ZONE_WEIGHTS).
- Evening times: 45% keep the bot's default (Settings.evening_time, 20:00); 45% pick a
  half hour from 19:00 to 22:00 (/settings moves the time by 30 minutes); 10% pick any
  minute from 18:00 to 23:59.
- Every couple has the jar day the bot gives at pairing (Sunday): on a Sunday each couple
  gets two rounds at their evening time (the evening prompt and the jar draw).

The bot (bot/telegram/scheduler.py run_tick, bot/services/evening.py), step by step:
- A tick every Settings.tick_seconds; APScheduler skips a tick while the last one runs
  (max_instances=1), so the next tick is the first one due after it ends.
- claim_due: every couple whose next slot has passed, in next_evening_at order, in
  batches of Rules.batch, before anything is sent; a slot more than Rules.grace old gets
  no round (counted as missed). Each round costs the measured claim time per round.
- claim_deliveries: the deliveries in id order (the order they were created: couple by
  couple, in claim order), a batch of Rules.batch at a time, each batch costing the
  measured claim time per delivery; then the batch is sent, at most SEND_CONCURRENCY in
  flight, paced by a token bucket (AIORateLimiter: `rate` a second, bursts of 30); the
  next batch is claimed only when the whole batch is done.
- A prompt's lateness is the instant its message leaves minus its couple's slot; a missed
  prompt never arrives (its lateness is infinite, shown as None: "never").
"""

from __future__ import annotations

import datetime as dt
import math
import random
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from bot.config import Settings, parse_hhmm
from bot.services.evening import Rules
from bot.services.schedule import slot_on, zone
from bot.telegram.scheduler import SEND_CONCURRENCY

# Rough shares of a messenger's users by time zone (one zone standing for its region).
ZONE_WEIGHTS: dict[str, float] = {
    "Asia/Kolkata": 16,
    "Europe/Moscow": 8,
    "Asia/Jakarta": 7,
    "America/New_York": 7,
    "America/Sao_Paulo": 6,
    "Europe/Berlin": 5,
    "America/Chicago": 4,
    "Europe/London": 3,
    "Europe/Paris": 3,
    "Europe/Kyiv": 3,
    "Europe/Istanbul": 3,
    "Asia/Tehran": 3,
    "America/Los_Angeles": 3,
    "Europe/Madrid": 2,
    "Europe/Rome": 2,
    "Asia/Dubai": 2,
    "Asia/Karachi": 2,
    "Asia/Dhaka": 2,
    "Asia/Tashkent": 2,
    "Asia/Manila": 2,
    "Asia/Ho_Chi_Minh": 2,
    "Asia/Shanghai": 2,
    "Africa/Lagos": 2,
    "Africa/Cairo": 2,
    "America/Mexico_City": 2,
    "America/Argentina/Buenos_Aires": 2,
    "Asia/Tokyo": 1,
    "Africa/Nairobi": 1,
    "America/Bogota": 1,
    "America/Denver": 1,
    "Australia/Sydney": 1,
}
DEFAULT_SHARE = 0.45  # keep the default evening time
GRID_SHARE = 0.45  # a half hour from 19:00 to 22:00
GRID = {"19:00": 10, "19:30": 10, "20:00": 20, "20:30": 15, "21:00": 20, "21:30": 12, "22:00": 13}
ANY_SHARE = 0.10  # any minute from 18:00 to 23:59
ANY_FROM, ANY_TO = 18 * 60, 24 * 60
FREE_LIMIT = 30.0  # Telegram's messages a second without paid broadcasts


def evening_times() -> dict[str, float]:
    """Share of couples at each local evening time."""
    default = Settings.model_fields["evening_time"].default
    shares: dict[str, float] = {}
    shares[default] = shares.get(default, 0.0) + DEFAULT_SHARE
    total = sum(GRID.values())
    for hhmm, weight in GRID.items():
        shares[hhmm] = shares.get(hhmm, 0.0) + GRID_SHARE * weight / total
    for minute in range(ANY_FROM, ANY_TO):
        hhmm = f"{minute // 60:02d}:{minute % 60:02d}"
        shares[hhmm] = shares.get(hhmm, 0.0) + ANY_SHARE / (ANY_TO - ANY_FROM)
    return shares


def slot_shares(day: dt.date) -> list[tuple[float, float]]:
    """(slot as a UTC timestamp, share of couples) for every couple's evening on `day`,
    their local date, from the bot's own slot arithmetic; sorted by slot."""
    times = evening_times()
    total = sum(ZONE_WEIGHTS.values())
    by_slot: dict[float, float] = {}
    for name, weight in ZONE_WEIGHTS.items():
        tz = zone(name)
        for hhmm, share in times.items():
            instant = slot_on(day, parse_hhmm(hhmm), tz).timestamp()
            by_slot[instant] = by_slot.get(instant, 0.0) + share * weight / total
    return sorted(by_slot.items())


def apportion(shares: Sequence[tuple[float, float]], couples: int) -> list[tuple[float, int]]:
    """`couples` couples spread over the slots by share (largest remainders)."""
    exact = [(slot, share * couples) for slot, share in shares]
    counts = [int(x) for _, x in exact]
    left = couples - sum(counts)
    order = sorted(range(len(exact)), key=lambda i: exact[i][1] - counts[i], reverse=True)
    for i in order[:left]:
        counts[i] += 1
    return [(slot, n) for (slot, _), n in zip(exact, counts, strict=True) if n]


@dataclass(frozen=True)
class BotModel:
    rate: float  # messages a second Telegram lets through
    claim_per_round_s: float  # claim_due's database time per round opened
    claim_per_delivery_s: float  # claim_deliveries' database time per delivery
    rtt_s: float = 0.1  # one sendMessage round trip to Telegram
    send_capacity: float = math.inf  # messages a second the sending path manages here
    burst: float = float(getattr(Settings.model_fields.get("send_burst"), "default", 30))
    tick_s: float = Settings.model_fields["tick_seconds"].default
    phase_s: float = 30.0  # when in the minute the ticks come (slots are on the minute)
    batch: int = Rules.batch
    grace_s: float = Rules.grace.total_seconds()
    concurrency: int = SEND_CONCURRENCY

    @property
    def pace(self) -> float:
        """Messages a second while sending: the limit, in-flight cap, or this machine."""
        in_flight = self.concurrency / self.rtt_s if self.rtt_s > 0 else math.inf
        return min(self.rate, in_flight, self.send_capacity)


@dataclass
class Lateness:
    couples: int
    messages: int = 0
    missed: int = 0  # prompts never sent: the slot was more than the grace window old
    bins: dict[int, int] = field(default_factory=dict)  # whole seconds late -> messages
    max_s: float = 0.0
    busiest_tick_s: float = 0.0  # the longest tick

    def add(self, first: float, step: float, n: int) -> None:
        """n messages, late by first, first + step, ... seconds."""
        self.messages += n
        last = first + step * (n - 1)
        self.max_s = max(self.max_s, last)
        if step <= 0 or math.floor(first) == math.floor(last):
            b = math.floor(first)
            self.bins[b] = self.bins.get(b, 0) + n
            return
        m = 0
        while m < n:
            b = math.floor(first + m * step)
            upto = min(n, math.ceil((b + 1 - first) / step))
            if upto <= m:  # float edge: first + m * step sits exactly on a bin edge
                upto = m + 1
            self.bins[b] = self.bins.get(b, 0) + (upto - m)
            m = upto

    def pct(self, p: float) -> float:
        """Percentile of lateness over every prompt due: missed ones never arrive (inf)."""
        target = math.ceil(p / 100 * (self.messages + self.missed))
        seen = 0
        for b in sorted(self.bins):
            seen += self.bins[b]
            if seen >= target:
                return float(b)
        return math.inf if self.missed else self.max_s

    def row(self) -> dict[str, Any]:
        def shown(value: float) -> float | None:  # None: "never", for JSON
            return None if math.isinf(value) else value

        return {
            "couples": self.couples,
            "messages": self.messages,
            "missed": self.missed,
            "p50_s": shown(self.pct(50)),
            "p95_s": shown(self.pct(95)),
            "p99_s": shown(self.pct(99)),
            "max_s": round(self.max_s, 1),
            "busiest_tick_s": round(self.busiest_tick_s, 1),
        }


def simulate(groups: list[tuple[float, int]], rounds: int, bot: BotModel) -> Lateness:
    """run_tick over the day, with a simulated clock; see the module's docstring."""
    out = Lateness(couples=sum(n for _, n in groups))
    per_couple = 2 * rounds  # a delivery per partner per round
    pace = bot.pace
    tokens, stamp = bot.burst, -math.inf
    free = -math.inf  # when the last tick ended
    i = 0
    while i < len(groups):
        # The next tick that finds someone due.
        after = max(free, groups[i][0])
        k = math.ceil((after - bot.phase_s) / bot.tick_s)
        now = bot.phase_s + k * bot.tick_s
        if now < free:  # a tick is skipped while the last one runs
            now += bot.tick_s
        due: list[tuple[float, int]] = []
        while i < len(groups) and groups[i][0] <= now:
            slot, n = groups[i]
            if now - slot > bot.grace_s:
                out.missed += n * per_couple
            else:
                due.append((slot, n))
            i += 1
        t = now + sum(n for _, n in due) * rounds * bot.claim_per_round_s
        # Deliveries, in creation order, a batch at a time.
        queue = [(slot, n * per_couple) for slot, n in due]
        q = 0
        while q < len(queue):
            size = 0
            slices: list[tuple[float, int]] = []
            while q < len(queue) and size < bot.batch:
                slot, left = queue[q]
                take = min(left, bot.batch - size)
                slices.append((slot, take))
                size += take
                if take == left:
                    q += 1
                else:
                    queue[q] = (slot, left - take)
            t += size * bot.claim_per_delivery_s
            tokens = min(bot.burst, tokens + (t - stamp) * pace)
            # The first floor(tokens) leave at once, the rest one every 1/pace seconds.
            at_once = min(size, int(tokens))
            sent = 0
            for slot, n in slices:
                now_part = max(0, min(n, at_once - sent))
                if now_part:
                    out.add(t - slot, 0.0, now_part)
                if n > now_part:
                    first = t + (sent + now_part - at_once + 1) / pace
                    out.add(first - slot, 1 / pace, n - now_part)
                sent += n
            last = t + max(0, size - at_once) / pace
            tokens = max(0.0, tokens - size) if size <= at_once else 0.0
            stamp = last
            t = last + bot.rtt_s  # the batch is done when its last send is answered
        out.busiest_tick_s = max(out.busiest_tick_s, t - now)
        free = t
    return out


def capacity(
    shares: list[tuple[float, float]], rounds: int, bot: BotModel, late_s: float = 600.0
) -> int:
    """The most couples whose prompts all leave within `late_s` of their slot (to 1%)."""

    def ok(n: int) -> bool:
        result = simulate(apportion(shares, n), rounds, bot)
        return result.max_s <= late_s and result.missed == 0

    lo, hi = 0, 1000
    while ok(hi):
        lo, hi = hi, hi * 2
        if hi > 100_000_000:
            return lo
    while hi - lo > max(1, lo // 100):
        mid = (lo + hi) // 2
        lo, hi = (mid, hi) if ok(mid) else (lo, mid)
    return lo


def next_weekday(start: dt.date, weekday: int) -> dt.date:
    return start + dt.timedelta(days=(weekday - start.weekday()) % 7)


def run(
    couples: int,
    rates: Sequence[float],
    claim_per_round_s: float,
    claim_per_delivery_s: float,
    rtt_s: float,
    send_capacity: float,
    limited_pace: float = math.inf,
    today: dt.date | None = None,
) -> dict[str, Any]:
    """Weekday and Sunday, each rate: the bot as measured here, and ideal.

    As measured: the claim costs per round and per delivery, and sending no faster than
    measured: at Telegram's 30 a second, `limited_pace` (what the bot achieved against
    the limited fake server, its own claim time taken out); above it, `send_capacity`
    (the same with no limits at all)."""
    today = today or dt.date.today()
    days = {
        "wednesday": (next_weekday(today, 2), 1),
        "sunday": (next_weekday(today, 6), 2),  # evening prompt and jar draw
    }
    measured = BotModel(
        rate=0,
        claim_per_round_s=claim_per_round_s,
        claim_per_delivery_s=claim_per_delivery_s,
        rtt_s=rtt_s,
        send_capacity=send_capacity,
    )
    variants: list[tuple[str, BotModel]] = []
    for rate in rates:
        cap = limited_pace if rate <= FREE_LIMIT else send_capacity
        variants.append(
            (f"{rate:g}/s, bot as measured", replace(measured, rate=rate, send_capacity=cap))
        )
        variants.append(
            (
                f"{rate:g}/s, ideal",  # claiming free, nothing but the rate limits sending
                replace(
                    measured,
                    rate=rate,
                    claim_per_round_s=0.0,
                    claim_per_delivery_s=0.0,
                    rtt_s=0.0,
                    send_capacity=math.inf,
                ),
            )
        )
    rows = []
    for day_name, (day, rounds) in days.items():
        shares = slot_shares(day)
        groups = apportion(shares, couples)
        peak_minute = _peak_minute(groups)
        for label, bot in variants:
            late = simulate(groups, rounds, bot)
            rows.append(
                {
                    "day": f"{day_name} {day.isoformat()}",
                    "variant": label,
                    "pace_per_s": round(bot.pace, 1),
                    **late.row(),
                    "peak_minute_couples": peak_minute,
                    "couples_within_10min": capacity(shares, rounds, bot),
                }
            )
    return {
        "couples": couples,
        "assumptions": {
            "zones": ZONE_WEIGHTS,
            "evening_times": {
                "default_20:00": DEFAULT_SHARE,
                "half_hours_19_22": GRID_SHARE,
                "any_minute_18_24": ANY_SHARE,
            },
            "rtt_s": rtt_s,
            "send_capacity_per_s": send_capacity,
            "limited_pace_per_s": limited_pace,
            "claim_per_round_ms": claim_per_round_s * 1000,
            "claim_per_delivery_ms": claim_per_delivery_s * 1000,
        },
        "rows": rows,
    }


def _peak_minute(groups: list[tuple[float, int]]) -> int:
    by_minute: dict[int, int] = {}
    for slot, n in groups:
        by_minute[int(slot // 60)] = by_minute.get(int(slot // 60), 0) + n
    return max(by_minute.values(), default=0)


def _check() -> None:  # pragma: no cover - a quick self-check: python -m bench.paper
    rng = random.Random(1)
    bot = BotModel(rate=30, claim_per_round_s=0, claim_per_delivery_s=0, rtt_s=0.0)
    one = simulate([(0.0, 1)], 1, bot)
    assert one.messages == 2 and one.max_s <= 60, one
    burst = simulate([(0.0, 600)], 1, bot)  # 1,200 messages at once: 40 s of sending
    assert 39 <= burst.max_s - 30 <= 41, burst.max_s
    groups = sorted((rng.uniform(0, 3600), 10) for _ in range(100))
    assert simulate(groups, 1, bot).messages == 2000
    print("ok")


if __name__ == "__main__":
    _check()
