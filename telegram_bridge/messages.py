"""How chat messages look in Telegram (HTML parse mode), and where their files come from."""

from __future__ import annotations

import html
import posixpath
from urllib.parse import urlparse

from django.core.files.storage import default_storage

from chat.models import Message, Thread
from chat.uploads.files import LOCAL_FILENAME_RE, LOCAL_FOLDERS

TEXT_LIMIT = 4096  # Telegram's limit for a message, after entity parsing
CAPTION_LIMIT = 1024


def esc(text: str) -> str:
    return html.escape(text, quote=False)


def short_id(thread_id) -> str:
    return str(thread_id)[:8]


def header(thread: Thread, message: Message, in_topic: bool) -> str:
    """Who wrote, and in which thread: the thread's short id is what /thread accepts."""
    name = f"<b>{esc(thread.display_name)}</b>"
    where = "" if in_topic else f" · <code>#{short_id(thread.id)}</code>"
    if message.sender == Message.Sender.ADMIN:
        # Who answered in the panel (issue 13); "Admin" for replies without an agent.
        author = esc(message.agent.name) if message.agent_id else "Admin"
        return f"↩️ <i>{author} (panel) to</i> {name}{where}"
    return f"{name}{where}"


def split_text(text: str, limit: int) -> list[str]:
    """`text` escaped and cut into pieces of at most `limit` characters each."""
    pieces, current = [], ""
    for char in text:
        escaped = esc(char)
        if len(current) + len(escaped) > limit:
            pieces.append(current)
            current = ""
        current += escaped
    if current or not pieces:
        pieces.append(current)
    return pieces


def extension(url: str) -> str:
    return posixpath.splitext(urlparse(url).path)[1].lstrip(".").lower()


def media_method(message: Message) -> tuple[str, str]:
    """The Bot API method and its file field for an image or audio message.

    Voice notes must be OGG/Opus; sendAudio plays MP3 and M4A; anything else (WebM, WAV)
    goes as a document, which every Telegram app can download and open.
    """
    if message.type == Message.Type.IMAGE:
        return "sendPhoto", "photo"
    ext = extension(message.file_path or "")
    if ext == "ogg":
        return "sendVoice", "voice"
    if ext in ("mp3", "m4a"):
        return "sendAudio", "audio"
    return "sendDocument", "document"


def storage_name(url: str) -> str | None:
    """The default_storage name of one of our local upload URLs, else None."""
    for folder in LOCAL_FOLDERS.values():
        probe = default_storage.url(f"{folder}/probe")
        prefix = probe[: -len("probe")]
        if url.startswith(prefix):
            filename = url[len(prefix) :]
            if LOCAL_FILENAME_RE.match(filename) and ".." not in filename:
                return f"{folder}/{filename}"
    return None


def file_source(url: str) -> str | tuple[str, bytes]:
    """What to give Telegram for a stored file: its public http(s) URL (Cloudinary), or
    the bytes themselves, read through the storage (a local URL may be localhost)."""
    if url.startswith(("https://", "http://")) and not storage_name(url):
        return url
    name = storage_name(url)
    if name is None:
        raise FileNotFoundError(url)
    with default_storage.open(name, "rb") as handle:
        return posixpath.basename(name), handle.read()
