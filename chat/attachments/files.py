"""Uploaded files: what they really are, where they are stored, which URLs count as ours.

Every file goes through Django's storage API (`default_storage`): local disk by default,
Cloudinary when CLOUDINARY_URL is set (chat/cloudinary_storage.py), or any
django-storages backend chosen with STORAGE_BACKEND. `store_file` is the one way in.
"""

from __future__ import annotations

import logging
import re
import uuid
from functools import lru_cache
from typing import IO
from urllib.parse import urlparse

from django.conf import settings
from django.core.files.base import ContentFile, File
from django.core.files.storage import FileSystemStorage, default_storage, storages
from django.utils.text import get_valid_filename

from chatdesk.refusals import FileTooLarge

from .images import reencode
from .refusals import EmptyFile, MarkupInFile, UnsupportedAudio, UnsupportedImage

logger = logging.getLogger("chat.attachments")

# The folder each message type's files are stored in (local disk, S3...; Cloudinary).
LOCAL_FOLDERS = {"image": "images", "audio": "audio"}
CLOUDINARY_FOLDERS = {"image": "chat_images", "audio": "chat_audio"}
KIND_OF_FOLDER = {folder: kind for kind, folder in LOCAL_FOLDERS.items()}

# Names we generate: "<uuid>_<safe stem>.<ext>" for images, "<uuid>.<ext>" for audio.
LOCAL_FILENAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,200}$")

# How many leading bytes are read to tell what a file is (and to spot markup in it).
SNIFF_BYTES = 1024


class StorageFailed(Exception):
    """The storage (Cloudinary, S3...) did not take the file; nothing was stored.

    Its message is a detail for logs and admins; clients get the `NotStored` refusal.
    """


def cloudinary_cloud_name() -> str | None:
    url = settings.CLOUDINARY_URL
    if not url:
        return None
    # cloudinary://<key>:<secret>@<cloud_name>[?options]
    netloc = urlparse(url).netloc
    return netloc.rsplit("@", 1)[-1] or None


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
EXTENSIONS = {"image": set(IMAGE_TYPES), "audio": set(AUDIO_TYPES)}

# ISO base media brands that are pictures, not recordings (HEIC, AVIF).
_IMAGE_BRANDS = {b"heic", b"heix", b"hevc", b"heim", b"heis", b"mif1", b"msf1", b"avif", b"avis"}
# Markup a browser might run if it ever sniffed the file as a page (polyglots).
_MARKUP_RE = re.compile(rb"<\s*(?:html|script|svg|body|head|iframe|object|embed|!doctype|\?xml)", re.I)


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
    """The audio container of these leading bytes (an extension), or None.

    MP4 recordings (Safari's MediaRecorder) are called .m4a, WebM (Chrome, Firefox) .webm.
    """
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return "webm"
    if head.startswith(b"OggS"):
        return "ogg"
    if head[4:8] == b"ftyp" and head[8:12].lower() not in _IMAGE_BRANDS:
        return "m4a"
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return "wav"
    if head.startswith(b"ID3"):
        return "mp3"
    # An MPEG audio frame: 11 sync bits, a layer, a bitrate index that is not "bad".
    if (
        len(head) > 2
        and head[0] == 0xFF
        and head[1] & 0xE0 == 0xE0
        and head[1] & 0x06
        and head[2] & 0xF0 != 0xF0
    ):
        return "mp3"
    return None


def check_content(kind: str, head: bytes) -> str:
    """The extension to store a file of `kind` under, judged by its leading bytes.

    Raises an UploadRefused refusal for anything that is not a picture / recording we
    accept, and for polyglots that carry markup in their first bytes.
    """
    if not head:
        raise EmptyFile()
    if kind == "image":
        ext = sniff_image(head)
        if ext is None:
            raise UnsupportedImage()
    else:
        ext = sniff_audio(head)
        if ext is None:
            raise UnsupportedAudio()
    if _MARKUP_RE.search(head):
        raise MarkupInFile()
    return ext


def storage_name(kind: str, ext: str, original_name: str = "") -> str:
    """Where a new file goes in the storage: images keep a safe form of their name."""
    folder = LOCAL_FOLDERS[kind]
    if kind == "image":
        stem = (original_name or "image").replace("\\", "/").rsplit("/", 1)[-1].rsplit(".", 1)[0]
        stem = get_valid_filename(stem.replace(".", "_"))[:60] if stem else ""
        stem = re.sub(r"[^A-Za-z0-9_-]", "", stem) or "image"
        return f"{folder}/{uuid.uuid4()}_{stem}.{ext}"
    return f"{folder}/{uuid.uuid4()}.{ext}"


def store_file(kind: str, data: bytes | IO[bytes], original_name: str = "") -> str:
    """Check a picture ("image") or recording ("audio") by its content and store it.

    `data` is the file's bytes or a readable binary file (an UploadedFile, a download
    from Telegram...). Returns the URL to put in a message's `file_url`: it passes
    `is_own_upload_url`, and its extension is the real format (.ogg, .m4a, .webm, ...).
    Raises a refusal (UploadRefused: empty, not an accepted type; FileTooLarge) or
    StorageFailed (the storage did not take it; nothing refers to it).
    """
    if kind not in LOCAL_FOLDERS:
        raise ValueError(f"unknown upload kind {kind!r}")
    if isinstance(data, bytes):
        content: File = ContentFile(data, name=original_name or "upload")
    else:
        content = data if isinstance(data, File) else File(data)
    size = content.size
    if not size:
        raise EmptyFile()
    if size > settings.UPLOAD_MAX_BYTES:
        raise FileTooLarge()
    content.seek(0)
    head = content.read(SNIFF_BYTES)
    content.seek(0)
    ext = check_content(kind, head)
    if kind == "image":
        # Upright and without metadata (GPS, device, comments): chat/attachments/images.py.
        content = ContentFile(reencode(content.read(), ext, settings.UPLOAD_MAX_PIXELS))
    name = storage_name(kind, ext, original_name)
    try:
        saved = default_storage.save(name, content)
    except StorageFailed:
        raise
    except Exception as exc:  # any backend's failure (disk full, S3 down) means "not stored"
        logger.exception("upload_store_failed kind=%s name=%s", kind, name)
        raise StorageFailed(f"Could not store the file: {type(exc).__name__}") from exc
    url = default_storage.url(saved)
    logger.info("upload_stored kind=%s name=%s size=%s", kind, saved, size)
    return url


# --- Which URLs are ours -------------------------------------------------------------


@lru_cache(maxsize=8)
def _storage_url_prefix(folder: str) -> str | None:
    """The URL prefix the storage gives files of `folder` (None if its URLs are signed)."""
    probe = "probe0.png"
    try:
        url = default_storage.url(f"{folder}/{probe}")
    except Exception:
        return None
    if not url.endswith(f"{folder}/{probe}"):
        return None
    return url[: -len(probe)]


def is_own_upload_url(url: str, kind: str) -> bool:
    """True when `url` is a file this chat stored for a message of `kind`.

    Only our own uploads may appear in messages, so nobody can make the panel (or a
    visitor) load an arbitrary URL.
    """
    folder = LOCAL_FOLDERS.get(kind)
    if folder is None or not isinstance(url, str) or len(url) > 1024:
        return False
    own_check = getattr(default_storage, "is_own_url", None)
    if own_check is not None:
        return own_check(url, kind)
    prefix = _storage_url_prefix(folder)
    if prefix is None or not url.startswith(prefix):
        return False
    filename = url[len(prefix) :]
    if not LOCAL_FILENAME_RE.match(filename) or ".." in filename:
        return False
    if filename.rsplit(".", 1)[-1].lower() not in EXTENSIONS[kind]:
        return False
    # On local disk, checking that the file is there costs one stat, so no message can
    # point at a file that was never stored. (Remote storages would need a network call.)
    if isinstance(storages["default"], FileSystemStorage):
        return default_storage.exists(f"{folder}/{filename}")
    return True
