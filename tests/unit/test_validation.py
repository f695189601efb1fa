"""What clients may send (chat/validation.py): each rule at its boundary.

Refusals are asserted by type (and code where the type has one), never by English text:
the messages are translated."""

from __future__ import annotations

import uuid

import pytest

from chat import validation
from chat.attachments.files import store_file
from chat.validation import InvalidInput, MessageInput
from tests.file_uploads import samples

THREAD = "2b1f3c4d-0000-4000-8000-000000000001"
OGG = b"OggS" + b"\x00" * 32


def refused(func, *args):
    with pytest.raises(InvalidInput) as caught:
        func(*args)
    return caught.value


def test_a_payload_must_be_a_mapping():
    assert validation.require_mapping({"a": 1}) == {"a": 1}
    for bad in (None, [], "text", 1):
        refused(validation.require_mapping, bad)


def test_thread_id():
    assert validation.parse_thread_id(THREAD) == uuid.UUID(THREAD)
    assert validation.parse_thread_id(THREAD.upper()) == uuid.UUID(THREAD)
    for bad in (None, "", 1, "not-a-uuid", THREAD + "0", [THREAD]):
        refused(validation.parse_thread_id, bad)


def test_display_name_is_cleaned():
    assert validation.parse_display_name("  Ayşe   Yılmaz \n") == "Ayşe Yılmaz"
    assert validation.parse_display_name("A\x00h\x07met") == "Ahmet"
    assert validation.parse_display_name("tab\there") == "tab here"
    assert validation.parse_display_name("two\nlines\r\nthree") == "two lines three"


def test_display_name_is_required(settings):
    for bad in (None, 5, "", "   ", "\x00\x01", ["Ahmet"]):
        refused(validation.parse_display_name, bad)


def test_display_name_length_limit(settings):
    settings.DISPLAY_NAME_MAX_CHARS = 10
    assert validation.parse_display_name("x" * 10) == "x" * 10
    assert validation.parse_display_name(" " + "x" * 10 + " ") == "x" * 10
    refused(validation.parse_display_name, "x" * 11)


def test_client_id():
    assert validation.parse_client_id(None) is None
    for good in ("a", "A-z_0.9:x", "x" * 64):
        assert validation.parse_client_id(good) == good
    for bad in ("", "x" * 65, "has space", "ü", "a/b", 5, "\na"):
        refused(validation.parse_client_id, bad)


def test_client_id_with_a_trailing_newline_is_refused():
    refused(validation.parse_client_id, "a\n")


def test_text_required():
    assert validation.parse_text("  hi  ", True) == "hi"
    assert validation.parse_text("line\nnext\tcol", True) == "line\nnext\tcol"
    assert validation.parse_text("a\x00b\x1bc", True) == "abc"
    # Printable text passes untouched; other separators (not control characters) stay.
    assert validation.parse_text("Merhaba 😀 ğüş\u00a0\u2028x", True) == "Merhaba 😀 ğüş\u00a0\u2028x"
    assert validation.parse_text("\x7fa\x85b", True) == "ab"
    for bad in (None, "", "   ", "\x00", 5, ["hi"]):
        refused(validation.parse_text, bad, True)


def test_text_optional():
    assert validation.parse_text(None, False) is None
    assert validation.parse_text("", False) is None
    assert validation.parse_text("   ", False) is None
    assert validation.parse_text("\x00", False) is None
    assert validation.parse_text(" caption ", False) == "caption"
    refused(validation.parse_text, 5, False)


@pytest.mark.parametrize("required", [True, False])
def test_text_length_limit(settings, required):
    settings.MESSAGE_MAX_CHARS = 5
    assert validation.parse_text("12345", required) == "12345"
    assert validation.parse_text("  12345  ", required) == "12345"
    refused(validation.parse_text, "123456", required)


def test_a_text_message():
    parsed = validation.parse_message(
        {"thread_id": THREAD, "type": "text", "text": " hi ", "client_id": "c1"}
    )
    assert parsed == MessageInput(uuid.UUID(THREAD), "text", "hi", None, "c1")
    # type defaults to text, client_id is optional, a stray file_url is ignored
    parsed = validation.parse_message({"thread_id": THREAD, "text": "hi", "file_url": "/x"})
    assert parsed == MessageInput(uuid.UUID(THREAD), "text", "hi", None, None)


@pytest.mark.parametrize(
    "payload",
    [
        None,
        [],
        {"type": "text", "text": "hi"},
        {"thread_id": "nope", "text": "hi"},
        {"thread_id": THREAD, "type": "video", "text": "hi"},
        # A type that is not a string (not hashable, for a set lookup) is refused too.
        {"thread_id": THREAD, "type": ["text"], "text": "hi"},
        {"thread_id": THREAD, "type": {"text": 1}, "text": "hi"},
        {"thread_id": THREAD, "type": 1, "text": "hi"},
        {"thread_id": THREAD, "type": "text"},
        {"thread_id": THREAD, "type": "text", "text": "   "},
        {"thread_id": THREAD, "type": "text", "text": "hi", "client_id": "bad id"},
        {"thread_id": THREAD, "type": "image"},
        {"thread_id": THREAD, "type": "image", "file_url": ""},
        {"thread_id": THREAD, "type": "audio", "file_url": 5},
        {"thread_id": THREAD, "type": "image", "file_url": "https://evil.example/x.png"},
    ],
)
def test_messages_refused(payload, local_uploads):
    refused(validation.parse_message, payload)


def test_file_messages_need_our_own_upload_of_that_kind(local_uploads):
    image = store_file("image", samples.png(), "kedi.png")
    audio = store_file("audio", OGG)
    parsed = validation.parse_message({"thread_id": THREAD, "type": "image", "file_url": image})
    assert parsed == MessageInput(uuid.UUID(THREAD), "image", None, image, None)
    parsed = validation.parse_message(
        {"thread_id": THREAD, "type": "audio", "file_url": audio, "text": " voice ", "client_id": "v"}
    )
    assert parsed == MessageInput(uuid.UUID(THREAD), "audio", "voice", audio, "v")
    # An image is not a recording, and the other way round.
    refused(validation.parse_message, {"thread_id": THREAD, "type": "audio", "file_url": image})
    refused(validation.parse_message, {"thread_id": THREAD, "type": "image", "file_url": audio})
    # A caption is checked like any text.
    refused(validation.parse_message, {"thread_id": THREAD, "type": "image", "file_url": image, "text": 5})


def test_a_photos_size_and_a_voice_notes_length(local_uploads):
    image = store_file("image", samples.png(), "kedi.png")
    audio = store_file("audio", OGG)
    base = {"thread_id": THREAD, "type": "image", "file_url": image}
    assert validation.parse_message({**base, "width": 640, "height": 480.0}).width == 640
    parsed = validation.parse_message({**base, "width": 1, "height": 100_000})
    assert (parsed.width, parsed.height, parsed.duration_ms) == (1, 100_000, None)
    # Both or neither: one side alone says nothing about the box.
    parsed = validation.parse_message({**base, "width": 640})
    assert (parsed.width, parsed.height) == (None, None)
    for bad in (0, -1, 100_001, 1.5, "640", True, float("nan")):
        refused(validation.parse_message, {**base, "width": bad, "height": 480})
        refused(validation.parse_message, {**base, "width": 640, "height": bad})
    voice = {"thread_id": THREAD, "type": "audio", "file_url": audio}
    assert validation.parse_message({**voice, "duration": 2.5}).duration_ms == 2500
    assert validation.parse_message({**voice, "duration": 0}).duration_ms == 0
    assert validation.parse_message({**voice, "duration": 86_400}).duration_ms == 86_400_000
    assert validation.parse_message({**voice, "duration": 0.0004}).duration_ms == 0
    parsed = validation.parse_message({**voice, "width": 1, "height": 1})
    assert (parsed.width, parsed.height, parsed.duration_ms) == (None, None, None)
    for bad in (-0.001, 86_400.001, "2", False, float("nan")):
        refused(validation.parse_message, {**voice, "duration": bad})


def why(func, *args) -> tuple[str, str | None, str | None]:
    """(code, the field the answer names, the wording variant) of a refusal."""
    refusal = refused(func, *args)
    return refusal.code, refusal.extra.get("field"), refusal.variant


def test_each_refusal_names_its_code_and_field(settings, local_uploads):
    settings.MESSAGE_MAX_CHARS = 5
    settings.DISPLAY_NAME_MAX_CHARS = 5
    assert why(validation.require_mapping, []) == ("invalid_payload", None, None)
    assert why(validation.parse_thread_id, None) == ("field_required", "thread_id", None)
    assert why(validation.parse_thread_id, "nope") == ("field_invalid", "thread_id", "not_an_id")
    assert why(validation.parse_thread_id, "nope", "before") == ("field_invalid", "before", "not_an_id")
    assert why(validation.parse_thread_id, "", "before") == ("field_required", "before", None)
    assert why(validation.parse_client_id, "bad id") == ("field_invalid", "client_id", "client_id")
    assert why(validation.parse_display_name, None) == ("name_required", None, None)
    assert why(validation.parse_display_name, "  ") == ("name_required", None, None)
    assert why(validation.parse_display_name, "x" * 6) == ("name_too_long", None, None)
    for required in (True, False):
        assert why(validation.parse_text, 5, required) == ("field_invalid", "text", "not_a_string")
        assert why(validation.parse_text, "x" * 6, required) == ("text_too_long", None, None)
    for empty in (None, "", "  ", "\x00"):
        assert why(validation.parse_text, empty, True) == ("field_required", "text", "text_message")

    def message(**fields):
        return why(validation.parse_message, {"thread_id": THREAD, **fields})

    image = store_file("image", samples.png(), "kedi.png")
    audio = store_file("audio", OGG)
    assert message(type="video") == ("field_invalid", "type", "message_type")
    for kind in ("image", "audio"):
        for missing in ({}, {"file_url": ""}, {"file_url": 5}, {"file_url": None}):
            assert message(type=kind, **missing) == ("field_required", "file_url", f"{kind}_message")
    assert message(type="image", file_url=audio) == ("field_invalid", "file_url", "not_own_image")
    assert message(type="audio", file_url=image) == ("field_invalid", "file_url", "not_own_audio")
    assert message(type="image", file_url=image, width=0, height=1) == ("field_invalid", "width", None)
    assert message(type="image", file_url=image, width=1, height=0) == ("field_invalid", "height", None)
    assert message(type="audio", file_url=audio, duration=-1) == ("field_invalid", "duration", None)
    # A value that is not a number at all names its own field too.
    assert message(type="image", file_url=image, width="640", height=1) == ("field_invalid", "width", None)
    assert message(type="image", file_url=image, width=1, height="480") == ("field_invalid", "height", None)
    assert message(type="audio", file_url=audio, duration="2") == ("field_invalid", "duration", None)


def test_a_file_message_keeps_its_caption_and_client_id(local_uploads):
    image = store_file("image", samples.png(), "kedi.png")
    payload = {"thread_id": THREAD, "type": "image", "file_url": image, "text": " bak ", "client_id": "c-9"}
    parsed = validation.parse_message({**payload, "width": 3, "height": 2, "duration": 5})
    assert parsed == MessageInput(uuid.UUID(THREAD), "image", "bak", image, "c-9", width=3, height=2)
