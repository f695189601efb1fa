"""Issue 12 at its boundaries: search folding and snippets (chat/search.py), the optional
photo size and voice-note length of messages (chat/validation.py), ISO instants
(chat/serializers.py)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta, timezone

import pytest

from chat import search, validation
from chat.attachments.files import store_file
from chat.serializers import iso_time
from chat.validation import InvalidInput, MessageInput
from tests.file_uploads import samples

THREAD = "2b1f3c4d-0000-4000-8000-000000000001"
OGG = b"OggS" + b"\x00" * 32


@pytest.mark.parametrize(
    ("text", "folded"),
    [
        ("Ayşe", "ayse"),
        ("IŞIK ışık", "isik isik"),
        ("İstanbul", "istanbul"),
        ("Güzel Çiçek Öğle", "guzel cicek ogle"),
        ("Straße", "strasse"),
        ("Crème brûlée", "creme brulee"),
        ("", ""),
    ],
)
def test_fold(text, folded):
    assert search.fold(text) == folded


def test_terms_are_folded_words_at_most_eight():
    assert search.terms("  Ayşe, IŞIK!  sipariş-12 ") == ["ayse", "isik", "siparis", "12"]
    assert search.terms("a b c d e f g h i j") == list("abcdefgh")
    assert search.terms("¿?!") == []
    assert search.tsquery(["ayse", "12"]) == "ayse:* & 12:*"


def test_snippet_marks_the_first_hit_in_original_letters():
    text = "Merhaba, ben Ayşe; siparişim gelmedi"
    piece, start, end = search.snippet(text, ["siparis", "ayse"])
    assert piece == text
    assert piece[start:end] == "Ayşe"
    # A long text: a piece around the hit, with ellipses, offsets inside the piece.
    long = "x" * 300 + " Işık " + "y" * 300
    piece, start, end = search.snippet(long, ["isik"])
    assert piece.startswith("…") and piece.endswith("…")
    assert piece[start:end] == "Işık"
    assert len(piece) == search.SNIPPET_CHARS + 2
    # Letters that fold to two (ß) keep the offsets right.
    piece, start, end = search.snippet("Große Straße", ["strasse"])
    assert piece[start:end] == "Straße"
    assert search.snippet("nothing", ["else"]) is None
    assert search.snippet(None, ["x"]) is None


def test_photo_size_and_voice_length_are_optional_and_checked(local_uploads):
    image = store_file("image", samples.png(), "kedi.png")
    audio = store_file("audio", OGG)
    thread = uuid.UUID(THREAD)
    sized = validation.parse_message(
        {"thread_id": THREAD, "type": "image", "file_url": image, "width": 640, "height": 480.0}
    )
    assert sized == MessageInput(thread, "image", None, image, None, width=640, height=480)
    # One side alone is no size.
    half = validation.parse_message({"thread_id": THREAD, "type": "image", "file_url": image, "width": 640})
    assert (half.width, half.height) == (None, None)
    voice = validation.parse_message(
        {"thread_id": THREAD, "type": "audio", "file_url": audio, "duration": 2.345}
    )
    assert voice == MessageInput(thread, "audio", None, audio, None, duration_ms=2345)
    for bad in (0, -1, 1.5, 100_001, "640", True, float("nan")):
        with pytest.raises(InvalidInput) as caught:
            validation.parse_message(
                {"thread_id": THREAD, "type": "image", "file_url": image, "width": bad, "height": 1}
            )
        assert caught.value.code == "field_invalid"
        assert caught.value.extra["field"] == "width"
    for bad in (-0.1, 86_401, "2", False, float("nan")):
        with pytest.raises(InvalidInput) as caught:
            validation.parse_message(
                {"thread_id": THREAD, "type": "audio", "file_url": audio, "duration": bad}
            )
        assert caught.value.extra["field"] == "duration"


def test_iso_time_is_the_instant_in_utc_with_its_offset():
    istanbul = timezone(timedelta(hours=3))
    assert (
        iso_time(datetime(2026, 11, 29, 18, 5, 7, 123456, tzinfo=istanbul)) == "2026-11-29T15:05:07.123+00:00"
    )
    assert iso_time(datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)) == "2026-01-02T03:04:05.000+00:00"
    assert iso_time(None) is None
