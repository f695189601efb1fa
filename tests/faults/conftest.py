"""Services of our own to break: a redis-server and a PostgreSQL cluster on free ports.

The machine's Redis (6379) and PostgreSQL (5432) are shared with other work and must never
be stopped, so the restart tests start their own, kill them and start them again.
"""

from __future__ import annotations

import glob
import os
import shutil
import signal
import subprocess
import tempfile
import time

import psycopg
import pytest
import redis

from tests.conftest import services_required
from tests.support.server import free_port


def _unavailable(reason: str) -> None:
    if services_required():
        pytest.fail(reason, pytrace=False)
    pytest.skip(reason)


class RedisProcess:
    """redis-server without persistence: a restart comes back empty, like a crash."""

    def __init__(self) -> None:
        self.binary = shutil.which("redis-server")
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen | None = None

    def start(self) -> RedisProcess:
        self.process = subprocess.Popen(
            [
                self.binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--daemonize",
                "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        client = redis.Redis.from_url(self.url, socket_connect_timeout=0.5)
        deadline = time.monotonic() + 10
        while True:
            try:
                client.ping()
                return self
            except redis.RedisError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
            finally:
                client.close()

    def kill(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait()


@pytest.fixture
def own_redis():
    if not shutil.which("redis-server"):
        _unavailable("redis-server is not installed")
    server = RedisProcess().start()
    yield server
    server.kill()


def _pg_bin(name: str) -> str | None:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return found[-1] if found else shutil.which(name)


class PostgresCluster:
    """A throwaway PostgreSQL cluster (trust auth) in a temporary directory."""

    def __init__(self) -> None:
        self.port = free_port()
        self.dir = tempfile.mkdtemp(prefix="chatdesk-pg-")
        self.data = os.path.join(self.dir, "data")
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"
        self._as_postgres: list[str] = []
        if os.geteuid() == 0:  # PostgreSQL refuses to run as root
            shutil.chown(self.dir, "postgres", "postgres")
            self._as_postgres = ["runuser", "-u", "postgres", "--"]

    def _run(self, *args: str) -> None:
        subprocess.run([*self._as_postgres, *args], check=True, capture_output=True, timeout=60)

    def init(self) -> PostgresCluster:
        self._run(_pg_bin("initdb"), "-D", self.data, "-U", "postgres", "--auth=trust", "-N")
        return self

    def start(self) -> None:
        options = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run(
            _pg_bin("pg_ctl"),
            "-D",
            self.data,
            "-o",
            options,
            "-w",
            "-t",
            "30",
            "-l",
            os.path.join(self.dir, "log"),
            "start",
        )

    def stop(self, mode: str = "immediate") -> None:
        """`immediate` is a crash as far as clients are concerned: connections just die."""
        self._run(_pg_bin("pg_ctl"), "-D", self.data, "-m", mode, "-w", "stop")

    def cleanup(self) -> None:
        try:
            self.stop("immediate")
        except subprocess.CalledProcessError:
            pass
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture
def own_postgres():
    if not _pg_bin("initdb") or not _pg_bin("pg_ctl"):
        _unavailable("PostgreSQL server binaries (initdb, pg_ctl) are not installed")
    cluster = PostgresCluster()
    try:
        cluster.init().start()
    except (subprocess.CalledProcessError, OSError) as exc:
        cluster.cleanup()
        _unavailable(f"cannot start a throwaway PostgreSQL cluster: {exc}")
    with psycopg.connect(cluster.url, autocommit=True) as conn:
        conn.execute("CREATE DATABASE chatdesk")
    cluster.url = cluster.url.rsplit("/", 1)[0] + "/chatdesk"
    yield cluster
    cluster.cleanup()
