"""How chat messages are cut and escaped for Telegram (telegram_bridge/messages.py)."""

from __future__ import annotations

import uuid

import pytest

from chat.models import Message, Thread
from telegram_bridge import messages
from telegram_bridge.messages import split_text


def test_short_text_is_one_piece():
    assert split_text("Merhaba", 4096) == ["Merhaba"]


def test_empty_text_is_one_empty_piece():
    assert split_text("", 10) == [""]


def test_text_is_cut_at_the_limit():
    assert split_text("abcdefghij", 4) == ["abcd", "efgh", "ij"]
    assert split_text("abcdefgh", 4) == ["abcd", "efgh"]
    assert split_text("abcd", 4) == ["abcd"]
    assert split_text("abcde", 4) == ["abcd", "e"]


def test_escaping_counts_towards_the_limit_and_is_never_cut():
    assert split_text("a<b", 10) == ["a&lt;b"]
    # "&lt;" is 4 characters: it does not fit after "ab" in 5, so it starts the next piece.
    assert split_text("ab<cd", 5) == ["ab", "&lt;c", "d"]
    assert split_text("<<", 4) == ["&lt;", "&lt;"]
    assert split_text("a&b>c", 6) == ["a&amp;", "b&gt;c"]
    # Quotes stay as they are (HTML parse mode needs only <, > and & escaped).
    assert split_text('"it\'s"', 10) == ['"it\'s"']


@pytest.mark.parametrize("limit", [1, 5, 7, 100])
def test_pieces_join_back_to_the_escaped_text(limit):
    text = "Kargom <nerede>? & ne zaman gelir... " * 7
    pieces = split_text(text, max(limit, 5))
    assert "".join(pieces) == messages.esc(text)
    assert all(0 < len(p) <= max(limit, 5) for p in pieces)


def test_every_character_counts_once():
    text = "ğüşıöç" * 3
    assert split_text(text, 6) == ["ğüşıöç"] * 3


def test_header_names_the_visitor_and_the_thread():
    thread = Thread(id=uuid.UUID("12345678-9abc-4def-8000-000000000000"), display_name="<Ayşe>")
    visitor = Message(sender="visitor")
    admin = Message(sender="admin")
    assert messages.header(thread, visitor, in_topic=False) == "<b>&lt;Ayşe&gt;</b> · <code>#12345678</code>"
    assert messages.header(thread, visitor, in_topic=True) == "<b>&lt;Ayşe&gt;</b>"
    assert messages.header(thread, admin, in_topic=True) == "↩️ <i>Admin (panel) to</i> <b>&lt;Ayşe&gt;</b>"


@pytest.mark.parametrize(
    ("type", "url", "method"),
    [
        ("image", "/uploads/images/x.png", ("sendPhoto", "photo")),
        ("audio", "/uploads/audio/x.ogg", ("sendVoice", "voice")),
        ("audio", "https://res.cloudinary.com/c/video/upload/v1/chat_audio/x.OGG", ("sendVoice", "voice")),
        ("audio", "/uploads/audio/x.mp3", ("sendAudio", "audio")),
        ("audio", "/uploads/audio/x.m4a", ("sendVoice", "voice")),
        ("audio", "/uploads/audio/x.webm", ("sendDocument", "document")),
        ("audio", "/uploads/audio/x.wav", ("sendDocument", "document")),
        ("audio", None, ("sendDocument", "document")),
    ],
)
def test_media_method(type, url, method):
    assert messages.media_method(Message(type=type, file_path=url)) == method
