"""Upload tests: the live server must never answer them with a crash."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True, scope="module")
def no_server_errors(server):
    """Bad uploads get JSON refusals; a traceback in the server log during a module fails it."""
    start = len(server.log())
    yield
    written = server.log()[start:]
    assert "Traceback" not in written and '" 500 ' not in written, written[-4000:]
