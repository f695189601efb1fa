"""Real recordings for the tests, made with PyAV: what Chrome and Firefox upload."""

from __future__ import annotations

import io
import math
import struct


def webm_opus(seconds: float = 1.0, rate: int = 48000) -> bytes:
    """`seconds` of a 440 Hz sine, encoded as Opus in a WebM container (MediaRecorder's)."""
    import av

    buffer = io.BytesIO()
    with av.open(buffer, "w", format="webm") as output:
        stream = output.add_stream("libopus", rate=rate, layout="mono")
        total = int(seconds * rate)
        for start in range(0, total, 960):
            samples = [
                int(0.3 * 32767 * math.sin(2 * math.pi * 440 * (start + k) / rate)) for k in range(960)
            ]
            frame = av.AudioFrame(format="s16", layout="mono", samples=960)
            frame.planes[0].update(struct.pack("<960h", *samples))
            frame.sample_rate = rate
            frame.pts = start
            for packet in stream.encode(frame):
                output.mux(packet)
        for packet in stream.encode(None):
            output.mux(packet)
    return buffer.getvalue()


def container_of(data: bytes) -> tuple[str, str, float]:
    """(container format, audio codec, seconds) as FFmpeg reads the bytes (not a name)."""
    import av

    with av.open(io.BytesIO(data)) as source:
        stream = source.streams.audio[0]
        return source.format.name, stream.codec_context.name, source.duration / av.time_base


def animated_gif(frames: int = 3) -> bytes:
    from PIL import Image

    images = [Image.new("RGB", (16, 16), color) for color in ("red", "green", "blue")[:frames]]
    buffer = io.BytesIO()
    images[0].save(buffer, format="GIF", save_all=True, append_images=images[1:], duration=100, loop=0)
    return buffer.getvalue()
