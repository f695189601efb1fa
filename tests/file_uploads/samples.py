"""Tiny but well-formed files of every type the upload routes accept (and some they refuse)."""

from __future__ import annotations

import io
import struct
import wave
from functools import cache

from PIL import ExifTags, Image

from chat.attachments.images import reencode


def _normalised(ext: str, fmt: str, mode: str, **options) -> bytes:
    """A small real picture, already in the form uploads store (re-encoding it changes
    nothing), so tests can compare what they sent with what is served or forwarded."""
    image = Image.new(mode, (8, 8), (234, 88, 12) if mode == "RGB" else 5)
    out = io.BytesIO()
    image.save(out, fmt, **options)
    data = out.getvalue()
    for _ in range(5):
        again = reencode(data, ext, max_pixels=10**6)
        if again == data:
            return data
        data = again
    raise AssertionError(f"re-encoding a {ext} does not settle")


@cache
def png() -> bytes:
    return _normalised("png", "PNG", "RGB")


@cache
def gif() -> bytes:
    return _normalised("gif", "GIF", "P")


@cache
def jpeg() -> bytes:
    return _normalised("jpg", "JPEG", "RGB", quality=90)


@cache
def webp() -> bytes:
    return _normalised("webp", "WEBP", "RGB", lossless=True)


GPS_LATITUDE = (41.0, 0.0, 5.0)  # 41° 0' 5" N: somewhere in Istanbul
GPS_LONGITUDE = (28.0, 58.0, 40.0)


def phone_photo(width: int = 40, height: int = 20, orientation: int = 6) -> bytes:
    """A JPEG as a phone writes it: stored sideways with EXIF orientation 6 (turn 90°
    clockwise to view), GPS position, camera make/model, time, an XMP packet and a comment.
    Its left half is red, its right half blue, so the upright picture is red on top."""
    image = Image.new("RGB", (width, height), (220, 20, 20))
    image.paste((20, 20, 220), (width // 2, 0, width, height))
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = orientation
    exif[ExifTags.Base.Make] = "PhoneMaker"
    exif[ExifTags.Base.Model] = "Phone 15 Pro"
    exif[ExifTags.Base.DateTime] = "2026:11:29 10:00:00"
    exif[ExifTags.IFD.GPSInfo] = {
        ExifTags.GPS.GPSLatitudeRef: "N",
        ExifTags.GPS.GPSLatitude: GPS_LATITUDE,
        ExifTags.GPS.GPSLongitudeRef: "E",
        ExifTags.GPS.GPSLongitude: GPS_LONGITUDE,
    }
    xmp = b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:Description GPSLatitude="41,0.08N"/></x:xmpmeta>'
    out = io.BytesIO()
    image.save(out, "JPEG", quality=95, exif=exif, xmp=xmp, comment=b"taken at home")
    return out.getvalue()


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
