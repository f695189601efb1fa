"""chatdesk's benchmark: `make bench` (or `python bench/run.py [--quick]`).

Starts every server itself on 127.0.0.1, drives it with bench/loadgen.js (Node
socket.io-client, websocket transport, real connections), and prints one table:
chatdesk on SQLite (one process), on PostgreSQL (one process), on PostgreSQL + Redis (two
processes), and the bare python-socketio relay (bench/relay.py, no database) under the
same load, with chatdesk's figure as a ratio of the relay's; then the targets of issue 16,
each with pass or miss (the exit status is 1 when one is missed). See bench/README.md.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(ROOT))

from bench.seed import seed  # noqa: E402
from tests.support.fake_telegram import FakeTelegram  # noqa: E402
from tests.support.server import BASE_ENV, free_port  # noqa: E402

# The columns whose row 1 runs in turn with the relay's (the CPU targets' columns).
PAIRED = ("sqlite", "pg", "pg_telegram")

PG_ADMIN_URL = os.getenv("BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.getenv("BENCH_REDIS", "redis://127.0.0.1:6379/14")
PROFILE_DIR = os.getenv("BENCH_PROFILE", "")
PHASE_PROFILE_DIR = os.getenv("BENCH_PROFILE_PHASE", "")
PHASE_STRACE_DIR = os.getenv("BENCH_STRACE_PHASE", "")

# Production mode (DEBUG off: no query log, no debug toolbar costs), plain HTTP on 127.0.0.1,
# limits far above what the load generator does from its one address.
SERVER_ENV = {
    **BASE_ENV,
    "DJANGO_DEBUG": "0",
    "SECURE_SSL_REDIRECT": "0",
    "SESSION_COOKIE_SECURE": "0",
    "CSRF_COOKIE_SECURE": "0",
    "SECURE_HSTS_SECONDS": "0",
    "LOG_LEVEL": "WARNING",
    "SOCKET_MESSAGES_PER_MINUTE": "1000000",
    "SOCKET_JOINS_PER_MINUTE": "1000000",
    "SOCKETIO_MAX_CONNECTIONS_PER_IP": "1000000",
}


@dataclass
class Sizes:
    visitors: int
    fixed_rate: int
    fixed_seconds: int
    # Row 1's phase is run this many times on the same server and visitors; its figures
    # are the medians (the machine is shared: one phase's CPU swung ±20% on unchanged code).
    fixed_repeats: int
    sweep_rates: list[int]
    sweep_seconds: int
    idle_connections: int
    threads: int
    messages: int
    big: int
    api_requests: int


FULL = Sizes(
    1000,
    500,
    10,
    3,
    [250, 500, 750, 1000, 1250, 1500, 2000, 2500, 3000, 4000],
    5,
    5000,
    100_000,
    1_000_000,
    100_000,
    100,
)
QUICK = Sizes(200, 500, 5, 1, [250, 500, 1000, 1500, 2000, 3000], 3, 1000, 10_000, 100_000, 10_000, 30)


@dataclass
class Server:
    """One daphne (or uvicorn) process on 127.0.0.1 serving `app` with `env`."""

    app: str
    env: dict[str, str]
    log_path: Path
    server: str = "daphne"
    port: int = field(default_factory=free_port)
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Server:
        log = open(self.log_path, "ab")
        command = [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(self.port), self.app]
        if self.server == "uvicorn":
            # Measured beside daphne (bench/README.md, "uvicorn beside daphne"): its C HTTP
            # parser, the websockets library and uvloop's event loop.
            command = [sys.executable, "-m", "uvicorn", "--host", "127.0.0.1", "--port", str(self.port)]
            command += ["--loop", "uvloop", "--http", "httptools", "--ws", "websockets"]
            command += ["--no-access-log", "--log-level", "warning", self.app]
        if PROFILE_DIR and self.app.startswith("chatdesk"):
            # BENCH_PROFILE=dir: record a py-spy profile of each chatdesk process (pip install py-spy).
            out = Path(PROFILE_DIR) / f"{self.log_path.stem}-{self.port}.txt"
            command = [
                str(Path(sys.executable).parent / "py-spy"),
                "record",
                "-f",
                "raw",
                "-o",
                str(out),
                "--",
                *command,
            ]
        self.process = subprocess.Popen(
            command,
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.app} exited:\n{self.log_path.read_text()[-3000:]}")
            try:
                requests.get(self.url + "/socket.io/?EIO=4&transport=polling", timeout=1)
                return self
            except requests.RequestException:
                time.sleep(0.1)
        raise RuntimeError(f"{self.app} did not start")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            # py-spy writes its profile on SIGINT (and stops daphne with it).
            self.process.send_signal(signal.SIGINT if PROFILE_DIR else signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def cpu_seconds(self) -> float:
        return sum(self.cpu_user_system())

    def cpu_user_system(self) -> tuple[float, float]:
        """CPU seconds in user space and in the kernel (socket calls, thread wake-ups)."""
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        tick = os.sysconf("SC_CLK_TCK")
        return int(fields[11]) / tick, int(fields[12]) / tick

    def context_switches(self) -> int:
        """The process's threads' context switches so far, voluntary (a wait: a lock, the
        GIL, a hand-over to another thread) and not (the CPU taken away). A count, not a
        time: the machine's load changes it far less than CPU seconds."""
        total = 0
        for status in Path(f"/proc/{self.process.pid}/task").glob("*/status"):
            try:
                lines = status.read_text().splitlines()
            except OSError:  # the thread ended meanwhile
                continue
            total += sum(int(line.split()[1]) for line in lines if "ctxt_switches:" in line)
        return total

    def rss_bytes(self) -> int:
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
        return 0


@dataclass
class Setup:
    key: str
    title: str
    app: str
    processes: int
    env: dict[str, str]
    database_url: str | None = None
    # Which parts run for this setup (rates, idle, api); all by default.
    parts: set[str] = field(default_factory=lambda: {"rates", "idle", "api"})
    server: str = "daphne"
    servers: list[Server] = field(default_factory=list)

    def start(self, workdir: Path) -> list[Server]:
        self.servers = [
            Server(self.app, self.env, workdir / f"{self.key}-{i}.log", self.server).start()
            for i in range(self.processes)
        ]
        return self.servers

    def stop(self) -> None:
        for server in self.servers:
            server.stop()
        self.servers = []


def manage(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600
    )
    if done.returncode:
        raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{done.stderr[-3000:]}")
    return done.stdout


def admin_cookie(env: dict[str, str]) -> str:
    """A signed-in admin session, made the way /verify-otp makes one (debug is off here,
    so the sign-in code is not shown)."""
    key = (
        manage(
            env,
            "shell",
            "-c",
            (
                "from importlib import import_module; from django.conf import settings;"
                "s = import_module(settings.SESSION_ENGINE).SessionStore(); s['admin'] = True; s.create();"
                "print(s.session_key)"
            ),
        )
        .strip()
        .splitlines()[-1]
    )
    return f"sessionid={key}"


def _start_loadgen(config: dict) -> subprocess.Popen:
    return subprocess.Popen(
        ["node", str(BENCH / "loadgen.js"), json.dumps(config)],
        cwd=BENCH,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )


def rate_config(servers: list[Server], cookie: str | None, sizes: Sizes, **phases) -> dict:
    """loadgen.js's "rate" mode on `servers`: the visitors, the admin, and `phases`."""
    return {
        "mode": "rate",
        "urls": [s.url for s in servers],
        "adminCookie": cookie,
        "visitors": sizes.visitors,
        "maxP99": 100,
        **phases,
    }


def loadgen(config: dict, on_line=None, timeout: float = 900) -> list[dict]:
    """Run bench/loadgen.js with `config`; returns its JSON lines."""
    proc = _start_loadgen(config)
    lines = []
    deadline = time.monotonic() + timeout
    try:
        for raw in proc.stdout:
            line = json.loads(raw)
            lines.append(line)
            if line["event"] == "error":
                raise RuntimeError(line["error"])
            if on_line:
                on_line(line, proc)
            if time.monotonic() > deadline:
                raise RuntimeError("load generator took too long")
        proc.wait(30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return lines


def _profile_phase(servers: list[Server], name: str, seconds: int) -> None:
    """BENCH_PROFILE_PHASE=dir: py-spy (pip install py-spy) samples each server process
    during row 1's fixed-rate phase only (BENCH_PROFILE covers the whole run: joins too);
    BENCH_PROFILE_GIL=1 keeps only the samples of the thread holding the GIL, which is
    where a process's Python time goes. BENCH_PROFILE_RATE: samples a second (py-spy's
    default, 100, leaves a few hundred GIL samples a phase); BENCH_PROFILE_NONBLOCKING=1:
    sample without pausing the process (less cost to it, a stack now and then torn)."""
    for server in servers:
        out = Path(PHASE_PROFILE_DIR) / f"{name}-{server.port}-fixed.txt"
        command = [str(Path(sys.executable).parent / "py-spy"), "record", "-f", "raw", "-o", str(out)]
        command += ["--gil"] * bool(os.environ.get("BENCH_PROFILE_GIL"))
        command += ["--rate", os.environ.get("BENCH_PROFILE_RATE", "100")]
        command += ["--nonblocking"] * bool(os.environ.get("BENCH_PROFILE_NONBLOCKING"))
        command += ["--pid", str(server.process.pid), "--duration", str(max(1, seconds - 1))]
        subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _strace_phase(servers: list[Server], name: str, seconds: int) -> None:
    """BENCH_STRACE_PHASE=dir: `strace -c -f` counts each server process's system calls
    (all its threads) during row 1's first phase, for the kernel's share of the CPU per
    message (`cpu_system_ms_per_message`): which calls, and how many a message. strace
    stops the process at every call, so that phase's latency and CPU mean nothing."""
    for server in servers:
        out = Path(PHASE_STRACE_DIR) / f"{name}-{server.port}-fixed-syscalls.txt"
        command = ["timeout", "-s", "INT", str(max(1, seconds - 1)), "strace", "-c", "-f", "-o", str(out)]
        command += ["-p", str(server.process.pid)]
        subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _watch_phase(servers: list[Server], name: str, seconds: int) -> None:
    if PHASE_PROFILE_DIR:
        _profile_phase(servers, name, seconds)
    if PHASE_STRACE_DIR:
        _strace_phase(servers, name, seconds)


class GatedLoad:
    """A load generator whose row 1 phases run one at a time, when asked (loadgen.js
    `gated`): the relay's phases and a setup's can then run in turn, so that the shared
    machine's drift over minutes falls on both alike. CPU per message is read around
    each phase, from the server processes of `servers`."""

    def __init__(self, servers: list[Server], cookie: str | None, sizes: Sizes, phases: int) -> None:
        self.servers = servers
        rates = [sizes.fixed_rate] * phases
        config = rate_config(servers, cookie, sizes, rates=rates, seconds=sizes.fixed_seconds, gated=True)
        self.proc = _start_loadgen(config)
        self._until("waiting")  # every visitor has joined

    def _until(self, event: str) -> dict:
        for raw in self.proc.stdout:
            line = json.loads(raw)
            if line["event"] == "error":
                raise RuntimeError(line["error"])
            if line["event"] == event:
                return line
        raise RuntimeError(f"load generator ended before {event!r}")

    def phase(self, on_start=None) -> dict:
        """Run the next phase; its JSON line with the servers' CPU per delivered message."""
        self.proc.stdin.write("go\n")
        self.proc.stdin.flush()
        self._until("phase_start")
        if on_start:
            on_start()
        before = [s.cpu_user_system() for s in self.servers]
        switches_before = sum(s.context_switches() for s in self.servers)
        line = self._until("phase_end")
        after = [s.cpu_user_system() for s in self.servers]  # one reading per process
        switches = sum(s.context_switches() for s in self.servers) - switches_before
        user = sum(u for u, _ in after) - sum(u for u, _ in before)
        system = sum(k for _, k in after) - sum(k for _, k in before)
        received = max(line["received"], 1)
        return dict(
            line,
            cpu_ms_per_message=1000 * (user + system) / received,
            cpu_system_ms_per_message=1000 * system / received,
            switches_per_message=switches / received,
        )

    def close(self) -> None:
        try:
            self.proc.stdin.close()
            self.proc.wait(30)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait()


def run_rates(setup: Setup, sizes: Sizes, cookie: str | None, relay: GatedLoad | None = None) -> dict:
    """Row 1 (fixed rate, latency and CPU per message) and row 2 (highest rate, p99 < 100 ms).

    With `relay` (a relay held by a gated generator), each of row 1's phases follows one of
    the relay's, and the setup's result keeps the relay's as "relay": the CPU targets
    compare the two (bench/README.md)."""
    servers = setup.servers
    result: dict = {}
    load = GatedLoad(servers, cookie, sizes, sizes.fixed_repeats)
    fixed, beside = [], []
    try:
        for n in range(sizes.fixed_repeats):
            if relay is not None:
                beside.append(relay.phase())
            on_start = None
            if (PHASE_PROFILE_DIR or PHASE_STRACE_DIR) and n == 0:
                on_start = functools.partial(_watch_phase, servers, setup.key, sizes.fixed_seconds)
            fixed.append(load.phase(on_start))
    finally:
        load.close()
    result["fixed"] = median_phase(fixed)
    if beside:
        result["fixed"]["relay"] = median_phase(beside)
    sweep = rate_config(servers, cookie, sizes, rates=sizes.sweep_rates, seconds=sizes.sweep_seconds)
    phases = loadgen(dict(sweep, stopOnMiss=True))  # up to the first rate that misses
    passing = [
        p
        for p in phases
        if p["event"] == "phase_end"
        and p["p99"] is not None
        and p["p99"] < 100
        and p["received"] >= 0.99 * p["sent"]
        and p["errors"] == 0
        and p["achieved_rate"] >= 0.95 * p["rate"]
    ]
    result["max_rate"] = max((p["rate"] for p in passing), default=0)
    result["sweep"] = [p for p in phases if p["event"] == "phase_end"]
    return result


def median_phase(phases: list[dict]) -> dict:
    """Row 1's figures from its repeated phases: each the median of the phases (the first
    phase's other fields), with every phase kept under "phases" and the spread of each
    figure under "<figure>_range"."""
    if not phases:
        return {}
    out = dict(phases[0], phases=phases)
    for name in ("p50", "p99", "cpu_ms_per_message", "cpu_system_ms_per_message", "switches_per_message"):
        values = [p[name] for p in phases if p.get(name) is not None]
        if values:
            out[name] = statistics.median(values)
            out[f"{name}_range"] = [min(values), max(values)]
    for name in ("sent", "received", "errors"):
        out[name] = sum(p[name] for p in phases)
    return out


def run_idle(setup: Setup, sizes: Sizes, workdir: Path) -> float:
    """Row 3: resident memory per idle visitor connection (bytes)."""
    setup.stop()
    servers = setup.start(workdir)
    time.sleep(1)
    before = sum(s.rss_bytes() for s in servers)
    measured: list[int] = []

    def on_line(line, proc):
        if line["event"] == "ready":
            time.sleep(2)
            measured.append(sum(s.rss_bytes() for s in servers))
            proc.stdin.close()

    loadgen({"mode": "idle", "urls": [s.url for s in servers], "visitors": sizes.idle_connections}, on_line)
    return (measured[0] - before) / sizes.idle_connections


def run_api(setup: Setup, sizes: Sizes, cookie: str, big_thread: str) -> dict:
    """Row 4: GET /api/threads and /api/messages (default page sizes) at the seeded sizes."""
    http = requests.Session()
    http.headers["Cookie"] = cookie
    url = setup.servers[0].url
    out = {}
    for name, path in (
        ("threads", "/api/threads"),
        ("threads_100", "/api/threads?limit=100"),
        ("messages", f"/api/messages?thread_id={big_thread}"),
    ):
        times = []
        for i in range(sizes.api_requests + 3):
            start = time.perf_counter()
            response = http.get(url + path, timeout=30)
            elapsed = time.perf_counter() - start
            response.raise_for_status()
            if i >= 3:  # the first requests warm caches and the pool
                times.append(elapsed * 1000)
        times.sort()
        out[name] = {
            "p50": statistics.median(times),
            "p99": times[min(len(times) - 1, int(0.99 * len(times)))],
            "items": len(response.json()),
        }
    return out


def ensure_node_modules() -> None:
    if not (BENCH / "node_modules" / "socket.io-client").is_dir():
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=BENCH, check=True)


def fmt(value, unit: str, digits: int = 1) -> str:
    return "–" if value is None else f"{value:.{digits}f} {unit}".strip()


def ratio(value, bare, higher_is_better: bool) -> str:
    if value is None or not bare:
        return ""
    return f" ({value / bare:.2f}× bare)"


def table(results: dict, order: list[Setup], sizes: Sizes) -> str:
    bare = results.get("bare", {})
    cols = [s for s in order if s.key in results]
    head = "| | target | " + " | ".join(s.title for s in cols) + " |"
    sep = "|---" * (len(cols) + 2) + "|"
    rows = [head, sep]

    def cell(r, getter, unit, digits=1, show_ratio=True, higher=False):
        value = getter(r)
        text = fmt(value, unit, digits)
        if show_ratio and r is not bare and bare:
            text += ratio(value, getter(bare), higher)
        return text

    def get(*path):
        def inner(r):
            for key in path:
                if not isinstance(r, dict) or key not in r:
                    return None
                r = r[key]
            return r

        return inner

    n = sizes.visitors
    specs = [
        (
            f"1. p50 visitor→admin at {sizes.fixed_rate} msg/s, {n} visitors",
            "",
            get("rates", "fixed", "p50"),
            "ms",
            1,
            True,
        ),
        (
            f"1. p99 visitor→admin at {sizes.fixed_rate} msg/s, {n} visitors",
            "≤ 25 ms (PG + Redis ≤ 30 ms)",
            get("rates", "fixed", "p99"),
            "ms",
            1,
            True,
        ),
        (
            "1. server CPU per message (server processes)",
            "≤ 1.6× bare",
            get("rates", "fixed", "cpu_ms_per_message"),
            "ms",
            2,
            True,
        ),
        (
            "1. the relay's CPU per message in the phases between this column's",
            "",
            get("rates", "fixed", "relay", "cpu_ms_per_message"),
            "ms",
            2,
            False,
        ),
        (
            "2. highest sustained rate, p99 < 100 ms",
            "≥ 60% of bare",
            get("rates", "max_rate"),
            "msg/s",
            0,
            True,
        ),
        (
            f"3. RSS per idle connection ({sizes.idle_connections} connections)",
            "≤ 40 KB",
            lambda r: None if get("idle")(r) is None else get("idle")(r) / 1024,
            "KB",
            1,
            True,
        ),
        (
            f"4. GET /api/threads p50 ({sizes.threads:,} threads, {sizes.messages:,} messages)",
            "≤ 20 ms",
            get("api", "threads", "p50"),
            "ms",
            1,
            False,
        ),
        ("4. GET /api/threads p99", "", get("api", "threads", "p99"), "ms", 1, False),
        ("4. GET /api/threads?limit=100 p50", "", get("api", "threads_100", "p50"), "ms", 1, False),
        (
            f"4. GET /api/messages p50 (thread of {sizes.big:,} messages)",
            "",
            get("api", "messages", "p50"),
            "ms",
            1,
            False,
        ),
        ("4. GET /api/messages p99", "", get("api", "messages", "p99"), "ms", 1, False),
    ]
    for label, target, getter, unit, digits, show_ratio in specs:
        cells = [cell(results[s.key], getter, unit, digits, show_ratio) for s in cols]
        rows.append(f"| {label} | {target} | " + " | ".join(cells) + " |")
    return "\n".join(rows)


@dataclass
class Verdict:
    label: str
    target: str
    measured: str
    passed: bool | None  # None: not measured in this run


def _get(results: dict, key: str, *path: str):
    value = results.get(key)
    for name in path:
        if not isinstance(value, dict) or name not in value:
            return None
        value = value[name]
    return value


def _spread(fixed: dict | None, name: str, digits: int = 2) -> str:
    """A row 1 figure's spread over its repeated phases, as " [low–high]" ("" for one)."""
    found = (fixed or {}).get(f"{name}_range")
    if not found or found[0] == found[1]:
        return ""
    return f" [{found[0]:.{digits}f}–{found[1]:.{digits}f}]"


def _cpu(fixed: dict) -> str:
    return f"{fixed['cpu_ms_per_message']:.2f} ms{_spread(fixed, 'cpu_ms_per_message')}"


def gate(results: dict, sizes: Sizes) -> list[Verdict]:
    """Issue 16's targets, each as pass / miss (None when its setups did not run).

    A column's CPU is compared with the relay's phases run in turn with its own (its
    "relay"), or else with the relay's column."""
    verdicts = []
    load = f"{sizes.fixed_rate} msg/s, {sizes.visitors} visitors"
    bare = _get(results, "bare", "rates", "fixed")
    bare_rate = _get(results, "bare", "rates", "max_rate")
    for key, title, limit in (
        ("pg", "PostgreSQL, 1 process", 25),
        ("pg_redis", "PostgreSQL + Redis, 2 processes", 30),
    ):
        fixed = _get(results, key, "rates", "fixed")
        p99 = (fixed or {}).get("p99")
        measured = (
            "–"
            if p99 is None
            else f"{p99:.1f} ms{_spread(fixed, 'p99', 1)}" + (f" (bare {bare['p99']:.1f} ms)" if bare else "")
        )
        verdicts.append(
            Verdict(
                f"p99 at {load}, {title}", f"≤ {limit} ms", measured, None if p99 is None else p99 <= limit
            )
        )
    for key, title in (("sqlite", "SQLite"), ("pg", "PostgreSQL")):
        fixed = _get(results, key, "rates", "fixed")
        relay = (fixed or {}).get("relay") or bare
        ok = None
        measured = "–"
        if fixed and relay:
            times = fixed["cpu_ms_per_message"] / relay["cpu_ms_per_message"]
            ok = times <= 1.6
            turn = ", in turn" if relay is not bare else ""
            measured = f"{_cpu(fixed)} = {times:.2f}× bare ({_cpu(relay)}{turn})"
        verdicts.append(Verdict(f"server CPU per message, {title}", "≤ 1.6× bare", measured, ok))
    for key, title in (("sqlite", "SQLite"), ("pg", "PostgreSQL")):
        rate = _get(results, key, "rates", "max_rate")
        ok = None if rate is None or not bare_rate else rate >= 0.6 * bare_rate
        measured = "–" if ok is None else f"{rate} msg/s = {rate / bare_rate:.0%} of bare ({bare_rate} msg/s)"
        verdicts.append(
            Verdict(f"highest sustained rate (p99 < 100 ms), {title}", "≥ 60% of bare", measured, ok)
        )
    # The features' cost on the hot path: the same PostgreSQL process with the Telegram
    # bridge on (every visitor message also queued for the admin chat).
    # Each against the relay's phases in turn with its own, when both have them: the two
    # columns run minutes apart.
    base = _get(results, "pg", "rates", "fixed")
    with_bridge = _get(results, "pg_telegram", "rates", "fixed")
    ok = None
    measured = "–"
    if base and with_bridge:
        times = with_bridge["cpu_ms_per_message"] / base["cpu_ms_per_message"]
        measured = f"{_cpu(with_bridge)} = {times:.2f}× ({_cpu(base)})"
        if base.get("relay") and with_bridge.get("relay"):
            bridge_times = with_bridge["cpu_ms_per_message"] / with_bridge["relay"]["cpu_ms_per_message"]
            base_times = base["cpu_ms_per_message"] / base["relay"]["cpu_ms_per_message"]
            times = bridge_times / base_times
            measured = (
                f"{_cpu(with_bridge)} = {bridge_times:.2f}× its relay, against {base_times:.2f}×"
                f" ({_cpu(base)}): {times:.2f}×"
            )
        ok = times <= 1.1
    verdicts.append(
        Verdict(
            "server CPU per message, PostgreSQL with the Telegram bridge on", "≤ 1.10× without", measured, ok
        )
    )
    return verdicts


def gate_table(verdicts: list[Verdict]) -> str:
    rows = ["| target | limit | measured | result |", "|---|---|---|---|"]
    for v in verdicts:
        result = "–" if v.passed is None else ("pass" if v.passed else "**miss**")
        rows.append(f"| {v.label} | {v.target} | {v.measured} | {result} |")
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--quick", action="store_true", help="smaller sizes and shorter runs (about 3 minutes)"
    )
    parser.add_argument(
        "--only",
        default="sqlite,pg,pg_redis,pg_telegram,bare,pg_uvicorn,bare_uvicorn",
        help="comma-separated setups to run: sqlite,pg,pg_redis,pg_telegram,bare,pg_uvicorn,bare_uvicorn",
    )
    parser.add_argument("--skip", default="", help="comma-separated parts to skip: rates,idle,api")
    parser.add_argument(
        "--visitors", type=int, help="connected visitors for rows 1-2 (default 1,000; --quick 200)"
    )
    args = parser.parse_args(argv)
    sizes = QUICK if args.quick else FULL
    if args.visitors:
        sizes = Sizes(**dict(sizes.__dict__, visitors=args.visitors))
    wanted = set(args.only.split(","))
    skip = set(filter(None, args.skip.split(",")))
    ensure_node_modules()

    import psycopg
    import redis

    workdir = Path(tempfile.mkdtemp(prefix="chatdesk-bench-"))
    fake_telegram = FakeTelegram().start() if "pg_telegram" in wanted else None
    server_url = PG_ADMIN_URL.rsplit("/", 1)[0]
    dbname = "chatdesk_bench_" + secrets.token_hex(4)
    pg_url = f"{server_url}/{dbname}"
    # The Telegram column is compared with the PostgreSQL column, whose rows 1-2 run on
    # a new database: it gets a new one of its own, not the one row 4 has filled with
    # 100,000 threads and 1,000,000 messages by the time its turn comes.
    telegram_dbname = dbname + "_telegram"
    telegram_pg_url = f"{server_url}/{telegram_dbname}"
    channel = "chatdesk-bench-" + secrets.token_hex(4)
    env = {**os.environ, **SERVER_ENV, "UPLOADS_ROOT": str(workdir / "uploads")}
    setups = [
        Setup(
            "sqlite",
            "SQLite, 1 process",
            "chatdesk.asgi:application",
            1,
            dict(env, DATABASE_URL=f"sqlite:///{workdir / 'bench.sqlite3'}"),
            f"sqlite:///{workdir / 'bench.sqlite3'}",
        ),
        Setup(
            "pg",
            "PostgreSQL, 1 process",
            "chatdesk.asgi:application",
            1,
            dict(env, DATABASE_URL=pg_url),
            pg_url,
        ),
        Setup(
            "pg_redis",
            "PostgreSQL + Redis, 2 processes",
            "chatdesk.asgi:application",
            2,
            dict(env, DATABASE_URL=pg_url, REDIS_URL=REDIS_URL, SOCKETIO_REDIS_CHANNEL=channel),
            pg_url,
        ),
        Setup(
            "pg_telegram",
            "PostgreSQL, 1 process, Telegram bridge on",
            "chatdesk.asgi:application",
            1,
            # The bridge as in production (cards, pacing), against a fake Bot API: every
            # visitor message is also queued for the admin chat in its transaction.
            dict(
                env,
                DATABASE_URL=telegram_pg_url,
                TELEGRAM_API_BASE=fake_telegram.url if fake_telegram else "",
                TELEGRAM_BOT_TOKEN=FakeTelegram.token,
                TELEGRAM_CHAT_ID="-1001",
                TELEGRAM_WEBHOOK_SECRET="bench-secret",
                TELEGRAM_CARDS="1",
            ),
            telegram_pg_url,
            parts={"rates"},
        ),
        Setup("bare", "bare python-socketio relay", "bench.relay:application", 1, dict(env)),
        # uvicorn instead of daphne, measured beside it (not a target column): chatdesk on
        # PostgreSQL, and the relay, each under uvicorn.
        Setup(
            "pg_uvicorn",
            "PostgreSQL, 1 process, uvicorn",
            "chatdesk.asgi:application",
            1,
            dict(env, DATABASE_URL=pg_url),
            pg_url,
            parts={"rates", "idle"},
            server="uvicorn",
        ),
        Setup(
            "bare_uvicorn",
            "bare relay, uvicorn",
            "bench.relay:application",
            1,
            dict(env),
            parts={"rates", "idle"},
            server="uvicorn",
        ),
    ]
    order = [s for s in setups if s.key in wanted]
    results: dict[str, dict] = {}
    admin_db = None
    seeded: dict[str, str] = {}
    # The relay in turn with the target columns (row 1): a second relay process, its
    # visitors joined once, whose phases run between theirs (GatedLoad).
    paired = None
    relay = None
    if "bare" in wanted and "rates" not in skip and any(s.key in PAIRED for s in order):
        paired = Setup("bare_paired", "bare relay, in turn", "bench.relay:application", 1, dict(env))
    try:
        if paired is not None:
            paired.start(workdir)
            phases = sizes.fixed_repeats * sum(s.key in PAIRED for s in order)
            relay = GatedLoad(paired.servers, None, sizes, phases)
        if any(s.database_url in (pg_url, telegram_pg_url) for s in order):
            admin_db = psycopg.connect(PG_ADMIN_URL, autocommit=True)
            admin_db.execute(f'CREATE DATABASE "{dbname}"')
            admin_db.execute(f'CREATE DATABASE "{telegram_dbname}"')
            redis.Redis.from_url(REDIS_URL).flushdb()
        for setup in order:
            print(f"== {setup.title}", file=sys.stderr, flush=True)
            cookie = None
            if setup.database_url:
                manage(setup.env, "migrate", "--noinput", "-v0")
                cookie = admin_cookie(setup.env)
            result: dict = {}
            setup.start(workdir)
            try:
                if "rates" not in skip and "rates" in setup.parts:
                    beside = relay if setup.key in PAIRED else None
                    result["rates"] = run_rates(setup, sizes, cookie, beside)
                    print(f"   rates: {json.dumps(result['rates'])}", file=sys.stderr, flush=True)
                if "idle" not in skip and "idle" in setup.parts:
                    result["idle"] = run_idle(setup, sizes, workdir)
                    print(f"   idle: {result['idle']:.0f} bytes/connection", file=sys.stderr, flush=True)
                if "api" not in skip and "api" in setup.parts and setup.database_url:
                    if setup.database_url not in seeded:
                        print("   seeding ...", file=sys.stderr, flush=True)
                        seeded[setup.database_url] = str(
                            seed(setup.database_url, sizes.threads, sizes.messages, sizes.big)
                        )
                    result["api"] = run_api(setup, sizes, cookie, seeded[setup.database_url])
                    print(f"   api: {json.dumps(result['api'])}", file=sys.stderr, flush=True)
            finally:
                setup.stop()
            results[setup.key] = result
    finally:
        if relay is not None:
            relay.close()
        for setup in [*order, paired] if paired else order:
            setup.stop()
        if admin_db is not None:
            admin_db.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')
            admin_db.execute(f'DROP DATABASE IF EXISTS "{telegram_dbname}" WITH (FORCE)')
            admin_db.close()
            redis.Redis.from_url(REDIS_URL).flushdb()
        if fake_telegram is not None:
            fake_telegram.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    out_dir = BENCH / "results"
    out_dir.mkdir(exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    (out_dir / f"{stamp}.json").write_text(
        json.dumps({"sizes": sizes.__dict__, "results": results}, indent=2)
    )
    print(
        f"\nchatdesk benchmark, {time.strftime('%Y-%m-%d')}, {os.cpu_count()} CPUs"
        f"{' (--quick)' if args.quick else ''}\n"
    )
    print(table(results, order, sizes))
    verdicts = gate(results, sizes)
    print("\nTargets (issue 16), each against the relay of this run:\n")
    print(gate_table(verdicts))
    missed = [v for v in verdicts if v.passed is False]
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
