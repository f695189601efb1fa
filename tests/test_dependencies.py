"""The installed packages are the locked ones, and the daphne/Twisted internals that the
request-body limit (chatdesk/body_limit.py) patches are still what it expects.

If a test here fails after an upgrade, read chatdesk/body_limit.py before anything else:
the body limit may no longer hold, and uploads of any size would be buffered again.
"""

from __future__ import annotations

import inspect
import re
from importlib import metadata
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?==([^\s;\\]+)", re.M)


def normalised(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def pins(filename: str) -> dict[str, str]:
    return {normalised(name): version for name, version in PIN.findall((ROOT / filename).read_text())}


# --- The lock files -------------------------------------------------------------------


@pytest.mark.parametrize("lock", ["requirements.lock", "requirements-dev.lock"])
def test_installed_versions_are_the_locked_ones(lock):
    wrong = {}
    for name, version in pins(lock).items():
        try:
            installed = metadata.version(name)
        except metadata.PackageNotFoundError:
            installed = None
        if installed != version:
            wrong[name] = (version, installed)
    assert not wrong, f"installed differs from {lock} (locked, installed): {wrong}; run `make test`"


@pytest.mark.parametrize(
    "requirements, lock",
    [("requirements.txt", "requirements.lock"), ("requirements-dev.txt", "requirements-dev.lock")],
)
def test_every_pinned_requirement_is_locked_at_its_pin(requirements, lock):
    wanted = pins(requirements)
    locked = pins(lock)
    assert wanted, requirements
    stale = {
        name: (version, locked.get(name)) for name, version in wanted.items() if locked.get(name) != version
    }
    assert not stale, f"{lock} is out of date with {requirements}: {stale}; run `make lock`"


def test_the_production_lock_is_part_of_the_development_lock():
    production, development = pins("requirements.lock"), pins("requirements-dev.lock")
    assert {name: development.get(name) for name in production} == production


@pytest.mark.parametrize("lock", ["requirements.lock", "requirements-dev.lock"])
def test_every_locked_package_has_a_hash(lock):
    entries: list[list[str]] = []
    for line in (ROOT / lock).read_text().splitlines():
        if re.match(r"[A-Za-z0-9]", line):
            entries.append([line])
        elif entries and line.startswith(" "):
            entries[-1].append(line)
    unhashed = [entry[0] for entry in entries if not any("--hash=sha256:" in line for line in entry)]
    assert not unhashed
    assert len(entries) == len(pins(lock))


# --- What chatdesk/body_limit.py relies on ----------------------------------------------


def test_daphne_request_class_is_twisteds_with_the_hooks_the_limit_wraps():
    from daphne.http_protocol import WebRequest
    from twisted.web import http

    assert issubclass(WebRequest, http.Request)
    # daphne overrides process and handle_reply, and inherits Twisted's body reception.
    assert "process" in vars(WebRequest) and "handle_reply" in vars(WebRequest)
    original = [vars(WebRequest).get(name) for name in ("gotLength", "handleContentChunk")]
    patched = getattr(WebRequest, "_chatdesk_body_limit", False)
    if not patched:
        assert original == [None, None], "daphne now overrides gotLength/handleContentChunk itself"
    signatures = {
        "gotLength": ["self", "length"],
        "handleContentChunk": ["self", "data"],
        "process": ["self"],
    }
    for name, params in signatures.items():
        assert list(inspect.signature(getattr(http.Request, name)).parameters) == params, name
    assert list(inspect.signature(WebRequest.handle_reply).parameters) == ["self", "message"]
    assert callable(getattr(WebRequest, "_limit_hang_up", None)) or not patched


def test_twisted_reads_a_body_the_way_the_limit_expects():
    """The order the limit depends on: the request line is in `channel._path` when
    `gotLength(length)` is called, `gotLength` creates `self.content`, the body arrives
    through `handleContentChunk(data)`, then `process()` runs; a chunked body has no length."""
    from twisted.internet.testing import StringTransport
    from twisted.web import http

    seen: list = []

    class Recording(http.Request):
        def gotLength(self, length):
            seen.append(("gotLength", length, self.channel._path))
            super().gotLength(length)
            seen.append(("content", hasattr(self.content, "write")))

        def handleContentChunk(self, data):
            seen.append(("chunk", data))
            super().handleContentChunk(data)

        def process(self):
            self.content.seek(0)
            seen.append(("process", self.content.read()))
            self.setResponseCode(204)
            self.finish()

    for raw, length, chunks in [
        (b"POST /api/upload/image?x=1 HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\nhello", 5, [b"hello"]),
        (
            b"POST /api/upload/image?x=1 HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
            b"3\r\nhel\r\n2\r\nlo\r\n0\r\n\r\n",
            None,
            [b"hel", b"lo"],
        ),
    ]:
        seen.clear()
        channel = http.HTTPChannel()
        channel.requestFactory = Recording
        transport = StringTransport()
        channel.makeConnection(transport)
        channel.dataReceived(raw)
        assert seen == [
            ("gotLength", length, b"/api/upload/image?x=1"),
            ("content", True),
            *[("chunk", chunk) for chunk in chunks],
            ("process", b"hello"),
        ]
        assert transport.value().startswith(b"HTTP/1.1 204")
        channel.connectionLost(None)


def test_the_limit_installs_on_this_daphne():
    from daphne.http_protocol import WebRequest

    from chatdesk.body_limit import install_daphne_body_limit

    install_daphne_body_limit()
    install_daphne_body_limit()  # idempotent
    assert WebRequest._chatdesk_body_limit is True
    assert WebRequest.gotLength.__name__ == "gotLength" and WebRequest.gotLength.__qualname__.startswith(
        "install_daphne_body_limit"
    )
