"""A server whose realtime goes through Redis, so `manage.py` commands reach its sockets."""

from __future__ import annotations

import pytest

from tests.support.clients import sign_in
from tests.support.server import LiveServer

# Redis database 14 and a channel of our own: other suites' servers never hear our events.
REDIS_ENV = {"REDIS_URL": "redis://127.0.0.1:6379/14", "SOCKETIO_REDIS_CHANNEL": "chatdesk-ops-tests"}


@pytest.fixture(scope="module")
def redis_server():
    live = LiveServer(env=REDIS_ENV).start()
    yield live
    live.cleanup()


@pytest.fixture(scope="module")
def redis_admin_http(redis_server):
    return sign_in(redis_server.url)
