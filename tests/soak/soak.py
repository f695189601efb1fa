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
import json
import random
import resource
import secrets
import shutil
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field

import psycopg
import socketio

from tests.file_uploads import samples
from tests.support.clients import Browserish, sign_in

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
            await asyncio.sleep(self.rng.expovariate(1 / mean_gap))


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
) -> dict:
    rng = random.Random(seed)
    tally = Tally()
    admin_http = sign_in(urls[0])
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

    started = time.monotonic()
    await asyncio.gather(*(opened(v) for v in crowd))
    connect_seconds = time.monotonic() - started

    memory: dict[int, list[float]] = {pid: [] for pid in pids}
    stop_sampling = asyncio.Event()

    async def sample() -> None:
        while not stop_sampling.is_set():
            for pid in pids:
                memory[pid].append(rss_mb(pid))
            try:
                await asyncio.wait_for(stop_sampling.wait(), 2)
            except TimeoutError:
                pass

    sampler = asyncio.create_task(sample())
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
    for v in crowd:
        await v.close()
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
            str(pid): {"start": round(m[0], 1), "peak": round(max(m), 1), "end": round(m[-1], 1)}
            for pid, m in memory.items()
            if m
        },
        "peak_rss_mb": round(max((max(m) for m in memory.values() if m), default=0), 1),
    }


def main() -> None:
    from tests.faults.conftest import RedisProcess
    from tests.production.conftest import PG_ADMIN_URL, admin_connect
    from tests.support.server import LiveServer

    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--visitors", type=int, default=1000)
    parser.add_argument("--admins", type=int, default=2)
    parser.add_argument("--duration", type=float, default=300, help="seconds of sending")
    parser.add_argument(
        "--mean-gap", type=float, default=20, help="mean seconds between a visitor's messages"
    )
    parser.add_argument("--reload-chance", type=float, default=0.03)
    args = parser.parse_args()
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
            )
        )
        print(json.dumps(summary, indent=2))
    finally:
        for s in servers:
            s.cleanup()
        redis_server.kill()
        shutil.rmtree(uploads, ignore_errors=True)
        with admin_connect() as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    raise SystemExit(0 if summary["lost"] == 0 and summary["duplicates"] == 0 else 1)


if __name__ == "__main__":
    main()
