"""Voice notes arrive in the admin chat as voice bubbles, GIFs as animations (issue 15).

Chrome and Firefox record WebM/Opus, which Telegram shows only as a file: the bridge
remuxes it to OGG/Opus (PyAV) and sends it with sendVoice, with its duration. The
checks read the bytes Telegram received with FFmpeg, never the file name.
"""

from __future__ import annotations

from tests.file_uploads import samples
from tests.support.clients import admin_socket

from .conftest import sent, upload, visitor_with_page
from .recordings import animated_gif, container_of, webm_opus


async def test_a_webm_recording_arrives_as_a_voice_note_in_ogg_opus_with_its_duration(tg_server, fake):
    client, thread_id, page = await visitor_with_page(tg_server.url, "Voice Chrome")
    recording = webm_opus(seconds=1.0)
    assert container_of(recording)[:2] == ("matroska,webm", "opus")
    url = upload(page, "audio", recording, "voice.webm")
    ack = await client.call(
        "message_to_admin", {"thread_id": thread_id, "type": "audio", "file_url": url, "text": "listen"}
    )
    assert ack["ok"], ack
    call = await sent(
        fake,
        lambda c: (
            c.method in ("sendVoice", "sendDocument", "sendAudio")
            and "Voice Chrome" in c.params.get("caption", "")
        ),
    )
    assert call.method == "sendVoice"
    assert "voice" in call.files and "voice" not in call.params  # uploaded, not a URL
    data = call.files["voice"][1]
    assert data[:4] == b"OggS"
    form, codec, seconds = container_of(data)
    assert (form, codec) == ("ogg", "opus")
    assert 0.95 < seconds < 1.1
    assert int(call.params["duration"]) == 1
    # Telegram shows it as a voice bubble (the fake answers as Telegram does by content).
    assert "voice" in call.result and call.result["voice"]["mime_type"] == "audio/ogg"
    assert call.params["caption"].endswith("\nlisten")
    await client.close()


async def test_m4a_goes_as_a_voice_note_and_mp3_stays_a_track(tg_server, fake):
    client, thread_id, page = await visitor_with_page(tg_server.url, "Voice Safari")
    for ext, method, field in (("m4a", "sendVoice", "voice"), ("mp3", "sendAudio", "audio")):
        data = samples.AUDIO[ext]()
        url = upload(page, "audio", data, f"note.{ext}")
        ack = await client.call(
            "message_to_admin", {"thread_id": thread_id, "type": "audio", "file_url": url}
        )
        assert ack["ok"], ack
        # Other tests send the same sample bytes: match this thread's caption too.
        call = await sent(
            fake,
            lambda c, d=data: (
                f"#{thread_id[:8]}" in str(c.params.get("caption"))
                and any(f[1] == d for f in c.files.values())
            ),
        )
        assert (call.method, list(call.files)) == (method, [field])
    await client.close()


async def test_an_animated_gif_goes_with_send_animation_a_still_one_as_a_photo(tg_server, tg_admin, fake):
    client, thread_id, page = await visitor_with_page(tg_server.url, "Gif Fan")
    moving = upload(page, "image", animated_gif(), "dance.gif")
    ack = await client.call(
        "message_to_admin", {"thread_id": thread_id, "type": "image", "file_url": moving, "text": "moving"}
    )
    assert ack["ok"], ack
    call = await sent(
        fake, lambda c: "Gif Fan" in c.params.get("caption", "") and "moving" in c.params["caption"]
    )
    assert call.method == "sendAnimation" and list(call.files) == ["animation"]
    assert call.files["animation"][1][:6] == b"GIF89a"
    assert "animation" in call.result
    still = upload(page, "image", samples.png(), "still.png")
    ack = await client.call(
        "message_to_admin", {"thread_id": thread_id, "type": "image", "file_url": still, "text": "still"}
    )
    assert ack["ok"], ack
    call = await sent(
        fake, lambda c: "Gif Fan" in c.params.get("caption", "") and "still" in c.params["caption"]
    )
    assert call.method == "sendPhoto"
    await client.close()


async def test_a_panel_voice_reply_is_mirrored_as_a_voice_note(tg_server, tg_admin, fake):
    client, thread_id, page = await visitor_with_page(tg_server.url, "Voice Mirror")
    admin = await admin_socket(tg_server.url, tg_admin)
    url = upload(tg_admin, "audio", webm_opus(seconds=2.0), "reply.webm")
    ack = await admin.call("message_to_visitor", {"thread_id": thread_id, "type": "audio", "file_url": url})
    assert ack["ok"], ack
    call = await sent(
        fake, lambda c: "Voice Mirror" in c.params.get("caption", "") and "(panel)" in c.params["caption"]
    )
    assert call.method == "sendVoice"
    assert container_of(call.files["voice"][1])[:2] == ("ogg", "opus")
    assert int(call.params["duration"]) == 2
    await client.close()
    await admin.close()
