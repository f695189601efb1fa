"""What an uploaded file really is, by its first bytes, and which URLs count as ours
(chat/attachments/files.py)."""

from __future__ import annotations

import io
import re

import pytest
from django.core.files.storage import FileSystemStorage

from chat.attachments import files
from chat.attachments.files import check_content, sniff_audio, sniff_image
from chatdesk.refusals import Refusal
from tests.file_uploads import samples

PAD = b"\x00" * 16


@pytest.mark.parametrize(
    ("head", "ext"),
    [
        (b"\x89PNG\r\n\x1a\n" + PAD, "png"),
        (b"\xff\xd8\xff\xe0" + PAD, "jpg"),
        (b"GIF87a" + PAD, "gif"),
        (b"GIF89a" + PAD, "gif"),
        (b"RIFF\x10\x00\x00\x00WEBPVP8 " + PAD, "webp"),
    ],
)
def test_images_we_accept(head, ext):
    assert sniff_image(head) == ext
    assert check_content("image", head) == ext


@pytest.mark.parametrize(
    "head",
    [
        b"",
        b"\x89PNG\r\n\x1a" + PAD,  # one byte short of the signature
        b"\x89PNX\r\n\x1a\n" + PAD,
        b"\xff\xd8\x00" + PAD,
        b"GIF88a" + PAD,
        b"RIFF\x10\x00\x00\x00WAVEfmt " + PAD,  # a RIFF that is a recording
        b"RIFX\x10\x00\x00\x00WEBP" + PAD,
        b"<svg xmlns='http://www.w3.org/2000/svg'/>",
        b"BM" + PAD,
    ],
)
def test_not_images(head):
    assert sniff_image(head) is None


@pytest.mark.parametrize(
    ("head", "ext"),
    [
        (b"\x1a\x45\xdf\xa3" + PAD, "webm"),
        (b"OggS\x00\x02" + PAD, "ogg"),
        (b"\x00\x00\x00\x20ftypM4A " + PAD, "m4a"),
        (b"\x00\x00\x00\x1cftypisom" + PAD, "m4a"),
        (b"\x00\x00\x00\x1cftypmp42" + PAD, "m4a"),
        (b"RIFF\x24\x00\x00\x00WAVEfmt " + PAD, "wav"),
        (b"ID3\x04\x00" + PAD, "mp3"),
        (b"\xff\xfb\x90\x64" + PAD, "mp3"),  # MPEG-1 layer III, 128 kbit/s
        (b"\xff\xf3\x40\x00" + PAD, "mp3"),  # MPEG-2 layer III
        (b"\xff\xe2\x00\x00", "mp3"),  # MPEG-2.5, layer III, "free" bitrate
        (b"\xff\xfb\x90", "mp3"),  # three bytes are enough for a frame header
    ],
)
def test_recordings_we_accept(head, ext):
    assert sniff_audio(head) == ext
    assert check_content("audio", head) == ext


@pytest.mark.parametrize(
    "head",
    [
        b"",
        b"\x1a\x45\xdf" + PAD,
        b"Ogg" + PAD,
        b"\x00\x00\x00\x1cftypheic" + PAD,  # a HEIC picture is ISO media too
        b"\x00\x00\x00\x1cftypAVIF" + PAD,  # brands compare without case
        b"\x00\x00\x00\x1cftypmif1" + PAD,
        b"\x00\x00\x00\x1cftyp",  # no brand at all is not a picture brand: see below
        b"\x00\x00\x00\x1cftpy" + PAD,
        b"RIFF\x24\x00\x00\x00WEBPVP8 " + PAD,
        b"ID" + PAD,
        b"\xff\xfb",  # a frame header needs three bytes
        b"\xff\xfb\xf0\x00",  # bitrate index 1111 is "bad"
        b"\xff\xfb\xf1\x00",  # ...whatever the low bits
        b"\xff\xf9\x90\x00",  # layer bits 00 are reserved
        b"\xff\xdb\x90\x00",  # not 11 sync bits
        b"\xfe\xfb\x90\x00",
        b"\x89PNG\r\n\x1a\n" + PAD,
    ],
)
def test_not_recordings(head):
    if head == b"\x00\x00\x00\x1cftyp":
        # An ftyp box cut before its brand: the empty brand is no picture brand.
        assert sniff_audio(head) == "m4a"
        return
    assert sniff_audio(head) is None


def refusal_code(func, *args) -> str:
    with pytest.raises(Refusal) as caught:
        func(*args)
    return caught.value.code


def test_check_content_refuses_what_is_not_of_its_kind():
    png = b"\x89PNG\r\n\x1a\n" + PAD
    ogg = b"OggS" + PAD
    assert refusal_code(check_content, "audio", png) == "unsupported_audio"
    assert refusal_code(check_content, "image", ogg) == "unsupported_image"
    assert refusal_code(check_content, "image", b"hello") == "unsupported_image"
    assert refusal_code(check_content, "image", b"") == "empty_file"
    assert refusal_code(check_content, "audio", b"") == "empty_file"


@pytest.mark.parametrize(
    "markup", [b"<html>", b"<script>", b"< SVG", b"<!DOCTYPE html>", b"<?xml ", b"<iframe"]
)
def test_polyglots_with_markup_are_refused(markup):
    assert refusal_code(check_content, "image", b"GIF89a" + PAD + markup) == "markup_in_file"
    assert refusal_code(check_content, "audio", b"OggS" + PAD + markup) == "markup_in_file"


def test_harmless_angle_brackets_pass():
    assert check_content("image", b"GIF89a" + b"<b>" + PAD) == "gif"


def test_storage_names():
    uuid_re = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
    assert re.fullmatch(rf"images/{uuid_re}_kedi\.png", files.storage_name("image", "png", "kedi.jpeg"))
    assert re.fullmatch(
        rf"images/{uuid_re}_evil\.png", files.storage_name("image", "png", "C:\\x\\../../evil.png")
    )
    assert re.fullmatch(rf"images/{uuid_re}_a_b_c\.gif", files.storage_name("image", "gif", "a.b.c.gif"))
    assert re.fullmatch(rf"images/{uuid_re}_image\.jpg", files.storage_name("image", "jpg", ""))
    assert re.fullmatch(rf"images/{uuid_re}_image\.jpg", files.storage_name("image", "jpg", "ğüş.jpg"))
    assert re.fullmatch(rf"audio/{uuid_re}\.ogg", files.storage_name("audio", "ogg", "voice.mp3"))
    long = files.storage_name("image", "png", "x" * 300 + ".png")
    assert re.fullmatch(rf"images/{uuid_re}_x{{60}}\.png", long)
    assert files.storage_name("image", "png", "a.png") != files.storage_name("image", "png", "a.png")


def test_store_file_keeps_the_bytes_under_the_real_extension(local_uploads):
    ogg = b"OggS" + b"\x01" * 100
    url = files.store_file("audio", ogg, "voice.webm")
    assert re.fullmatch(r"/uploads/audio/[0-9a-f-]{36}\.ogg", url)
    assert (local_uploads / url.removeprefix("/uploads/")).read_bytes() == ogg
    from_file = files.store_file("image", io.BytesIO(samples.gif()), "anim.gif")
    assert re.fullmatch(r"/uploads/images/[0-9a-f-]{36}_anim\.gif", from_file)
    assert files.is_own_upload_url(url, "audio") and files.is_own_upload_url(from_file, "image")


def test_store_file_refusals(local_uploads, settings):
    # Pictures are decoded and re-encoded on the way in: a real GIF at exactly the limit.
    gif = samples.gif()
    settings.UPLOAD_MAX_BYTES = len(gif)
    assert refusal_code(files.store_file, "image", b"") == "empty_file"
    assert refusal_code(files.store_file, "image", io.BytesIO(b"")) == "empty_file"
    assert refusal_code(files.store_file, "image", gif + b"\x00") == "file_too_large"
    assert refusal_code(files.store_file, "image", b"GIF89a<script>" + b"\x00" * 10) == "markup_in_file"
    assert refusal_code(files.store_file, "image", b"GIF89a" + b"\x00" * 26) == "unreadable_image"
    assert files.store_file("image", gif).endswith(".gif")
    with pytest.raises(ValueError):
        files.store_file("video", b"GIF89a")
    assert len(list((local_uploads / "images").iterdir())) == 1


def test_a_failing_storage_is_storage_failed(local_uploads, monkeypatch):
    from django.core.files.storage import FileSystemStorage

    def broken(self, name, content):
        raise OSError("disk full")

    monkeypatch.setattr(FileSystemStorage, "_save", broken)
    with pytest.raises(files.StorageFailed):
        files.store_file("image", samples.gif())


def test_own_upload_urls(local_uploads):
    image = files.store_file("image", samples.gif(), "a.gif")
    audio = files.store_file("audio", b"OggS" + PAD)
    assert files.is_own_upload_url(image, "image") is True
    assert files.is_own_upload_url(audio, "audio") is True
    never_stored = "/uploads/images/00000000-0000-4000-8000-000000000000_x.png"
    not_ours = [
        (image, "audio"),
        (audio, "image"),
        (image, "video"),
        (never_stored, "image"),
        ("https://evil.example" + image, "image"),
        ("/uploads/images/../audio/" + audio.rsplit("/", 1)[1], "image"),
        ("/uploads/images/..hidden.png", "image"),
        (image.replace(".gif", ".svg"), "image"),
        (image + "?x=1", "image"),
        ("/uploads/images/", "image"),
        ("/uploads/images/" + "a" * 1020 + ".png", "image"),
        (None, "image"),
    ]
    for url, kind in not_ours:
        assert files.is_own_upload_url(url, kind) is False, (url, kind)


def test_cloudinary_cloud_name(settings):
    settings.CLOUDINARY_URL = ""
    assert files.cloudinary_cloud_name() is None
    settings.CLOUDINARY_URL = "cloudinary://key:secret@my-cloud"
    assert files.cloudinary_cloud_name() == "my-cloud"
    settings.CLOUDINARY_URL = "cloudinary://my-cloud"
    assert files.cloudinary_cloud_name() == "my-cloud"


def test_own_upload_urls_by_their_exact_shape(local_uploads):
    """Names the generator never makes but the pattern allows: the last extension counts,
    ".." never passes, and a URL outside the prefix is not ours even if its tail is."""
    folder = local_uploads / "images"
    folder.mkdir(exist_ok=True)
    for name in ("x.y.png", "x..y.png", "noextension"):
        (folder / name).write_bytes(samples.png())
    assert files.is_own_upload_url("/uploads/images/x.y.png", "image") is True
    assert files.is_own_upload_url("/uploads/images/x..y.png", "image") is False
    assert files.is_own_upload_url("/uploads/images/noextension", "image") is False
    assert files.is_own_upload_url("/uploadz/images/x.y.png", "image") is False


class OwnUrlStorage(FileSystemStorage):
    """A storage that knows its own URLs (as the Cloudinary one does)."""

    def is_own_url(self, url, kind):
        return url.startswith(f"https://cdn.example/{kind}/")


def test_a_storage_that_knows_its_urls_decides(settings, tmp_path):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": f"{__name__}.OwnUrlStorage", "OPTIONS": {"location": str(tmp_path)}},
    }
    assert files.is_own_upload_url("https://cdn.example/image/x.png", "image") is True
    assert files.is_own_upload_url("https://cdn.example/image/x.png", "audio") is False
    assert files.is_own_upload_url("https://cdn.example/audio/x", "audio") is True
    assert files.is_own_upload_url("/uploads/images/x.png", "image") is False
    # Length first: up to 1024 characters are looked at, longer ones never.
    at_limit = "https://cdn.example/image/" + "x" * (1024 - 26)
    assert len(at_limit) == 1024 and files.is_own_upload_url(at_limit, "image") is True
    assert files.is_own_upload_url(at_limit + "x", "image") is False


def test_a_remote_storage_with_plain_urls_is_trusted_by_shape(settings):
    """S3 and the like: no existence check (it would be a network call), the shape decides."""
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.InMemoryStorage",
            "OPTIONS": {"base_url": "https://bucket.example/"},
        },
    }
    files._storage_url_prefix.cache_clear()
    try:
        assert files.is_own_upload_url("https://bucket.example/images/never-stored.png", "image") is True
        assert files.is_own_upload_url("https://bucket.example/images/never-stored.svg", "image") is False
    finally:
        files._storage_url_prefix.cache_clear()
