"""Files as Telegram shows them: voice bubbles and animations, chosen by content.

Telegram plays a voice note (`sendVoice`, a bubble with its length) only for OGG/Opus,
MP3 and M4A. Chrome and Firefox record WebM/Opus: the Opus packets are moved into an OGG
container as they are (a remux, no re-encoding, so nothing is lost and it takes
milliseconds) with PyAV, whose wheels carry FFmpeg's libraries (no ffmpeg binary to
install). Safari's M4A goes as it is. The duration is read from the container. A GIF
with more than one frame goes with `sendAnimation` (as a photo it would arrive static).
"""

from __future__ import annotations

import io
import logging
from dataclasses import dataclass, field

logger = logging.getLogger("telegram_bridge.media")


@dataclass(frozen=True)
class Upload:
    """One media call: the Bot API method, its file field, the file and extra parameters."""

    method: str
    field: str
    filename: str
    data: bytes
    params: dict = field(default_factory=dict)
    url: str = ""  # a file only reachable by URL (a storage we cannot read): Telegram fetches it

    def file_params(self) -> dict:
        """The file as the client's parameters: uploaded multipart, or the URL."""
        if self.url:
            return {self.field: self.url}
        return {"files": {self.field: (self.filename, self.data)}}


def container(data: bytes) -> str:
    """What a file is by its first bytes (never by its name)."""
    head = data[:64]
    if head.startswith(b"OggS"):
        return "ogg"
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return "webm"
    if head[4:8] == b"ftyp":
        return "m4a"
    if head.startswith(b"ID3") or head[:2] in (b"\xff\xfb", b"\xff\xf3", b"\xff\xf2"):
        return "mp3"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "gif"
    return "other"


def _audio_stream(data: bytes):
    import av

    source = av.open(io.BytesIO(data))
    if not source.streams.audio:
        source.close()
        raise ValueError("no audio stream")
    return source, source.streams.audio[0]


def duration_seconds(data: bytes) -> int | None:
    """The recording's length in whole seconds (at least 1), from the container; None when
    the file does not say or does not open."""
    try:
        import av

        with av.open(io.BytesIO(data)) as source:
            if source.duration:
                return max(1, round(source.duration / av.time_base))
            stream = source.streams.audio[0]
            if stream.duration and stream.time_base:
                return max(1, round(float(stream.duration * stream.time_base)))
            last = 0.0
            for packet in source.demux(stream):
                if packet.pts is not None and packet.time_base:
                    last = max(last, float((packet.pts + (packet.duration or 0)) * packet.time_base))
            return max(1, round(last)) if last else None
    except Exception:
        return None


def webm_to_ogg(data: bytes) -> bytes:
    """The Opus packets of a WebM recording in an OGG container, as they are (no
    re-encoding). Raises ValueError when it is not Opus or does not open."""
    import av

    try:
        source, stream = _audio_stream(data)
    except Exception as exc:
        raise ValueError(f"unreadable recording: {exc}") from None
    with source:
        if stream.codec_context.name != "opus":
            raise ValueError(f"not Opus but {stream.codec_context.name}")
        output = io.BytesIO()
        with av.open(output, "w", format="ogg") as target:
            out_stream = target.add_stream_from_template(stream)
            for packet in source.demux(stream):
                if packet.dts is None:  # the demuxer's flush packet
                    continue
                packet.stream = out_stream
                target.mux(packet)
    return output.getvalue()


def is_animated_gif(data: bytes) -> bool:
    from PIL import Image

    try:
        with Image.open(io.BytesIO(data)) as image:
            return image.format == "GIF" and getattr(image, "n_frames", 1) > 1
    except Exception:
        return False


def for_image(filename: str, data: bytes) -> Upload:
    if container(data) == "gif" and is_animated_gif(data):
        return Upload("sendAnimation", "animation", filename, data)
    return Upload("sendPhoto", "photo", filename, data)


def for_audio(filename: str, data: bytes) -> Upload:
    """A voice bubble where Telegram can play one; MP3 as a music track; else a file."""
    kind = container(data)
    stem = filename.rsplit(".", 1)[0] or "voice"
    if kind == "webm":
        try:
            ogg = webm_to_ogg(data)
        except Exception as exc:  # not Opus (or broken): the admin still gets the file
            logger.warning("telegram_voice_remux_failed error=%r", str(exc))
        else:
            return _voice(f"{stem}.ogg", ogg)
    if kind == "ogg" and b"OpusHead" in data[:128]:  # the first page names the codec
        return _voice(filename, data)
    if kind == "m4a":
        return _voice(filename, data)
    if kind == "mp3":
        return Upload("sendAudio", "audio", filename, data)
    return Upload("sendDocument", "document", filename, data)


def _voice(filename: str, data: bytes) -> Upload:
    duration = duration_seconds(data)
    return Upload("sendVoice", "voice", filename, data, {"duration": duration} if duration else {})
