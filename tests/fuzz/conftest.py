"""One server for the whole fuzz suite: its counts are ours alone to compare."""

from __future__ import annotations

import pytest

from tests.support.clients import sign_in
from tests.support.server import LiveServer


@pytest.fixture(scope="package")
def fuzz_server():
    live = LiveServer().start()
    yield live
    live.cleanup()


@pytest.fixture(scope="package")
def fuzz_admin(fuzz_server):
    return sign_in(fuzz_server.url)
