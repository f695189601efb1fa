"""Fixtures that start real things: the chatdesk server under daphne, signed-in admins."""

from __future__ import annotations

import os

import pytest

from tests.support.clients import Browserish, sign_in
from tests.support.server import LiveServer


@pytest.fixture(scope="session")
def server():
    """The app on SQLite, in-process realtime, local uploads, Telegram off (the defaults)."""
    live = LiveServer().start()
    yield live
    live.cleanup()


@pytest.fixture(scope="session")
def admin_http(server) -> Browserish:
    """An admin signed in through the real /request-otp + /verify-otp flow."""
    return sign_in(server.url)


@pytest.fixture
def make_server():
    """Start extra servers with their own settings; all are stopped after the test."""
    started: list[LiveServer] = []

    def make(env: dict[str, str] | None = None, **kwargs) -> LiveServer:
        live = LiveServer(env=env, **kwargs)
        started.append(live)
        return live.start()

    yield make
    for live in started:
        live.cleanup()


def services_required() -> bool:
    """In CI the production-setup tests must fail, not skip, without PostgreSQL and Redis."""
    return os.getenv("CHATDESK_REQUIRE_SERVICES") == "1" or os.getenv("CI") == "true"
