"""How chat messages look in Telegram (HTML parse mode), and where their files come from."""

from __future__ import annotations

import html
import posixpath
from urllib.parse import urlparse

from django.core.files.storage import default_storage
from django.utils import translation
from django.utils.translation import gettext as _

from chat.attachments.files import LOCAL_FILENAME_RE, LOCAL_FOLDERS
from chat.models import Message, Thread

from . import language, media

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
        with translation.override(language.desk()):
            author = esc(message.agent.name) if message.agent_id else _("Admin")
            wrote = _("%(author)s (panel) to") % {"author": author}
        return f"↩️ <i>{wrote}</i> {name}{where}"
    return f"{name}{where}{_first_message_context(thread, message)}"


def _first_message_context(thread: Thread, message: Message) -> str:
    """Under the head of a thread's first visitor message: the visitor context (issue 14,
    chat/visitor_context.py), at most 600 characters; "" for later messages."""
    if not getattr(thread, "visitor_context", None):
        return ""
    first = (
        Message.objects.filter(thread_id=thread.id, sender=Message.Sender.VISITOR)
        .order_by("created_at", "id")
        .values_list("id", flat=True)
        .first()
    )
    if first != message.id:
        return ""
    from chat.visitor_context import summary_lines

    lines = "\n".join(summary_lines(thread))[:600]
    return f"\n<i>{esc(lines)}</i>" if lines else ""


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


def parts(head: str, message: Message) -> list[tuple[str, str]]:
    """The calls one chat message takes, in order, as (kind, HTML text): ("text", ...)
    for a sendMessage, ("caption", ...) for the file's call. A long text goes in parts of
    at most 4096 characters; a caption longer than 1024 continues in text messages. Each
    part starts with `head` (who wrote, which thread). The same message always gives the
    same parts, so a retry can resume with the part that failed."""
    if message.type == Message.Type.TEXT:
        budget = TEXT_LIMIT - len(head) - 1
        return [("text", f"{head}\n{piece}") for piece in split_text(message.content_text or "", budget)]
    caption_budget = CAPTION_LIMIT - len(head) - 1
    pieces = split_text(message.content_text or "", caption_budget)
    first = f"{head}\n{pieces[0]}" if pieces[0] else head
    return [("caption", first)] + [("text", f"{head}\n{piece}") for piece in pieces[1:]]


def media_method(message: Message) -> tuple[str, str]:
    """The Bot API method and its file field for an image or audio message, by its name
    (for a file only reachable by URL; stored files are chosen by content, media.py).

    Telegram plays OGG/Opus, M4A and MP3 as voice notes; a WebM recording becomes one
    once remuxed (media.py); WAV goes as a document, which every Telegram app opens.
    """
    if message.type == Message.Type.IMAGE:
        return "sendPhoto", "photo"
    ext = extension(message.file_path or "")
    if ext in ("ogg", "m4a"):
        return "sendVoice", "voice"
    if ext == "mp3":
        return "sendAudio", "audio"
    return "sendDocument", "document"


def storage_name(url: str) -> str | None:
    """The default_storage name of one of our upload URLs (local disk, a storage whose
    URLs are its names under one prefix, or Cloudinary), else None."""
    is_own_url = getattr(default_storage, "is_own_url", None)
    if is_own_url is not None:  # Cloudinary: the name is the URL after the cloud's base
        base = default_storage.base
        if url.startswith(base) and (is_own_url(url, "image") or is_own_url(url, "audio")):
            return url[len(base) :]
        return None
    for folder in LOCAL_FOLDERS.values():
        probe = default_storage.url(f"{folder}/probe")
        prefix = probe[: -len("probe")]
        if url.startswith(prefix):
            filename = url[len(prefix) :]
            if LOCAL_FILENAME_RE.match(filename) and ".." not in filename:
                return f"{folder}/{filename}"
    return None


def file_source(url: str) -> str | tuple[str, bytes]:
    """What to give Telegram for a stored file: the bytes, read through the storage (a
    local URL may be localhost; Cloudinary's by-URL limits are narrower than uploads'),
    uploaded multipart. Only a URL no storage of ours names is handed over as it is."""
    name = storage_name(url)
    if name is None:
        if url.startswith(("https://", "http://")):
            return url
        raise FileNotFoundError(url)
    with default_storage.open(name, "rb") as handle:
        return posixpath.basename(name), handle.read()


def media_upload(message: Message) -> media.Upload:
    """The call for a message's file: chosen by the file's content (a voice bubble for
    recordings Telegram can play, WebM remuxed to OGG; an animation for a moving GIF)."""
    source = file_source(message.file_path or "")
    if isinstance(source, str):
        method, field = media_method(message)
        return media.Upload(method, field, "", b"", url=source)
    filename, data = source
    if message.type == Message.Type.IMAGE:
        return media.for_image(filename, data)
    return media.for_audio(filename, data)
