"""Uploads with CLOUDINARY_URL set, against a fake Cloudinary API on 127.0.0.1."""

from __future__ import annotations

import re
import threading
from pathlib import Path

import pytest
import requests

from tests.file_uploads import samples
from tests.support.clients import Browserish, sign_in, visitor
from tests.support.fake_cloudinary import FakeCloudinary
from tests.support.server import LiveServer

CLOUD = "democloud"
UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"


@pytest.fixture(scope="module")
def fake():
    cloud = FakeCloudinary().start()
    yield cloud
    cloud.stop()


def cloud_env(fake: FakeCloudinary, timeout: int) -> dict[str, str]:
    return {
        "CLOUDINARY_URL": f"cloudinary://testkey:testsecret@{CLOUD}",
        "CLOUDINARY_UPLOAD_PREFIX": fake.url,
        "CLOUDINARY_TIMEOUT": str(timeout),
        "UPLOAD_THREADS": "2",
    }


@pytest.fixture(scope="module")
def cloud_server(fake):
    live = LiveServer(env=cloud_env(fake, timeout=2)).start()
    start = 0
    yield live
    written = live.log()[start:]
    live.cleanup()
    assert "Traceback" not in written and '" 500 ' not in written, written[-4000:]


@pytest.fixture
def http(cloud_server, fake) -> Browserish:
    fake.fail_uploads = fake.fail_admin = False
    fake.delay = 0
    fake.release()
    return Browserish(cloud_server.url)


def upload(http: Browserish, kind: str, data: bytes, name: str = "file.bin") -> requests.Response:
    return http.post(f"/api/upload/{kind}", files={"file": (name, data)})


def test_image_goes_to_chat_images_and_the_secure_url_comes_back(http, fake):
    before = len(fake.uploads)
    answer = upload(http, "image", samples.png(), name="kedi.png")
    assert answer.status_code == 200, answer.text
    url = answer.json()["url"]
    assert len(fake.uploads) == before + 1
    stored = fake.uploads[-1]
    assert (stored.cloud, stored.resource_type, stored.folder) == (CLOUD, "image", "chat_images")
    assert stored.data == samples.png()
    assert stored.fields["api_key"] == "testkey" and stored.fields["signature"]
    assert re.fullmatch(UUID + "_kedi", stored.public_id)
    assert url == stored.secure_url
    assert url == f"https://res.cloudinary.com/{CLOUD}/image/upload/v123/chat_images/{stored.public_id}.png"


@pytest.mark.parametrize("ext", ["webm", "m4a", "ogg"])
def test_recording_goes_to_chat_audio_as_video_resource(http, fake, ext):
    answer = upload(http, "audio", samples.AUDIO[ext](), name="voice.webm")
    assert answer.status_code == 200, answer.text
    stored = fake.uploads[-1]
    assert (stored.resource_type, stored.folder) == ("video", "chat_audio")
    assert re.fullmatch(UUID, stored.public_id)
    # The real format reaches Cloudinary (and so the URL): the Telegram bridge reads it.
    assert stored.filename.endswith(f".{ext}")
    assert (
        answer.json()["url"]
        == f"https://res.cloudinary.com/{CLOUD}/video/upload/v123/chat_audio/{stored.public_id}.{ext}"
    )


def test_refusals_never_reach_cloudinary(http, fake):
    before = len(fake.uploads)
    assert upload(http, "image", samples.html(), name="x.png").status_code == 400
    assert upload(http, "audio", samples.png(), name="x.webm").status_code == 400
    assert upload(http, "image", b"", name="x.png").status_code == 400
    assert len(fake.uploads) == before


def test_local_upload_route_serves_nothing_in_cloudinary_mode(http, cloud_server, server):
    """The same file on local disk is served in local mode and never in Cloudinary mode,
    which writes nothing to local disk either."""
    name = "00000000-0000-4000-8000-000000000000_left.png"
    for live in (server, cloud_server):
        folder = Path(live.env["UPLOADS_ROOT"]) / "images"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(samples.png())
    try:
        served = requests.get(f"{server.url}/uploads/images/{name}", timeout=10)
        assert (served.status_code, served.content) == (200, samples.png())
        assert http.get(f"/uploads/images/{name}").status_code == 404
        uploaded = upload(http, "image", samples.png(), name="kedi.png")
        assert uploaded.status_code == 200, uploaded.text
        stored_name = uploaded.json()["url"].rsplit("/", 1)[-1]
        assert http.get(f"/uploads/images/{stored_name}").status_code == 404
        local_root = Path(cloud_server.env["UPLOADS_ROOT"])
        assert sorted(str(p.relative_to(local_root)) for p in local_root.rglob("*.*")) == [f"images/{name}"]
    finally:
        (Path(server.env["UPLOADS_ROOT"]) / "images" / name).unlink()


def test_cloudinary_failure_is_502_and_hands_out_no_url(http, fake):
    fake.fail_uploads = True
    answer = upload(http, "image", samples.png(), name="p.png")
    assert answer.status_code == 502
    body = answer.json()
    assert body["success"] is False and body["code"] == "storage_failed"
    assert "url" not in body


def test_cloudinary_that_never_answers_is_502(http, fake):
    """CLOUDINARY_TIMEOUT bounds the call: a Cloudinary that holds the upload unanswered
    gets the client a 502 while the fake is still holding it (no guess at durations:
    without the timeout this request would hang until the test's own 60 s limit)."""
    fake.hold()
    try:
        answer = http.post("/api/upload/audio", files={"file": ("v.ogg", samples.ogg())}, timeout=60)
        assert fake.held == 1, "answered while Cloudinary still held the call"
    finally:
        fake.release()
    assert answer.status_code == 502, answer.text
    body = answer.json()
    assert body["success"] is False and body["code"] == "storage_failed"
    assert "url" not in body


def test_slow_cloudinary_blocks_neither_the_loop_nor_other_requests(make_server, http, fake):
    """Uploads held by Cloudinary fill every upload thread; other requests are answered
    meanwhile (proof by order: all of them before any upload is). A long CLOUDINARY_TIMEOUT,
    so that no upload gives up while the other requests are made, however slow they are."""
    live = make_server(env=cloud_env(fake, timeout=600))
    results: list[int] = []

    def slow_upload():
        results.append(upload(Browserish(live.url), "image", samples.gif(), name="g.gif").status_code)

    fake.hold()
    # More held uploads than upload threads (UPLOAD_THREADS=2) and than cores.
    workers = [threading.Thread(target=slow_upload) for _ in range(6)]
    try:
        for worker in workers:
            worker.start()
        fake.wait_until_held(2)
        for _ in range(5):
            assert requests.get(live.url + "/favicon.ico", timeout=10).status_code == 204
            assert requests.get(live.url + "/login", timeout=10).status_code == 200
        assert results == [], "an upload finished while Cloudinary held every call"
        assert fake.held == 2
    finally:
        fake.release()
    for worker in workers:
        worker.join(60)
    assert results == [200] * 6


async def test_uploaded_photo_goes_into_a_message_and_foreign_urls_do_not(cloud_server, http, fake):
    admin_http = sign_in(cloud_server.url)
    client, thread_id = await visitor(cloud_server.url, "Elif")
    image_url = upload(http, "image", samples.webp(), name="w.webp").json()["url"]
    audio_url = upload(http, "audio", samples.m4a()).json()["url"]
    ok = await client.call(
        "message_to_admin", {"thread_id": thread_id, "type": "image", "file_url": image_url}
    )
    assert ok["ok"] is True, ok
    ok = await client.call(
        "message_to_admin", {"thread_id": thread_id, "type": "audio", "file_url": audio_url}
    )
    assert ok["ok"] is True, ok
    foreign = [
        ("image", image_url.replace(CLOUD, "othercloud")),
        ("image", image_url.replace("chat_images", "elsewhere")),
        ("image", audio_url),
        ("audio", image_url),
        ("image", image_url.replace("https://", "http://")),
        ("image", image_url.replace("res.cloudinary.com", "res.cloudinary.com.evil.example")),
        ("image", image_url + "?x"),
        ("image", "/uploads/images/00000000-0000-0000-0000-000000000000_x.png"),
    ]
    for kind, url in foreign:
        ack = await client.call("message_to_admin", {"thread_id": thread_id, "type": kind, "file_url": url})
        assert ack["ok"] is False, (kind, url, ack)
    stored = admin_http.get(f"/api/messages?thread_id={thread_id}").json()
    assert [m["file_path"] for m in stored] == [image_url, audio_url]
    # The panel's CSP lets it show Cloudinary media.
    csp = admin_http.get("/admin").headers["Content-Security-Policy"]
    assert "https://res.cloudinary.com" in csp
    await client.close()


async def test_prune_uploads_destroys_only_orphans_on_cloudinary(cloud_server, http, fake):
    kept_url = upload(http, "image", samples.png(), name="keep.png").json()["url"]
    orphan_url = upload(http, "audio", samples.wav()).json()["url"]
    client, thread_id = await visitor(cloud_server.url)
    ack = await client.call(
        "message_to_admin", {"thread_id": thread_id, "type": "image", "file_url": kept_url}
    )
    assert ack["ok"] is True, ack
    await client.close()
    kept_id = f"chat_images/{kept_url.rsplit('/', 1)[-1].rsplit('.', 1)[0]}"
    orphan_id = f"chat_audio/{orphan_url.rsplit('/', 1)[-1].rsplit('.', 1)[0]}"

    dry = cloud_server.manage("prune_uploads", "--dry-run", "--older-than", "0")
    assert dry.returncode == 0, dry.stderr
    assert f"would delete video/upload/v123/{orphan_id}.wav" in dry.stdout.splitlines()
    assert kept_id not in dry.stdout
    assert ("video", orphan_id) not in fake.destroyed

    run = cloud_server.manage("prune_uploads", "--older-than", "0")
    assert run.returncode == 0, run.stderr
    assert ("video", orphan_id) in fake.destroyed
    assert ("image", kept_id) not in fake.destroyed
    assert f"delete video/upload/v123/{orphan_id}.wav" in run.stdout.splitlines()


def test_prune_uploads_fails_clearly_when_cloudinary_is_down(cloud_server, http, fake):
    fake.fail_admin = True
    result = cloud_server.manage("prune_uploads", "--older-than", "0", check=False)
    assert result.returncode == 1
    assert "Could not list the stored uploads" in result.stderr
