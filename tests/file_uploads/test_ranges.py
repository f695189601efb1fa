"""GET /uploads/... with byte ranges (Safari plays and seeks audio only with 206), and the
X-Accel-Redirect hand-over to nginx."""

from __future__ import annotations

import io
import math
import struct
import wave

import pytest
import requests

from tests.support.clients import Browserish


def tone(seconds: float = 2.0, rate: int = 8000) -> bytes:
    """A real WAV recording: a 440 Hz tone."""
    frames = b"".join(
        struct.pack("<h", int(12000 * math.sin(2 * math.pi * 440 * i / rate)))
        for i in range(int(seconds * rate))
    )
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(frames)
    return out.getvalue()


@pytest.fixture(scope="module")
def voice(server) -> tuple[str, bytes]:
    data = tone()
    http = Browserish(server.url)
    answer = http.post("/api/upload/audio", files={"file": ("voice.wav", data, "audio/wav")})
    assert answer.status_code == 200, answer.text
    return server.url + answer.json()["url"], data


def get(url: str, range_header: str | None = None, **headers: str) -> requests.Response:
    if range_header is not None:
        headers["Range"] = range_header
    return requests.get(url, headers=headers, timeout=10)


def assert_safe_headers(answer: requests.Response) -> None:
    assert answer.headers["Content-Type"] == "audio/wav"
    assert answer.headers["X-Content-Type-Options"] == "nosniff"
    assert answer.headers["Content-Security-Policy"] == "default-src 'none'; sandbox"
    assert answer.headers["Accept-Ranges"] == "bytes"


def test_whole_file_says_it_accepts_ranges(voice):
    url, data = voice
    answer = get(url)
    assert (answer.status_code, answer.content) == (200, data)
    assert answer.headers["Content-Length"] == str(len(data))
    assert "Content-Range" not in answer.headers
    assert_safe_headers(answer)


@pytest.mark.parametrize(
    "header, first, last",
    [
        ("bytes=0-1", 0, 1),  # Safari's first probe
        ("bytes=0-", 0, None),  # what it asks for next: all of it, as a 206
        ("bytes=100-199", 100, 199),
        ("bytes=1000-", 1000, None),
        ("bytes=-50", -50, None),  # the last 50 bytes
        ("bytes=30000-999999", 30000, None),  # past the end: up to the end
    ],
)
def test_a_single_range_is_206_with_exactly_those_bytes(voice, header, first, last):
    url, data = voice
    size = len(data)
    start = first if first >= 0 else size + first
    end = size - 1 if last is None else last
    answer = get(url, header)
    assert answer.status_code == 206, answer.text
    assert answer.content == data[start : end + 1]
    assert answer.headers["Content-Range"] == f"bytes {start}-{end}/{size}"
    assert answer.headers["Content-Length"] == str(end - start + 1)
    assert_safe_headers(answer)


@pytest.mark.parametrize("header", ["bytes={size}-", "bytes={size}-{bigger}", "bytes=-0"])
def test_an_unsatisfiable_range_is_416(voice, header):
    url, data = voice
    size = len(data)
    answer = get(url, header.format(size=size, bigger=size + 10))
    assert (answer.status_code, answer.content) == (416, b"")
    assert answer.headers["Content-Range"] == f"bytes */{size}"


@pytest.mark.parametrize(
    "header", ["bytes=0-1,5-9", "items=0-1", "bytes=9-2", "bytes=abc", "bytes=-"], ids=str
)
def test_ranges_we_do_not_serve_get_the_whole_file(voice, header):
    url, data = voice
    answer = get(url, header)
    assert (answer.status_code, answer.content) == (200, data)


def test_if_range_we_cannot_check_gets_the_whole_file(voice):
    url, data = voice
    answer = get(url, "bytes=0-1", **{"If-Range": '"some-etag"'})
    assert (answer.status_code, answer.content) == (200, data)


@pytest.mark.parametrize(
    "path",
    ["/uploads/audio/nothing-here.wav", "/uploads/audio/..%2f..%2fsettings.py", "/uploads/other/x.wav"],
)
def test_the_same_checks_come_before_any_range(server, path):
    answer = get(server.url + path, "bytes=0-1")
    assert answer.status_code == 404
    assert "Content-Range" not in answer.headers


def test_x_accel_redirect_hands_the_bytes_to_nginx_after_the_checks(make_server):
    live = make_server({"UPLOADS_X_ACCEL_REDIRECT": "/_uploads/"})
    http = Browserish(live.url)
    answer = http.post("/api/upload/audio", files={"file": ("voice.wav", tone(0.2), "audio/wav")})
    assert answer.status_code == 200, answer.text
    path = answer.json()["url"]
    served = get(live.url + path, "bytes=0-1")
    assert (served.status_code, served.content) == (200, b"")
    assert served.headers["X-Accel-Redirect"] == "/_uploads/" + path.removeprefix("/uploads/")
    assert served.headers["Content-Type"] == "audio/wav"
    assert served.headers["X-Content-Type-Options"] == "nosniff"
    missing = get(live.url + "/uploads/audio/nothing-here.wav")
    assert missing.status_code == 404 and "X-Accel-Redirect" not in missing.headers
