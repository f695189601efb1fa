"""Edits (chat.services.edit_message) and the bridge's media choices (telegram_bridge/media.py)."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from chat import services
from chat.events import ADMIN_ROOM
from chat.models import Message, MessageEdit, Thread
from chat.serializers import iso_time
from chat.validation import MessageInput
from chatdesk.refusals import NotEditable, NotYourMessage, UnknownMessage
from telegram_bridge import media
from tests.file_uploads import samples
from tests.telegram.recordings import animated_gif, container_of, webm_opus


def text(thread_id, body: str) -> MessageInput:
    return MessageInput(uuid.UUID(str(thread_id)), "text", body, None, None)


@pytest.mark.django_db
def test_an_edit_keeps_the_old_text_in_the_history_and_tells_both_sides(clock, published):
    thread = services.create_thread("Ahmet")
    reply, _ = services.post_admin_message(text(thread.id, "at 8"), "panel")
    at = clock.advance(30)
    message, changed = published.commit(services.edit_message, reply.id, "at 9", "panel")
    assert changed is True
    stored = Message.objects.get(pk=reply.pk)
    assert (stored.content_text, stored.edited_at, stored.search_text) == ("at 9", at, "at 9")
    assert [(e.previous_text, e.via, e.edited_at) for e in MessageEdit.objects.all()] == [
        ("at 8", "panel", at)
    ]
    payload = {
        "id": str(reply.id),
        "thread_id": str(thread.id),
        "content_text": "at 9",
        "edited_iso": iso_time(at),
        "via": "panel",
    }
    assert published.named("message_edited") == [(payload, str(thread.id)), (payload, ADMIN_ROOM)]
    # The thread's preview is its newest message: corrected too.
    assert Thread.objects.get(pk=thread.pk).last_message_text == "at 9"
    # The same text again: nothing stored, nothing sent.
    _, again = published.commit(services.edit_message, reply.id, "at 9", "panel")
    assert again is False and MessageEdit.objects.count() == 1


@pytest.mark.django_db
def test_edits_refused(clock):
    thread = services.create_thread("Ahmet")
    visitor_message, _ = services.post_visitor_message(text(thread.id, "mine"))
    reply, _ = services.post_admin_message(text(thread.id, "hi"), "panel")
    with pytest.raises(NotYourMessage):
        services.edit_message(visitor_message.id, "changed", "panel")
    with pytest.raises(NotYourMessage):  # from Telegram neither: only admins' replies
        services.edit_message(visitor_message.id, "changed", "telegram")
    with pytest.raises(UnknownMessage):
        services.edit_message(uuid.uuid4(), "x", "panel")
    with pytest.raises(NotEditable):  # a text message keeps some text
        services.edit_message(reply.id, None, "panel")
    clock.advance(timedelta(hours=services.EDIT_WINDOW_HOURS, seconds=1).total_seconds())
    with pytest.raises(NotEditable):  # too late in the panel (Telegram would refuse the mirror)
        services.edit_message(reply.id, "late", "panel")
    assert services.edit_message(reply.id, "late from Telegram", "telegram")[1] is True
    assert MessageEdit.objects.count() == 1


def test_webm_opus_is_remuxed_to_ogg_opus_with_its_duration():
    upload = media.for_audio("note.webm", webm_opus(seconds=2.0))
    assert (upload.method, upload.field, upload.filename) == ("sendVoice", "voice", "note.ogg")
    assert container_of(upload.data)[:2] == ("ogg", "opus")
    assert upload.params == {"duration": 2}


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (samples.ogg(), ("sendVoice", "voice")),
        (samples.m4a(), ("sendVoice", "voice")),
        (samples.mp3(), ("sendAudio", "audio")),
        (samples.wav(), ("sendDocument", "document")),
        (samples.webm(), ("sendDocument", "document")),  # a WebM header with no Opus in it
    ],
)
def test_audio_is_chosen_by_content(data, expected):
    upload = media.for_audio("x.bin", data)
    assert (upload.method, upload.field) == expected
    if upload.method == "sendDocument":
        assert upload.data == data


def test_only_a_moving_gif_is_an_animation():
    assert media.for_image("a.gif", animated_gif()).method == "sendAnimation"
    assert media.for_image("b.gif", samples.gif()).method == "sendPhoto"
    assert media.for_image("c.png", samples.png()).method == "sendPhoto"
