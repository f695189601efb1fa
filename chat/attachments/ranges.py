"""Byte ranges for local uploads (RFC 9110 section 14), so audio plays and seeks everywhere.

Safari (iOS and macOS) asks for an audio file with `Range: bytes=0-1` and will not play
it unless the answer is `206 Partial Content`; every browser seeks with ranges. One range
per request is served (what media players ask for); a request for several, or a `Range`
we do not understand, gets the whole file (200), as RFC 9110 allows.
"""

from __future__ import annotations

import re
from typing import IO

from django.http import FileResponse, HttpResponse

_RANGE_RE = re.compile(r"^bytes=\s*(\d*)\s*-\s*(\d*)\s*$", re.I)


class Unsatisfiable(Exception):
    """A range that starts beyond the end of the file (answered 416)."""


def requested_range(header: str | None, size: int) -> tuple[int, int] | None:
    """The (first, last) byte offsets of a single `Range: bytes=...` header, inclusive, or
    None for "send the whole file". Raises Unsatisfiable when no byte of it exists."""
    if not header:
        return None
    match = _RANGE_RE.match(header)
    if match is None:
        return None  # several ranges, another unit, or malformed: the whole file
    first, last = match.groups()
    if first == "" and last == "":
        return None
    if first == "":
        suffix = int(last)  # bytes=-N: the last N bytes
        if suffix == 0 or size == 0:
            raise Unsatisfiable()
        return max(0, size - suffix), size - 1
    start = int(first)
    if last != "" and int(last) < start:
        return None  # invalid: ignored
    if start >= size:
        raise Unsatisfiable()
    return start, size - 1 if last == "" else min(int(last), size - 1)


class _Slice:
    """`length` bytes of a file from its current position (what a 206 streams)."""

    def __init__(self, file: IO[bytes], length: int):
        self.file = file
        self.left = length

    def read(self, n: int = -1) -> bytes:
        if self.left <= 0:
            return b""
        n = self.left if n is None or n < 0 else min(n, self.left)
        data = self.file.read(n)
        self.left -= len(data)
        return data

    def close(self) -> None:
        self.file.close()


def ranged_response(file: IO[bytes], size: int, content_type: str, range_header: str | None) -> HttpResponse:
    """200 with the whole file, 206 with the one range asked for, or 416."""
    try:
        wanted = requested_range(range_header, size)
    except Unsatisfiable:
        file.close()
        response = HttpResponse(status=416)
        response["Content-Range"] = f"bytes */{size}"
        response["Accept-Ranges"] = "bytes"
        return response
    if wanted is None:
        response = FileResponse(file, content_type=content_type)
    else:
        first, last = wanted
        file.seek(first)
        response = FileResponse(_Slice(file, last - first + 1), content_type=content_type, status=206)
        response["Content-Length"] = str(last - first + 1)
        response["Content-Range"] = f"bytes {first}-{last}/{size}"
    response["Accept-Ranges"] = "bytes"
    return response
