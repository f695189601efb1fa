"""A voice note served from local uploads can be played from the middle: the browser seeks
with byte ranges, which the server answers 206 (Safari needs that even to start)."""

from __future__ import annotations

import pytest

from tests.file_uploads.test_ranges import tone
from tests.support.clients import Browserish

pytestmark = pytest.mark.browser

SEEK_TO = 25.0
LOAD_AND_SEEK = """async ([url, target]) => {
    const audio = document.createElement("audio");
    audio.preload = "metadata";
    audio.src = url;
    document.body.append(audio);
    await new Promise((ok, fail) => {
        audio.addEventListener("loadedmetadata", ok, { once: true });
        audio.addEventListener("error", () => fail(new Error("audio error " + audio.error.code)));
    });
    const seekable = [audio.seekable.length, audio.seekable.length ? audio.seekable.end(0) : 0];
    const seeked = new Promise((ok) => audio.addEventListener("seeked", ok, { once: true }));
    audio.currentTime = target;
    await seeked;
    return { duration: audio.duration, seekable, currentTime: audio.currentTime };
}"""


def test_a_voice_note_can_be_seeked(server, open_context):
    # 40 seconds at 44.1 kHz: 3.5 MB, more than a browser fetches for metadata.
    data = tone(seconds=40, rate=44100)
    answer = Browserish(server.url).post("/api/upload/audio", files={"file": ("voice.wav", data)})
    assert answer.status_code == 200, answer.text
    url = answer.json()["url"]

    page = open_context().new_page()
    answers = []
    page.on(
        "response",
        lambda r: answers.append((r.status, r.request.headers.get("range"))) if url in r.url else None,
    )
    page.goto(server.url + "/")
    result = page.evaluate(LOAD_AND_SEEK, [server.url + url, SEEK_TO])
    assert result["duration"] == pytest.approx(40, abs=0.1)
    assert result["seekable"] == [1, pytest.approx(40, abs=0.1)]
    assert result["currentTime"] == pytest.approx(SEEK_TO, abs=0.1)
    # Chromium asked for ranges, and got them.
    assert answers and all(status == 206 and rng and rng.startswith("bytes=") for status, rng in answers)
