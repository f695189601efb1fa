"""Photos are stored upright and without metadata: on local disk, on Cloudinary, and as
forwarded to Telegram. Animations stay animated, PNG stays lossless, undecodable or huge
pictures are refused."""

from __future__ import annotations

import io
import random

import pytest
from PIL import Image, ImageSequence

from tests.file_uploads import samples
from tests.support.clients import Browserish, Recorder
from tests.support.fake_cloudinary import FakeCloudinary
from tests.support.fake_telegram import FakeTelegram
from tests.support.server import LiveServer

RED, BLUE = (220, 20, 20), (20, 20, 220)


def upload(http: Browserish, data: bytes, name: str = "IMG_0001.JPG"):
    return http.post("/api/upload/image", files={"file": (name, data, "image/jpeg")})


def assert_upright_and_clean(data: bytes) -> None:
    """The phone photo (40x20 stored sideways, orientation 6) as 20x40, red on top, and
    nothing of its EXIF, GPS, XMP or comment left in the bytes."""
    image = Image.open(io.BytesIO(data))
    assert (image.format, image.size) == ("JPEG", (20, 40))
    assert dict(image.getexif()) == {}
    assert set(image.info) <= {"jfif", "jfif_version", "jfif_unit", "jfif_density", "dpi"}, image.info
    for marker in (b"Exif\x00\x00", b"PhoneMaker", b"xmpmeta", b"taken at home", b"GPS"):
        assert marker not in data
    rgb = image.convert("RGB")
    assert all(abs(a - b) <= 12 for a, b in zip(rgb.getpixel((10, 5)), RED, strict=True))
    assert all(abs(a - b) <= 12 for a, b in zip(rgb.getpixel((10, 35)), BLUE, strict=True))


@pytest.fixture(scope="module")
def http(server) -> Browserish:
    return Browserish(server.url)


def test_the_sample_is_a_sideways_phone_photo_with_gps():
    image = Image.open(io.BytesIO(samples.phone_photo()))
    assert image.size == (40, 20)
    exif = image.getexif()
    assert exif[0x0112] == 6
    assert exif.get_ifd(0x8825)[2] == samples.GPS_LATITUDE
    assert b"PhoneMaker" in samples.phone_photo() and b"xmpmeta" in samples.phone_photo()


def test_local_upload_is_upright_and_without_metadata(server, http):
    answer = upload(http, samples.phone_photo())
    assert answer.status_code == 200, answer.text
    url = answer.json()["url"]
    assert url.startswith("/uploads/images/") and url.endswith("_IMG_0001.jpg")
    on_disk = (server.workdir / "uploads" / url.removeprefix("/uploads/")).read_bytes()
    assert_upright_and_clean(on_disk)
    served = http.get(url)
    assert (served.status_code, served.content) == (200, on_disk)


def test_jpeg_quality_stays_high(http):
    # Quality 90: a smooth gradient comes back within a few levels of what was sent.
    source = Image.linear_gradient("L").resize((128, 128)).convert("RGB")
    out = io.BytesIO()
    source.save(out, "JPEG", quality=100)
    answer = upload(http, out.getvalue(), "gradient.jpg")
    assert answer.status_code == 200, answer.text
    stored = Image.open(io.BytesIO(http.get(answer.json()["url"]).content)).convert("RGB")
    worst = max(
        abs(a - b)
        for p, q in zip(source.get_flattened_data(), stored.get_flattened_data(), strict=True)
        for a, b in zip(p, q, strict=True)
    )
    assert worst <= 8


def test_png_stays_lossless_and_loses_its_text_chunks(http):
    rng = random.Random(20)
    image = Image.new("RGBA", (32, 16))
    image.putdata([tuple(rng.randrange(256) for _ in range(4)) for _ in range(32 * 16)])
    from PIL.PngImagePlugin import PngInfo

    info = PngInfo()
    info.add_text("Comment", "home address here")
    info.add_itxt("XML:com.adobe.xmp", "<x:xmpmeta>GPS</x:xmpmeta>")
    out = io.BytesIO()
    image.save(out, "PNG", pnginfo=info)
    answer = upload(http, out.getvalue(), "screenshot.png")
    assert answer.status_code == 200, answer.text
    data = http.get(answer.json()["url"]).content
    stored = Image.open(io.BytesIO(data))
    assert (stored.format, stored.mode, stored.size) == ("PNG", "RGBA", (32, 16))
    assert list(stored.get_flattened_data()) == list(image.get_flattened_data())
    assert b"home address" not in data and b"xmpmeta" not in data and stored.text == {}


def animation(fmt: str, size: tuple[int, int] = (12, 10)) -> bytes:
    frames = [Image.new("RGB", size, color) for color in (RED, (20, 200, 20), BLUE)]
    out = io.BytesIO()
    options = {"lossless": True} if fmt == "WEBP" else {}
    frames[0].save(
        out,
        fmt,
        save_all=True,
        append_images=frames[1:],
        duration=[100, 200, 300],
        loop=0,
        comment=b"secret note",
        **options,
    )
    return out.getvalue()


@pytest.mark.parametrize("fmt, ext", [("GIF", "gif"), ("WEBP", "webp")])
def test_animations_stay_animated(http, fmt, ext):
    answer = upload(http, animation(fmt), f"party.{ext}")
    assert answer.status_code == 200, answer.text
    url = answer.json()["url"]
    assert url.endswith(f"_party.{ext}")
    data = http.get(url).content
    stored = Image.open(io.BytesIO(data))
    assert (stored.format, stored.n_frames, stored.info.get("loop")) == (fmt, 3, 0)
    frames = [(f.convert("RGB").getpixel((5, 5)), f.info["duration"]) for f in ImageSequence.Iterator(stored)]
    assert frames == [(RED, 100), ((20, 200, 20), 200), (BLUE, 300)]
    assert b"secret note" not in data


@pytest.mark.parametrize(
    "data",
    [
        samples.phone_photo()[:600],  # cut short
        b"\xff\xd8\xff\xe0" + bytes(300),  # a JPEG signature, then nothing of a picture
        b"\x89PNG\r\n\x1a\n" + bytes(100),
    ],
    ids=["truncated", "jpeg-signature-only", "png-signature-only"],
)
def test_a_picture_that_does_not_decode_is_refused(http, data):
    answer = upload(http, data, "broken.jpg")
    assert answer.status_code == 400, answer.text
    assert answer.json()["code"] == "unreadable_image"


def test_more_pixels_than_the_limit_is_refused(make_server):
    live = make_server({"UPLOAD_MAX_PIXELS": "700"})
    small = Browserish(live.url)
    answer = upload(small, samples.phone_photo())  # 40 x 20 = 800 pixels
    assert answer.status_code == 413, answer.text
    assert answer.json()["code"] == "image_too_many_pixels"
    # Three frames of 20 x 15 (300 pixels each) make 900: refused as a whole.
    answer = upload(small, animation("GIF", (20, 15)), "party.gif")
    assert (answer.status_code, answer.json()["code"]) == (413, "image_too_many_pixels")
    fitting = Image.new("RGB", (20, 20), RED)
    out = io.BytesIO()
    fitting.save(out, "PNG")
    assert upload(small, out.getvalue(), "small.png").status_code == 200


def test_cloudinary_receives_the_upright_clean_photo():
    fake = FakeCloudinary().start()
    live = LiveServer(
        env={
            "CLOUDINARY_URL": "cloudinary://testkey:testsecret@democloud",
            "CLOUDINARY_UPLOAD_PREFIX": fake.url,
        }
    )
    try:
        live.start()
        answer = upload(Browserish(live.url), samples.phone_photo())
        assert answer.status_code == 200, answer.text
        assert len(fake.uploads) == 1
        stored = fake.uploads[0]
        assert (stored.resource_type, stored.folder) == ("image", "chat_images")
        assert_upright_and_clean(stored.data)
    finally:
        live.cleanup()
        fake.stop()


async def test_telegram_receives_the_upright_clean_photo():
    fake = FakeTelegram(token="123:abc").start()
    live = LiveServer(
        env={
            "TELEGRAM_BOT_TOKEN": "123:abc",
            "TELEGRAM_CHAT_ID": "-1001",
            "TELEGRAM_API_BASE": fake.url,
            "TELEGRAM_SEND_INTERVAL_MS": "20",
        }
    )
    try:
        live.start()
        page = Browserish(live.url)
        page.get("/")
        answer = upload(page, samples.phone_photo())
        assert answer.status_code == 200, answer.text
        client = await Recorder(live.url, page.cookie_header()).connect()
        joined = await client.call("join", {"display_name": "Traveller"})
        ack = await client.call(
            "message_to_admin",
            {"thread_id": joined["thread_id"], "type": "image", "file_url": answer.json()["url"]},
        )
        assert ack["ok"] is True, ack
        call = fake.wait_for(lambda c: c.method == "sendPhoto")
        assert_upright_and_clean(call.files["photo"][1])
        assert call.files["photo"][1] == page.get(answer.json()["url"]).content
        await client.close()
    finally:
        live.cleanup()
        fake.stop()
