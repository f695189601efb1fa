"""Tiny but well-formed files of every type the upload routes accept (and some they refuse)."""

from __future__ import annotations

import io
import struct
import wave
import zlib


def png() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00\xff\x00\x00"))
        + chunk(b"IEND", b"")
    )


def gif() -> bytes:
    return (
        b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04\x01\x00\x00\x00\x00"
        b",\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;"
    )


def jpeg() -> bytes:
    app0 = b"\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    return b"\xff\xd8" + app0 + b"\xff\xdb\x00\x43\x00" + bytes(64) + b"\xff\xd9"


def webp() -> bytes:
    vp8 = b"VP8L" + struct.pack("<I", 5) + b"\x2f\x00\x00\x00\x00" + b"\x00"
    return b"RIFF" + struct.pack("<I", 4 + len(vp8)) + b"WEBP" + vp8


def wav() -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(8000)
        out.writeframes(b"\x00\x00" * 800)
    return buffer.getvalue()


def ogg() -> bytes:
    opus_head = b"OpusHead\x01\x01\x38\x01\x80\xbb\x00\x00\x00\x00\x00"
    page = b"OggS\x00\x02" + bytes(8) + struct.pack("<I", 1) + struct.pack("<I", 0) + bytes(4) + b"\x01"
    return page + bytes([len(opus_head)]) + opus_head


def webm() -> bytes:
    # EBML header with DocType "webm", as Chrome's MediaRecorder writes it.
    doctype = b"\x42\x82\x84webm"
    body = b"\x42\x86\x81\x01" + b"\x42\xf7\x81\x01" + doctype + b"\x42\x87\x81\x04" + b"\x42\x85\x81\x02"
    return b"\x1a\x45\xdf\xa3" + bytes([0x80 | len(body)]) + body + b"\x18\x53\x80\x67\x01" + bytes(16)


def m4a() -> bytes:
    # An ISO base media file as Safari records it: ftyp box, then an empty mdat.
    ftyp = b"ftypM4A \x00\x00\x02\x00M4A isommp42"
    return struct.pack(">I", 8 + len(ftyp) - 4) + ftyp + struct.pack(">I", 8) + b"mdat"


def mp3() -> bytes:
    frame = b"\xff\xfb\x90\x64" + bytes(413)
    return b"ID3\x03\x00\x00\x00\x00\x00\x00" + frame


def mp3_without_tag() -> bytes:
    return b"\xff\xfb\x90\x64" + bytes(413)


def heic() -> bytes:
    ftyp = b"ftypheic\x00\x00\x00\x00mif1heic"
    return struct.pack(">I", 4 + len(ftyp)) + ftyp


def svg() -> bytes:
    return b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'


def html() -> bytes:
    return b"<!doctype html><html><body><script>alert(document.cookie)</script></body></html>"


def gif_html_polyglot() -> bytes:
    return b"GIF89a/*\x00\x00<html><script>alert(1)</script></html>*/"


IMAGES = {"png": png, "jpg": jpeg, "gif": gif, "webp": webp}
AUDIO = {"webm": webm, "ogg": ogg, "m4a": m4a, "mp3": mp3, "wav": wav}


CONTENT_TYPES = {
    "png": "image/png",
    "jpg": "image/jpeg",
    "gif": "image/gif",
    "webp": "image/webp",
    "webm": "audio/webm",
    "ogg": "audio/ogg",
    "m4a": "audio/mp4",
    "mp3": "audio/mpeg",
    "wav": "audio/wav",
}
