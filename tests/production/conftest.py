"""The production setup for real: PostgreSQL and Redis of this machine, two daphne processes.

Each test module gets a fresh PostgreSQL database and its own Socket.IO channel on a
dedicated Redis database number; both are removed afterwards. Without PostgreSQL or Redis
these tests skip for a developer and fail in CI (tests/conftest.py::services_required).
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass

import psycopg
import pytest
import redis

from tests.conftest import services_required
from tests.support.server import LiveServer

PG_ADMIN_URL = os.getenv("CHATDESK_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS_TEST_URL = os.getenv("CHATDESK_TEST_REDIS", "redis://127.0.0.1:6379/13")


def _unavailable(what: str, exc: Exception) -> None:
    reason = f"{what} is not reachable ({exc}); these tests need the real services"
    if services_required():
        pytest.fail(reason + " and CI/CHATDESK_REQUIRE_SERVICES says they must run", pytrace=False)
    pytest.skip(reason)


def admin_connect() -> psycopg.Connection:
    return psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=3)


@dataclass
class Services:
    database_url: str
    database_name: str
    redis_url: str
    channel: str

    @property
    def env(self) -> dict[str, str]:
        return {
            "DATABASE_URL": self.database_url,
            "REDIS_URL": self.redis_url,
            "SOCKETIO_REDIS_CHANNEL": self.channel,
        }

    def backends(self) -> int:
        """Connections open to this test's database right now."""
        with admin_connect() as conn:
            return conn.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = %s", (self.database_name,)
            ).fetchone()[0]


@pytest.fixture(scope="module")
def services():
    try:
        admin = admin_connect()
    except psycopg.Error as exc:
        _unavailable(f"PostgreSQL at {PG_ADMIN_URL}", exc)
    try:
        r = redis.Redis.from_url(REDIS_TEST_URL, socket_connect_timeout=3)
        r.ping()
    except redis.RedisError as exc:
        admin.close()
        _unavailable(f"Redis at {REDIS_TEST_URL}", exc)
    name = "chatdesk_test_" + secrets.token_hex(6)
    admin.execute(f'CREATE DATABASE "{name}"')
    r.flushdb()
    base = PG_ADMIN_URL.rsplit("/", 1)[0]
    yield Services(f"{base}/{name}", name, REDIS_TEST_URL, "chatdesk-test-" + secrets.token_hex(6))
    r.flushdb()
    r.close()
    admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.close()


@pytest.fixture(scope="module")
def two_servers(services):
    """Process A and process B of one desk: same database, same Redis, same channel."""
    first = LiveServer(env=services.env, migrate=True)
    second = LiveServer(env=services.env, migrate=False)
    try:
        first.start()
        second.start()
        yield first, second
    finally:
        first.cleanup()
        second.cleanup()
