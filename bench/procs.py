"""Bots as their own processes, talking HTTP to the fake Bot API; their memory and CPU."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import sys
import time
from pathlib import Path

from bench.db import encryption_key
from bench.fakes import BenchTelegram, FakeBotAPIServer
from tests.process import eventually
from tests.support import TOKEN

ROOT = Path(__file__).resolve().parent.parent
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


class Proc:
    """`python -m MODULE ARGS` with the bot's settings in its environment.

    Runs in `workdir` (so no stray `.env` is read), logging to workdir/NAME.log.
    """

    def __init__(
        self,
        server: FakeBotAPIServer,
        workdir: Path,
        module: str,
        *args: str,
        name: str = "bot",
        **env: str,
    ) -> None:
        self.server, self.workdir, self.module, self.args = server, workdir, module, args
        self.env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
            "TELEGRAM_BOT_TOKEN": TOKEN,
            "TELEGRAM_BASE_URL": server.base_url,
            "LOG_LEVEL": "INFO",
            "ENCRYPTION_KEYS": encryption_key(),
            **env,
        }
        self.log = workdir / (re.sub(r"[^A-Za-z0-9_.-]+", "_", name) + ".log")
        self.proc: asyncio.subprocess.Process | None = None
        self.rss_samples_mb: list[float] = []
        self._sampler: asyncio.Task[None] | None = None
        self.peak_rss_mb = 0.0
        self.cpu_s = 0.0
        self.stop_s = 0.0
        self.killed = False

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    @property
    def exited(self) -> bool:
        return self.proc is not None and self.proc.returncode is not None

    async def start(self, ready_within: float = 60.0) -> None:
        tg = self.server.tg
        assert isinstance(tg, BenchTelegram)
        polls_before = tg.calls_by_method["getUpdates"]
        with self.log.open("ab") as log:
            self.proc = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                self.module,
                *self.args,
                cwd=self.workdir,
                env=self.env,
                stdout=log,
                stderr=log,
            )
        await eventually(
            lambda: tg.calls_by_method["getUpdates"] > polls_before or self.exited,
            ready_within,
            f"{self.module} to poll",
        )
        if self.exited:
            raise RuntimeError(f"{self.module} exited:\n{self.log.read_text()[-3000:]}")
        self._sampler = asyncio.create_task(self._sample())

    async def _sample(self) -> None:
        while not self.exited:
            rss = read_status(self.pid, "VmRSS")
            if rss is not None:
                self.rss_samples_mb.append(rss)
            await asyncio.sleep(0.5)

    def cpu_seconds(self) -> float:
        """User + system CPU time the process has used so far."""
        try:
            fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, AssertionError):
            return self.cpu_s
        self.cpu_s = (int(fields[11]) + int(fields[12])) / CLOCK_TICKS
        return self.cpu_s

    async def stop(self, kill_after: float = 30.0) -> int:
        """SIGTERM, and SIGKILL if it has not exited within `kill_after` seconds; how long it
        took is kept in stop_s, and whether it had to be killed in killed."""
        assert self.proc is not None
        started = time.perf_counter()
        if self.proc.returncode is None:
            hwm = read_status(self.pid, "VmHWM")  # peak resident set, kept by the kernel
            self.peak_rss_mb = max([hwm or 0.0, *self.rss_samples_mb])
            self.cpu_seconds()
            self.proc.send_signal(signal.SIGTERM)
        if self._sampler is not None:
            self._sampler.cancel()
        try:
            return await asyncio.wait_for(self.proc.wait(), kill_after)
        except TimeoutError:
            self.killed = True
            self.proc.kill()
            return await self.proc.wait()
        finally:
            self.stop_s = time.perf_counter() - started

    def errors_logged(self) -> int:
        if not self.log.exists():
            return 0
        text = self.log.read_text(errors="replace")
        return sum(1 for line in text.splitlines() if " ERROR " in line or " CRITICAL " in line)

    def log_count(self, fragment: str) -> int:
        if not self.log.exists():
            return 0
        return self.log.read_text(errors="replace").count(fragment)


def read_status(pid: int, key: str) -> float | None:
    """A memory figure from /proc/PID/status, in MB (VmRSS now, VmHWM the peak)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


class CpuMeter:
    """CPU used by this process (the fake server and the simulated users) and by a bot."""

    def __init__(self, proc: Proc) -> None:
        self.proc = proc
        self.t0, self.own0, self.bot0 = time.perf_counter(), time.process_time(), 0.0

    def start(self) -> None:
        self.t0, self.own0 = time.perf_counter(), time.process_time()
        self.bot0 = self.proc.cpu_seconds()

    def shares(self) -> tuple[float, float]:
        """(bot CPU, harness CPU) as shares of one core over the time since start()."""
        wall = max(time.perf_counter() - self.t0, 1e-9)
        bot = (self.proc.cpu_seconds() - self.bot0) / wall
        own = (time.process_time() - self.own0) / wall
        return bot, own
