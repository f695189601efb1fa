"""Uploaded files: where they live and which URLs count as ours."""

from __future__ import annotations

import re

from django.conf import settings

# The folder each message type's files are uploaded to (local disk, Cloudinary).
LOCAL_FOLDERS = {"image": "images", "audio": "audio"}
CLOUDINARY_FOLDERS = {"image": "chat_images", "audio": "chat_audio"}

LOCAL_FILENAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,200}$")


def cloudinary_cloud_name() -> str | None:
    url = settings.CLOUDINARY_URL
    if not url:
        return None
    # cloudinary://<key>:<secret>@<cloud_name>
    return url.rsplit("@", 1)[-1].split("?", 1)[0].strip("/") or None


def is_own_upload_url(url: str, kind: str) -> bool:
    """True when `url` is a file this chat stored for a message of `kind`.

    Only our own uploads may appear in messages, so nobody can make the panel (or a
    visitor) load an arbitrary URL.
    """
    folder = LOCAL_FOLDERS.get(kind)
    if folder is None or len(url) > 1024:
        return False
    prefix = f"{settings.MEDIA_URL}{folder}/"
    if url.startswith(prefix):
        return bool(LOCAL_FILENAME_RE.match(url[len(prefix):]))
    cloud = cloudinary_cloud_name()
    if cloud:
        resource = "image" if kind == "image" else "video"
        pattern = (
            rf"^https://res\.cloudinary\.com/{re.escape(cloud)}/{resource}/upload/"
            rf"(?:v\d+/)?{CLOUDINARY_FOLDERS[kind]}/[A-Za-z0-9._-]+$"
        )
        return re.match(pattern, url) is not None
    return False


# --- What a file really is, by its first bytes ------------------------------------------

IMAGE_TYPES = {"png": "image/png", "jpg": "image/jpeg", "gif": "image/gif", "webp": "image/webp"}
AUDIO_TYPES = {
    "webm": "audio/webm",
    "ogg": "audio/ogg",
    "m4a": "audio/mp4",
    "mp3": "audio/mpeg",
    "wav": "audio/wav",
}
CONTENT_TYPES = {**IMAGE_TYPES, **AUDIO_TYPES, "jpeg": "image/jpeg", "mp4": "audio/mp4"}


def sniff_image(head: bytes) -> str | None:
    """The image format of these leading bytes (an extension), or None."""
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpg"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "gif"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    return None


def sniff_audio(head: bytes) -> str | None:
    """The audio container of these leading bytes (an extension), or None."""
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return "webm"
    if head.startswith(b"OggS"):
        return "ogg"
    if head[4:8] == b"ftyp":
        return "m4a"
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return "wav"
    if head.startswith(b"ID3") or (len(head) > 1 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0):
        return "mp3"
    return None
