"""With Cloudinary storage, files reach Telegram as uploaded bytes, never as a URL
(issue 15): Telegram's by-URL limits are narrower (5 MB photos, voice only OGG up to
1 MB, documents only GIF/PDF/ZIP), so the bridge downloads the file from storage and
uploads it multipart, as for local files."""

from __future__ import annotations

import pytest

from tests.file_uploads import samples
from tests.support.clients import Browserish, Recorder
from tests.support.fake_cloudinary import FakeCloudinary
from tests.support.server import LiveServer

from .conftest import sent, telegram_env, upload
from .recordings import container_of, webm_opus

CLOUD = "democloud"


@pytest.fixture(scope="module")
def cloud():
    fake = FakeCloudinary().start()
    yield fake
    fake.stop()


@pytest.fixture(scope="module")
def cloud_tg_server(fake, cloud):
    env = telegram_env(
        fake,
        CLOUDINARY_URL=f"cloudinary://testkey:testsecret@{CLOUD}",
        CLOUDINARY_UPLOAD_PREFIX=cloud.url,
        CLOUDINARY_DOWNLOAD_PREFIX=cloud.url,
        CLOUDINARY_TIMEOUT="5",
    )
    live = LiveServer(env=env).start()
    yield live
    log = live.log()
    live.cleanup()
    assert "Traceback" not in log and "crashed" not in log, log[-5000:]


async def test_a_photo_and_a_voice_note_on_cloudinary_reach_telegram_as_multipart_bytes(
    cloud_tg_server, cloud, fake
):
    page = Browserish(cloud_tg_server.url)
    page.get("/")
    client = await Recorder(cloud_tg_server.url, page.cookie_header()).connect()
    ack = await client.call("join", {"display_name": "Cloudy"})
    assert ack["ok"], ack
    thread_id = ack["thread_id"]

    photo_url = upload(page, "image", samples.png(), "cat.png")
    assert photo_url.startswith(f"https://res.cloudinary.com/{CLOUD}/image/upload/")
    stored_photo = cloud.uploads[-1].data
    ack = await client.call(
        "message_to_admin", {"thread_id": thread_id, "type": "image", "file_url": photo_url, "text": "cat"}
    )
    assert ack["ok"], ack
    call = await sent(
        fake, lambda c: "Cloudy" in c.params.get("caption", "") and c.params["caption"].endswith("\ncat")
    )
    assert call.method == "sendPhoto"
    assert "photo" not in call.params  # no URL handed to Telegram
    assert call.files["photo"][1] == stored_photo

    voice_url = upload(page, "audio", webm_opus(seconds=1.0), "voice.webm")
    assert voice_url.startswith(f"https://res.cloudinary.com/{CLOUD}/video/upload/")
    ack = await client.call(
        "message_to_admin", {"thread_id": thread_id, "type": "audio", "file_url": voice_url}
    )
    assert ack["ok"], ack
    call = await sent(fake, lambda c: c.method != "sendPhoto" and "Cloudy" in c.params.get("caption", ""))
    assert call.method == "sendVoice"
    assert "voice" not in call.params
    assert container_of(call.files["voice"][1])[:2] == ("ogg", "opus")
    # Both came from Cloudinary's delivery, downloaded by the bridge.
    assert [path.rsplit("/", 1)[-1] for path in cloud.downloads] == [
        photo_url.rsplit("/", 1)[-1],
        voice_url.rsplit("/", 1)[-1],
    ]
    await client.close()
