"""Soak: many visitors and a few admins on two server processes (PostgreSQL + Redis).

Visitors send random text, image and voice messages (files uploaded over HTTP first), each
with a client_id, resent until acked; some reload (a new socket with the same session
cookie, `join` + `thread_id` resume). At the end every acked message must be stored exactly
once and have reached every admin. Prints sent, acked, stored, delivered, duplicates, lost,
and the servers' memory.

Long form (README, "Soak test"):
    .venv/bin/python -m tests.soak.soak --visitors 1000 --admins 2 --duration 300
It starts its own redis-server, a fresh database on PostgreSQL (CHATDESK_TEST_POSTGRES,
default postgresql://postgres@127.0.0.1:5432/postgres) and two daphne processes.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import json
import os
import random
import resource
import secrets
import shutil
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

import psycopg
import socketio

from tests.file_uploads import samples
from tests.support.clients import Browserish, sign_in
from tests.support.server import LiveServer

# Production settings on plain HTTP (the servers listen on 127.0.0.1 only).
PRODUCTION_ENV = {
    "DJANGO_DEBUG": "0",
    "SECURE_SSL_REDIRECT": "0",
    "SESSION_COOKIE_SECURE": "0",
    "CSRF_COOKIE_SECURE": "0",
    "SECURE_HSTS_SECONDS": "0",
}

TEXTS = [
    "merhaba",
    "hello, is anyone there?",
    "my order #",
    "çok teşekkürler 🙏",
    "a" * 300,
    "<b>not bold</b>",
]


def rss_mb(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except FileNotFoundError:
        pass
    return 0.0


GROWTH_LIMIT_PCT = 5.0  # issue 16: RSS over the last 20 minutes grows by less than 5%
WINDOW_S = 20 * 60


def memory_growth(series: dict[str, list[tuple[float, float]]], duration: float) -> dict:
    """Each process's RSS growth over the last 20 minutes of sending (the last two thirds
    in a shorter soak): the mean of the window's first 30 s against the mean of its last
    30 s, and its peak, with PASS/MISS against the 5% target."""
    window = min(WINDOW_S, duration * 2 / 3)
    begin = duration - window
    growth = {}
    for pid, points in series.items():
        inside = [(t, r) for t, r in points if begin <= t <= duration]
        if len(inside) < 2:
            continue
        first = [r for t, r in inside if t <= begin + 30] or [inside[0][1]]
        last = [r for t, r in inside if t >= duration - 30] or [inside[-1][1]]
        start_mb, end_mb = sum(first) / len(first), sum(last) / len(last)
        pct = (end_mb - start_mb) / start_mb * 100
        growth[pid] = {
            "window_s": round(window),
            "start_mb": round(start_mb, 1),
            "end_mb": round(end_mb, 1),
            "peak_mb": round(max(r for _, r in inside), 1),
            "growth_pct": round(pct, 2),
            "mb_per_min": round((end_mb - start_mb) / (window / 60), 2),
            "verdict": "PASS" if pct < GROWTH_LIMIT_PCT else "MISS",
        }
    return growth


def plot_memory(summary: dict, path: str) -> None:
    """RSS per server process over the soak, the measured window shaded (matplotlib)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(9, 4.5), dpi=100)
    for n, (pid, points) in enumerate(summary["rss_series"].items(), 1):
        growth = summary["memory_growth"].get(pid, {})
        label = f"process {n}"
        if growth:
            label += f": {growth['growth_pct']:+.1f}% over the window ({growth['verdict']})"
        ax.plot([t / 60 for t, _ in points], [r for _, r in points], label=label)
    duration = summary["duration_s"]
    window = min(WINDOW_S, duration * 2 / 3)
    ax.axvspan((duration - window) / 60, duration / 60, color="0.9", label="window (target < 5%)")
    ax.set_xlabel("minutes since sending began")
    ax.set_ylabel("RSS (MB)")
    ax.set_ylim(bottom=0)
    ax.set_title(
        f"chatdesk soak: {summary['visitors']} visitors, {len(summary['rss_series'])} daphne processes, "
        f"PostgreSQL + Redis, {summary['acked']} messages"
    )
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


@dataclass
class Tally:
    sent: int = 0
    acked: dict[str, str] = field(default_factory=dict)  # client_id -> message id
    reloads: int = 0
    resumed: int = 0
    failures: Counter = field(default_factory=Counter)


class SoakVisitor:
    def __init__(self, url: str, cookie: str, name: str, tally: Tally, rng: random.Random, files: dict):
        self.url, self.cookie, self.name = url, cookie, name
        self.tally, self.rng, self.files = tally, rng, files
        self.thread_id: str | None = None
        self.sio: socketio.AsyncClient | None = None
        self.seq = 0

    async def open(self) -> None:
        for attempt in range(10):  # like the page: a refused or timed-out connect is retried
            self.sio = socketio.AsyncClient(
                reconnection=True, reconnection_delay=0.5, reconnection_delay_max=3
            )
            try:
                # A callable: python-engineio would move a Cookie header out of a plain dict.
                await self.sio.connect(
                    self.url,
                    headers=lambda: {"Cookie": self.cookie},
                    transports=["websocket"],
                    wait_timeout=20,
                )
                break
            except socketio.exceptions.ConnectionError:
                self.tally.failures["connect"] += 1
                await asyncio.sleep(0.5 * (attempt + 1))
        else:
            raise RuntimeError(f"{self.name} could not connect")
        self.sio.on("connect", self._rejoin)
        payload = {"display_name": self.name}
        if self.thread_id:
            payload["thread_id"] = self.thread_id
        ack = await self.sio.call("join", payload, timeout=20)
        if self.thread_id:
            self.tally.resumed += ack.get("resumed") is True and ack["thread_id"] == self.thread_id
        self.thread_id = ack["thread_id"]

    async def _rejoin(self) -> None:  # after an automatic reconnect, resume the thread
        if self.thread_id:
            self.sio.start_background_task(
                self.sio.call, "join", {"display_name": self.name, "thread_id": self.thread_id}
            )

    async def close(self) -> None:
        if self.sio is not None:
            self.sio.reconnection = False
            try:
                await asyncio.wait_for(self.sio.disconnect(), 5)
            except (TimeoutError, Exception):
                pass

    def next_payload(self) -> dict:
        self.seq += 1
        client_id = f"{self.name}-{self.seq}-{uuid.uuid4().hex[:6]}"
        roll = self.rng.random()
        payload = {
            "thread_id": self.thread_id,
            "client_id": client_id,
            "type": "text",
            "text": f"{self.rng.choice(TEXTS)} {self.seq}",
        }
        if roll < 0.1:
            payload.update(type="image", file_url=self.rng.choice(self.files["image"]), text=None)
        elif roll < 0.2:
            payload.update(type="audio", file_url=self.rng.choice(self.files["audio"]), text=None)
        return payload

    async def send(self, payload: dict, deadline: float) -> None:
        self.tally.sent += 1
        while time.monotonic() < deadline:
            try:
                ack = await self.sio.call("message_to_admin", payload, timeout=10)
            except Exception as exc:
                self.tally.failures[type(exc).__name__] += 1
                await asyncio.sleep(0.5)
                continue
            if ack.get("ok"):
                self.tally.acked[payload["client_id"]] = ack["message"]["id"]
                return
            self.tally.failures[ack.get("error", "?")] += 1
            await asyncio.sleep(0.5)

    async def run(self, until: float, mean_gap: float, reload_chance: float) -> None:
        await asyncio.sleep(self.rng.uniform(0, mean_gap))
        while time.monotonic() < until:
            await self.send(self.next_payload(), until + 30)
            if self.rng.random() < reload_chance:  # a reload: a new socket, same session
                self.tally.reloads += 1
                await self.close()
                await self.open()
            # Never past the end: the last of 1,000 exponential gaps would add minutes.
            await asyncio.sleep(min(self.rng.expovariate(1 / mean_gap), max(0, until - time.monotonic())))


class SoakAdmin:
    def __init__(self, url: str, cookie: str):
        self.url, self.cookie = url, cookie
        self.received: Counter = Counter()
        self.sio = socketio.AsyncClient(reconnection=False)
        self.sio.on("message_from_visitor", self._got)

    async def _got(self, data) -> None:
        self.received[data["id"]] += 1

    async def open(self) -> None:
        await self.sio.connect(self.url, headers={"Cookie": self.cookie}, transports=["websocket"])
        assert (await self.sio.call("admin_join", {}, timeout=20))["ok"]


async def _cookies(url: str, count: int) -> list[str]:
    gate = asyncio.Semaphore(16)

    async def one() -> str:
        async with gate:

            def visit() -> str:
                page = Browserish(url)
                page.get("/")
                return page.cookie_header()

            return await asyncio.to_thread(visit)

    return await asyncio.gather(*(one() for _ in range(count)))


def _operator_sign_in(server: LiveServer, url: str) -> Browserish:
    """Sign in with an operator's code (`manage.py issue_login_code`): with DEBUG off the
    code is never in /request-otp's answer."""
    http = Browserish(url)
    http.get("/login")
    code = server.manage("issue_login_code").stdout.strip()
    answer = http.post("/verify-otp", json={"otp": code})
    assert answer.status_code == 200, answer.text
    return http


def _upload_files(url: str) -> dict:
    http = Browserish(url)
    http.get("/")
    files = {"image": [], "audio": []}
    for kind, name, data, ctype in [
        ("image", "a.png", samples.png(), "image/png"),
        ("image", "b.jpg", samples.jpeg(), "image/jpeg"),
        ("audio", "v.webm", samples.webm(), "audio/webm"),
        ("audio", "v.ogg", samples.ogg(), "audio/ogg"),
    ]:
        answer = http.post(f"/api/upload/{kind}", files={"file": (name, data, ctype)})
        assert answer.status_code == 200, answer.text
        files[kind].append(answer.json()["url"])
    return files


def _stored(database_url: str, thread_ids: list[str]) -> tuple[dict[str, str], int]:
    """client_id -> message id of the visitors' stored messages, and how many were doubles."""
    with psycopg.connect(database_url) as conn:
        rows = conn.execute(
            "SELECT client_id, id::text FROM messages WHERE sender = 'visitor' AND thread_id = ANY(%s::uuid[])",
            (thread_ids,),
        ).fetchall()
    counts = Counter(cid for cid, _ in rows)
    return {cid: mid for cid, mid in rows}, sum(n - 1 for n in counts.values() if n > 1)


async def soak(
    urls: list[str],
    pids: list[int],
    database_url: str,
    visitors: int = 50,
    admins: int = 2,
    duration: float = 20,
    mean_gap: float = 5,
    reload_chance: float = 0.03,
    seed: int = 1,
    sample_every: float = 10,
    progress: bool = False,
    admin_sign_in: Callable[[str], Browserish] = sign_in,
) -> dict:
    rng = random.Random(seed)
    tally = Tally()
    admin_http = admin_sign_in(urls[0])
    files = _upload_files(urls[0])
    team = [SoakAdmin(urls[i % len(urls)], admin_http.cookie_header()) for i in range(admins)]
    for admin in team:
        await admin.open()
    cookies = await _cookies(urls[0], visitors)
    crowd = [
        SoakVisitor(urls[i % len(urls)], cookies[i], f"v{i}", tally, random.Random(rng.random()), files)
        for i in range(visitors)
    ]
    gate = asyncio.Semaphore(50)

    async def opened(v: SoakVisitor) -> None:
        async with gate:
            await v.open()

    # RSS of each server process every `sample_every` seconds, from before the visitors
    # connect (monotonic time, made relative to the start of sending at the end).
    memory: dict[int, list[tuple[float, float]]] = {pid: [] for pid in pids}
    stop_sampling = asyncio.Event()

    async def sample() -> None:
        last_print = 0.0
        while not stop_sampling.is_set():
            now = time.monotonic()
            for pid in pids:
                memory[pid].append((now, rss_mb(pid)))
            if progress and now - last_print >= 60:
                last_print = now
                rss = " / ".join(f"{m[-1][1]:.1f}" for m in memory.values())
                print(f"{time.strftime('%H:%M:%S')} RSS {rss} MB, acked {len(tally.acked)}", flush=True)
            try:
                await asyncio.wait_for(stop_sampling.wait(), sample_every)
            except TimeoutError:
                pass

    sampler = asyncio.create_task(sample())
    started = time.monotonic()
    await asyncio.gather(*(opened(v) for v in crowd))
    connect_seconds = time.monotonic() - started
    sending_began = time.monotonic()
    if progress:
        print(f"{visitors} visitors connected in {connect_seconds:.0f} s; sending", flush=True)
    until = time.monotonic() + duration
    await asyncio.gather(*(v.run(until, mean_gap, reload_chance) for v in crowd))
    acked = dict(tally.acked)
    # Give the admins' sockets a moment to receive the last messages.
    settle = time.monotonic() + 15
    while time.monotonic() < settle and any(
        any(mid not in a.received for mid in acked.values()) for a in team
    ):
        await asyncio.sleep(0.2)
    stop_sampling.set()
    await sampler
    stored, duplicates = await asyncio.to_thread(_stored, database_url, [v.thread_id for v in crowd])
    lost = [cid for cid, mid in acked.items() if stored.get(cid) != mid]
    undelivered = [sum(1 for mid in acked.values() if mid not in a.received) for a in team]
    delivered_twice = [sum(1 for n in a.received.values() if n > 1) for a in team]
    await asyncio.gather(*(v.close() for v in crowd))
    for a in team:
        await a.sio.disconnect()
    return {
        "visitors": visitors,
        "admins": admins,
        "duration_s": duration,
        "connect_s": round(connect_seconds, 1),
        "sent": tally.sent,
        "acked": len(acked),
        "stored": len(stored),
        "delivered_to_every_admin": len(acked) - max(undelivered, default=0),
        "duplicates": duplicates,
        "delivered_twice": delivered_twice,
        "lost": len(lost),
        "undelivered_per_admin": undelivered,
        "reloads": tally.reloads,
        "resumed": tally.resumed,
        "retries": dict(tally.failures),
        "rss_mb": {
            str(pid): {
                "start": round(m[0][1], 1),
                "peak": round(max(r for _, r in m), 1),
                "end": round(m[-1][1], 1),
            }
            for pid, m in memory.items()
            if m
        },
        # [seconds since sending began, MB] per process; negative while visitors connect.
        "rss_series": {
            str(pid): [[round(t - sending_began, 1), round(r, 2)] for t, r in m] for pid, m in memory.items()
        },
        "memory_growth": memory_growth(
            {str(pid): [(t - sending_began, r) for t, r in m] for pid, m in memory.items()}, duration
        ),
        "peak_rss_mb": round(max((r for m in memory.values() for _, r in m), default=0), 1),
    }


def report_memory(summary: dict, plot: str | None, json_path: str | None) -> None:
    for n, (pid, growth) in enumerate(summary["memory_growth"].items(), 1):
        print(
            f"process {n} (pid {pid}): RSS {growth['start_mb']} -> {growth['end_mb']} MB over the last "
            f"{growth['window_s'] / 60:.0f} min ({growth['growth_pct']:+.1f}%, {growth['mb_per_min']:+.2f} MB/min, "
            f"peak {growth['peak_mb']}), "
            f"target < {GROWTH_LIMIT_PCT:.0f}%: {growth['verdict']}"
        )
    if json_path:
        with open(json_path, "w") as out:
            json.dump(summary, out, indent=1)
    if plot:
        plot_memory(summary, plot)
        print(f"memory curve: {plot}")


def main() -> None:
    from tests.faults.conftest import RedisProcess
    from tests.production.conftest import PG_ADMIN_URL, admin_connect

    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--visitors", type=int, default=1000)
    parser.add_argument("--admins", type=int, default=2)
    parser.add_argument("--duration", type=float, default=300, help="seconds of sending")
    parser.add_argument("--minutes", type=float, help="minutes of sending (instead of --duration)")
    parser.add_argument("--sample-every", type=float, default=10, help="seconds between RSS samples")
    parser.add_argument("--plot", help="write the memory curve here (PNG, matplotlib)")
    parser.add_argument("--json", help="write the summary (with the RSS series) here")
    parser.add_argument(
        "--logs", help="copy the servers' logs here (with CHATDESK_TRACEMALLOC=1: the probe's reports)"
    )
    parser.add_argument(
        "--mean-gap", type=float, default=20, help="mean seconds between a visitor's messages"
    )
    parser.add_argument("--reload-chance", type=float, default=0.03)
    parser.add_argument(
        "--debug",
        action="store_true",
        help="run the servers with DEBUG on (the test default) instead of production settings",
    )
    parser.add_argument(
        "--server-env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="an extra environment variable for both servers (repeatable), e.g. GC_FULL_COLLECT_SECONDS=60",
    )
    args = parser.parse_args()
    if args.minutes:
        args.duration = args.minutes * 60
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 65536), hard))

    name = "chatdesk_soak_" + secrets.token_hex(4)
    uploads = tempfile.mkdtemp(prefix="chatdesk-soak-uploads-")
    with admin_connect() as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    database_url = PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    redis_server = RedisProcess().start()
    # Both processes share one uploads directory, as in production (docs/deploy.md).
    env = {
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_server.url,
        "LOG_LEVEL": "WARNING",
        "UPLOADS_ROOT": uploads,
        "SOCKETIO_REDIS_CHANNEL": "soak-" + secrets.token_hex(4),
    }
    if not args.debug:
        # What is measured is what runs in production: DEBUG off (no query log, no debug
        # pages), plain HTTP on 127.0.0.1 only.
        env.update(PRODUCTION_ENV)
    env.update(item.split("=", 1) for item in args.server_env)
    servers = [LiveServer(env=env, migrate=True), LiveServer(env=env, migrate=False)]
    try:
        for s in servers:
            s.start()
        summary = asyncio.run(
            soak(
                [s.url for s in servers],
                [s.process.pid for s in servers],
                database_url,
                args.visitors,
                args.admins,
                args.duration,
                args.mean_gap,
                args.reload_chance,
                sample_every=args.sample_every,
                progress=True,
                admin_sign_in=sign_in if args.debug else functools.partial(_operator_sign_in, servers[0]),
            )
        )
        series = summary.pop("rss_series")
        print(json.dumps(summary, indent=2))
        summary["rss_series"] = series
        report_memory(summary, args.plot, args.json)
    finally:
        for n, s in enumerate(servers, 1):
            if args.logs:
                os.makedirs(args.logs, exist_ok=True)
                shutil.copy(s.log_path, os.path.join(args.logs, f"server-{n}.log"))
            s.cleanup()
        redis_server.kill()
        shutil.rmtree(uploads, ignore_errors=True)
        with admin_connect() as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    raise SystemExit(0 if summary["lost"] == 0 and summary["duplicates"] == 0 else 1)


if __name__ == "__main__":
    main()
