"""Benchmarks of Twenty Minutes, in one run: `python -m bench` (or `python bench/run.py`).

    python -m bench                     # everything, sized to finish in about ten minutes
    python -m bench --quick             # everything, small, in about a minute
    python -m bench --parts echo,answers --db sqlite --seconds 30
    python -m bench --parts fanout --claim-budget 0     # claim all 100,000 couples

Prints a table and writes the figures as JSON (bench/results.json, or --json PATH).
See bench/README.md for what each figure means.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import logging
import os
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # `python bench/run.py`: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import db as benchdb
from bench import fanout, paper, throughput

PARTS = ("echo", "answers", "fanout", "paper")
DBS = ("sqlite", "postgres")
TELEGRAM_RATE = 30.0
LIGHT_PAUSE_S = 0.2  # light load: each person waits this long after a reply


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python -m bench", description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    p.add_argument("--quick", action="store_true", help="small sizes: about a minute in all")
    p.add_argument("--parts", default=",".join(PARTS), help=f"any of {','.join(PARTS)}")
    p.add_argument("--db", default=",".join(DBS), help="sqlite, postgres or both")
    p.add_argument(
        "--pg-url",
        default=os.environ.get("BENCH_DATABASE_URL", benchdb.DEFAULT_PG),
        help="PostgreSQL for the benchmarks, created if missing, its schema dropped "
        "(never the test suite's database); env BENCH_DATABASE_URL",
    )
    p.add_argument("--json", metavar="PATH", help="where to write the figures")
    p.add_argument("--workdir", help="for databases and bot logs (default: a new temp dir)")
    p.add_argument("--keep", action="store_true", help="keep the SQLite files afterwards")
    p.add_argument(
        "--profile",
        metavar="DIR",
        help="run the bot processes under cProfile; stats written to DIR/*.prof",
    )
    g = p.add_argument_group("echo and answers")
    g.add_argument("--seconds", type=float, help="offering updates for this long (15)")
    g.add_argument("--window", type=int, help="updates in flight at once (100)")
    g.add_argument("--couples", type=int, help="couples with an open round (3000)")
    g.add_argument("--no-light", action="store_true", help="skip the light-load latency runs")
    g.add_argument(
        "--no-unlimited", action="store_true", help="skip the runs with the rate limiter lifted"
    )
    g = p.add_argument_group("evening fan-out")
    g.add_argument("--fanout-couples", type=int, help="couples due in one minute (100000)")
    g.add_argument(
        "--claim-budget",
        type=float,
        help="seconds of claiming per database, then project (45; 0: claim them all)",
    )
    g.add_argument("--history-days", type=int, help="past evenings each couple already has (1)")
    g.add_argument("--send-seconds", type=float, help="sending at Telegram's limit (60)")
    g.add_argument("--send-db", choices=DBS, help="database for the sending runs (sqlite)")
    g.add_argument(
        "--send-limiter",
        metavar="RATE/BURST",
        help="also send with the bot's AIORateLimiter set to RATE a second in bursts of at\n"
        "most BURST, whatever SEND_BURST says; default 30/30, the library's own bursts;\n"
        "none to skip",
    )
    g.add_argument(
        "--stop-within",
        type=float,
        help="after sending, seconds between SIGTERM and SIGKILL (15)",
    )
    g.add_argument("--capacity-seconds", type=float, help="sending with no limit, 0 to skip (15)")
    g = p.add_argument_group("on paper")
    g.add_argument("--paper-couples", type=int, help="couples simulated (1000000)")
    g.add_argument("--rates", default="30,1000", help="messages a second (30,1000)")
    g.add_argument("--rtt", type=float, default=0.1, help="Telegram round trip, s (0.1)")
    args = p.parse_args(argv)
    quick = args.quick
    defaults = {
        "seconds": 3.0 if quick else 15.0,
        "window": 20 if quick else 100,
        "couples": 400 if quick else 3000,
        "fanout_couples": 3_000 if quick else 100_000,
        "claim_budget": 2.0 if quick else 45.0,
        "send_seconds": 4.0 if quick else 60.0,
        "send_db": "sqlite",
        "send_limiter": "none" if quick else "30/30",
        "history_days": 1,
        "stop_within": 2.0 if quick else 15.0,
        "capacity_seconds": 0.0 if quick else 15.0,
        "paper_couples": 1_000_000,
    }
    for key, value in defaults.items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    if quick:
        args.no_light = args.no_unlimited = True
    args.parts = [x for x in args.parts.split(",") if x]
    args.db = [x for x in args.db.split(",") if x]
    for part in args.parts:
        if part not in PARTS:
            p.error(f"unknown part {part!r}")
    for name in args.db:
        if name not in DBS:
            p.error(f"unknown database {name!r}")
    if args.pg_url.rsplit("/", 1)[-1].split("?")[0] == "test":
        p.error("the `test` database belongs to the test suite; use another, e.g. /bench")
    args.rates = [float(x) for x in args.rates.split(",") if x]
    return args


def _profile(args: argparse.Namespace, name: str) -> Path | None:
    if not args.profile:
        return None
    folder = Path(args.profile).resolve()
    folder.mkdir(parents=True, exist_ok=True)
    return folder / (name.replace(" ", "_").replace("/", "_") + ".prof")


def url_for(name: str, args: argparse.Namespace, workdir: Path, stem: str) -> str:
    if name == "postgres":
        return str(args.pg_url)
    return benchdb.sqlite_url(workdir / f"{stem}.sqlite3")


_T0 = time.perf_counter()


def say(*parts: Any) -> None:
    print(f"[{time.perf_counter() - _T0:6.1f}s]", *parts, flush=True)


async def run(args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    out: dict[str, Any] = {
        "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
        "settings": {k: v for k, v in vars(args).items() if k != "json"},
        "workdir": str(workdir),
    }
    figures: dict[str, Any] = {}
    details: dict[str, Any] = {}
    benchdb.encryption_key()

    if "echo" in args.parts:
        say(f"== echo ceiling: {args.seconds:g} s, {args.window} in flight")
        plain = await throughput.echo(workdir, args.seconds, args.window)
        say("  ", _brief(plain.row()))
        limited = await throughput.echo(
            workdir, min(args.seconds, 2.0 if args.quick else 10.0), args.window, rate_limited=True
        )
        say("  ", _brief(limited.row()))
        details["echo"] = [plain.row(), limited.row()]
        figures["echo_per_s"] = plain.outcome.per_s
        figures["echo_p50_ms"] = plain.outcome.p50_ms
        figures["echo_p99_ms"] = plain.outcome.p99_ms
        figures["echo_ratelimited_per_s"] = limited.outcome.per_s

    if "answers" in args.parts:
        details["answers"] = []
        for name in args.db:
            key = "postgres" if name == "postgres" else "sqlite"
            url = url_for(name, args, workdir, "answers")
            say(f"== answers on {name}: {args.couples} couples, {args.seconds:g} s")
            runs = [("deployed", True, args.window)]
            if not args.no_unlimited:
                runs.append(("no rate limiter", False, args.window))
            if not args.no_light:
                runs.append(("light load", True, 1))
            for label, rate_limited, window in runs:
                light = label == "light load"
                r = await throughput.answers(
                    workdir,
                    url,
                    args.couples,
                    min(args.seconds, 8.0) if light else args.seconds,
                    window,
                    rate_limited=rate_limited,
                    label=f"answers {key} {label}",
                    profile=_profile(args, f"answers_{key}_{label}"),
                    pause_s=LIGHT_PAUSE_S if light else 0.0,
                )
                say("  ", _brief(r.row()))
                details["answers"].append(r.row())
                o = r.outcome
                if label == "deployed":
                    figures[f"answers_per_s_{key}"] = o.per_s
                    figures[f"answers_p50_ms_{key}"] = o.p50_ms
                    figures[f"answers_p99_ms_{key}"] = o.p99_ms
                    figures[f"answers_peak_rss_mb_{key}"] = r.peak_rss_mb
                elif label == "no rate limiter":
                    figures[f"answers_per_s_{key}_no_limiter"] = o.per_s
                    figures[f"answers_p99_ms_{key}_no_limiter"] = o.p99_ms
                else:
                    figures[f"answers_p50_ms_{key}_light"] = o.p50_ms
                    figures[f"answers_p99_ms_{key}_light"] = o.p99_ms
                if o.done < o.offered or r.errors_logged or o.unexpected:
                    say(f"   !! {o.offered - o.done} unanswered, {r.errors_logged} errors logged")

    claims: dict[str, fanout.Claim] = {}
    send_capacity = float("inf")
    if "fanout" in args.parts:
        details["fanout"] = {}
        budget = args.claim_budget or None
        for name in args.db:
            key = "postgres" if name == "postgres" else "sqlite"
            url = url_for(name, args, workdir, "fanout")
            say(f"== fan-out on {name}: {args.fanout_couples} couples due in one minute")
            t0 = time.perf_counter()
            db, due = await fanout.setup(url, args.fanout_couples, args.history_days)
            say(f"   inserted in {time.perf_counter() - t0:.1f} s")
            now = max(dt.datetime.now(dt.UTC), due)  # the tick's clock: in the due minute
            try:
                claim = await fanout.claim(db, now, args.fanout_couples, budget)
                claims[key] = claim
                say("  ", _brief(claim.row()))
                details["fanout"][f"claim_{key}"] = claim.row()
                figures[f"claim_100k_s_{key}"] = claim.projected_s * 100_000 / claim.couples
                figures[f"claim_100k_measured_{key}"] = claim.complete
                if name != args.send_db:
                    continue
                pending = await fanout.ready_to_send(db, dt.datetime.now(dt.UTC))
            finally:
                await db.dispose()
            say(f"== sending at Telegram's limits on {name}: {pending} deliveries pending")
            send = await fanout.send(
                workdir,
                url,
                args.send_seconds,
                profile=_profile(args, "send"),
                stop_within=args.stop_within,
            )
            say("  ", _brief(send.row()))
            details["fanout"]["send"] = send.row()
            figures["send_per_s"] = send.per_s
            figures["send_rate_share"] = send.share
            figures["http_429"] = send.http_429
            figures["peak_rss_mb"] = send.peak_rss_mb
            if args.send_limiter and args.send_limiter != "none":
                db = benchdb.Database.from_url(url)
                try:
                    pending = await fanout.ready_to_send(db, dt.datetime.now(dt.UTC))
                finally:
                    await db.dispose()
                say(f"== sending with AIORateLimiter at {args.send_limiter}: {pending} pending")
                alt = await fanout.send(
                    workdir,
                    url,
                    args.send_seconds,
                    name=f"send limiter {args.send_limiter}",
                    limiter=args.send_limiter,
                    stop_within=args.stop_within,
                )
                say("  ", _brief(alt.row()))
                details["fanout"]["send_alternative_limiter"] = alt.row()
                figures["send_rate_share_alt_limiter"] = alt.share
                figures["http_429_alt_limiter"] = alt.http_429
            if args.capacity_seconds > 0:
                db = benchdb.Database.from_url(url)
                try:
                    pending = await fanout.ready_to_send(db, dt.datetime.now(dt.UTC))
                finally:
                    await db.dispose()
                say(f"== sending with no limit on {name}: {pending} deliveries pending")
                cap = await fanout.send(
                    workdir,
                    url,
                    args.capacity_seconds,
                    limited=False,
                    profile=_profile(args, "send_unlimited"),
                    stop_within=args.stop_within,
                )
                say("  ", _brief(cap.row()))
                details["fanout"]["send_unlimited"] = cap.row()
                figures["send_capacity_per_s"] = cap.per_s
                send_capacity = cap.per_s

    if "paper" in args.parts:
        basis = claims.get("postgres") or claims.get("sqlite")
        per_round = basis.due_per_round_s if basis else 0.0
        per_delivery = basis.per_delivery_s if basis else 0.0
        # The measured rates include claim_deliveries' own time; the model adds it itself.
        sending = _without(send_capacity, per_delivery)
        limited_pace = _without(figures.get("send_per_s", float("inf")), per_delivery)
        source = ("postgres" if "postgres" in claims else "sqlite") if basis else "none"
        say(
            f"== on paper: {args.paper_couples} couples, claim {per_round * 1000:.2f} ms a round"
            f" and {per_delivery * 1000:.2f} ms a delivery (measured on: {source})"
        )
        t0 = time.perf_counter()
        sim = paper.run(
            args.paper_couples,
            args.rates,
            per_round,
            per_delivery,
            args.rtt,
            sending,
            limited_pace,
        )
        sim["seconds"] = time.perf_counter() - t0
        details["paper"] = sim
        for row in sim["rows"]:
            say("  ", _brief(row))
        for rate in args.rates:
            for variant, suffix in (("bot as measured", ""), ("ideal", "_ideal")):
                name = f"{rate:g}/s, {variant}"
                rows = [r for r in sim["rows"] if r["variant"] == name]
                if not rows:
                    continue
                tag = f"{rate:g}{suffix}"
                worst = min(rows, key=lambda r: r["couples_within_10min"])
                figures[f"couples_per_bot_10min_{tag}"] = worst["couples_within_10min"]
                weekday = rows[0]
                figures[f"paper_p50_s_{tag}"] = weekday["p50_s"]
                figures[f"paper_p95_s_{tag}"] = weekday["p95_s"]
                figures[f"paper_p99_s_{tag}"] = weekday["p99_s"]
                figures[f"paper_missed_{tag}"] = weekday["missed"]
        if "couples_per_bot_10min_30" in figures:
            figures["couples_per_bot_10min"] = figures["couples_per_bot_10min_30"]

    out["figures"] = {k: _round(v) for k, v in figures.items()}
    out["details"] = details
    return out


def _without(per_s: float, claim_s: float) -> float:
    """A measured sending rate with the claiming time per message taken out."""
    if per_s == float("inf") or per_s <= 0:
        return float("inf")
    return 1 / max(1 / per_s - claim_s, 1e-9)


def _round(value: Any) -> Any:
    if isinstance(value, float):
        return round(value, 3 if abs(value) < 10 else 1)
    return value


def _brief(row: dict[str, Any]) -> str:
    return ", ".join(f"{k}={_round(v)}" for k, v in row.items() if not isinstance(v, list | dict))


TABLE = [
    # (figure, unit, what it is compared with)
    ("echo_per_s", "updates/s", "the ceiling: python-telegram-bot echo, no limiter"),
    ("echo_ratelimited_per_s", "updates/s", "echo with AIORateLimiter: 30 replies/s"),
    ("answers_per_s_sqlite", "updates/s", "as deployed; ceiling 15/s (2 replies each at 30/s)"),
    ("answers_per_s_postgres", "updates/s", "as deployed; ceiling 15/s (2 replies each at 30/s)"),
    ("answers_per_s_sqlite_no_limiter", "updates/s", "target >= echo_per_s / 2"),
    ("answers_per_s_postgres_no_limiter", "updates/s", "target >= echo_per_s / 2"),
    ("answers_p50_ms_sqlite", "ms", "offered -> last reply, saturated (window in flight)"),
    ("answers_p99_ms_sqlite", "ms", "offered -> last reply, saturated"),
    ("answers_p50_ms_postgres", "ms", "offered -> last reply, saturated"),
    ("answers_p99_ms_postgres", "ms", "offered -> last reply, saturated"),
    ("answers_p99_ms_sqlite_no_limiter", "ms", "saturated, rate limiter lifted"),
    ("answers_p99_ms_postgres_no_limiter", "ms", "saturated, rate limiter lifted"),
    ("answers_p50_ms_sqlite_light", "ms", "light load: 1 in flight, 0.2 s between"),
    ("answers_p99_ms_sqlite_light", "ms", "light load: 1 in flight, 0.2 s between"),
    ("answers_p50_ms_postgres_light", "ms", "light load: 1 in flight, 0.2 s between"),
    ("answers_p99_ms_postgres_light", "ms", "light load: 1 in flight, 0.2 s between"),
    ("claim_100k_s_sqlite", "s", "target < 2 s"),
    ("claim_100k_s_postgres", "s", "target < 2 s"),
    ("send_per_s", "messages/s", "Telegram's limit: 30/s"),
    ("send_rate_share", "of 30/s", "target >= 0.95"),
    ("http_429", "count", "target 0"),
    ("peak_rss_mb", "MB", "bot process while sending; target < 200"),
    ("send_rate_share_alt_limiter", "of 30/s", "the same, AIORateLimiter at --send-limiter"),
    ("http_429_alt_limiter", "count", "the same, AIORateLimiter at --send-limiter"),
    ("send_capacity_per_s", "messages/s", "sending path with no limit at all"),
]
for _tag, _what in (
    ("30", "30/s, the bot as measured"),
    ("30_ideal", "30/s, ideal (claiming free)"),
    ("1000", "1,000/s, the bot as measured"),
    ("1000_ideal", "1,000/s, ideal (claiming free, no in-flight cap)"),
):
    TABLE += [
        (f"paper_p50_s_{_tag}", "s late", f"on paper, 1M couples, weekday, {_what}"),
        (f"paper_p95_s_{_tag}", "s late", f"on paper, 1M couples, weekday, {_what}"),
        (f"paper_p99_s_{_tag}", "s late", f"on paper, 1M couples, weekday, {_what}"),
        (f"paper_missed_{_tag}", "prompts", f"never sent (grace passed), weekday, {_what}"),
        (
            f"couples_per_bot_10min_{_tag}",
            "couples",
            f"none > 10 min late, worse of the 2 days, {_what}",
        ),
    ]


def table(figures: dict[str, Any]) -> str:
    rows = [("figure", "value", "unit", "beside")]
    for key, unit, beside in TABLE:
        if key in figures:
            value = figures[key]
            measured = figures.get(key.replace("_s_", "_measured_"))
            if key.startswith("claim_100k_s_") and not measured:
                beside = f"projected from the measured rate; {beside}"
            if value is None:
                text = "never"
            elif isinstance(value, float):
                text = f"{value:,.3f}" if abs(value) < 10 else f"{value:,.1f}"
            else:
                text = f"{value:,}"
            rows.append((key, text, unit, beside))
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    lines = []
    for n, r in enumerate(rows):
        lines.append(f"{r[0]:<{widths[0]}}  {r[1]:>{widths[1]}}  {r[2]:<{widths[2]}}  {r[3]}")
        if n == 0:
            lines.append("-" * (sum(widths) + 6 + max(len(x[3]) for x in rows)))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    workdir = Path(args.workdir) if args.workdir else Path(tempfile.mkdtemp(prefix="bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    say(f"workdir {workdir} (bot logs)")
    started = time.perf_counter()
    # A bot stopped mid-request leaves the fake server a reset connection: not news.
    logging.getLogger("aiohttp.server").setLevel(logging.CRITICAL)
    try:
        out = asyncio.run(run(args, workdir))
    finally:
        if not args.keep:
            for f in workdir.glob("*.sqlite3*"):
                f.unlink(missing_ok=True)
    out["total_seconds"] = round(time.perf_counter() - started, 1)
    path = Path(args.json) if args.json else Path(__file__).resolve().parent / "results.json"
    path.write_text(json.dumps(out, indent=2, default=str) + "\n")
    say()
    say(table(out["figures"]))
    say(f"\n{out['total_seconds']:.0f} s in all; figures in {path}")
    if not args.keep and not any(workdir.iterdir()):
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
