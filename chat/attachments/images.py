"""Uploaded pictures are re-encoded before they are stored: upright, without metadata.

A phone photo carries its owner's GPS position, the device and the time in its EXIF
(and XMP, comments...). Staff, Telegram and Cloudinary would all receive it if the bytes
were stored as they came. `reencode` decodes the picture with Pillow (which proves that it
is one, within a pixel limit), turns it upright by its EXIF orientation, and writes it
again in its own format with nothing but the pixels: JPEG at quality 90, PNG lossless,
GIF and WebP animations kept animated (frame durations, loop count), a lossless WebP kept
lossless. The ICC colour profile is kept (colours, not personal data).
"""

from __future__ import annotations

import io

from PIL import Image, ImageOps, ImageSequence

from .refusals import TooManyPixels, UnreadableImage

JPEG_QUALITY = 90
WEBP_QUALITY = 90
PILLOW_FORMATS = {"jpg": "JPEG", "png": "PNG", "gif": "GIF", "webp": "WEBP"}


def _refuse_too_many(max_pixels: int) -> TooManyPixels:
    return TooManyPixels(megapixels=max(1, max_pixels // 1_000_000))


def reencode(data: bytes, ext: str, max_pixels: int) -> bytes:
    """The picture `data` (format `ext`, as sniffed) decoded and written again, upright and
    without metadata. Raises UnreadableImage or TooManyPixels."""
    # Pillow's own decompression-bomb guard (an error at twice this) backs the check below.
    Image.MAX_IMAGE_PIXELS = max_pixels
    try:
        with Image.open(io.BytesIO(data), formats=[PILLOW_FORMATS[ext]]) as image:
            frames = getattr(image, "n_frames", 1)
            if image.width * image.height * frames > max_pixels:
                raise _refuse_too_many(max_pixels)
            for frame in ImageSequence.Iterator(image):
                frame.load()  # every frame decodes, or the file is refused
            image.seek(0)
            if frames > 1:
                return _animation(image, ext, data)
            return _still(image, ext, data)
    except Image.DecompressionBombError:
        raise _refuse_too_many(max_pixels) from None
    except TooManyPixels:
        raise
    except Exception as exc:  # Pillow raises OSError, SyntaxError, ValueError, EOFError...
        raise UnreadableImage() from exc


def _still(image: Image.Image, ext: str, data: bytes) -> bytes:
    icc = image.info.get("icc_profile")
    transparency = image.info.get("transparency")
    upright = ImageOps.exif_transpose(image)  # a copy, turned by the orientation tag
    upright.info = {}  # nothing of the original's metadata may be written back
    options: dict = {"icc_profile": icc} if icc else {}
    out = io.BytesIO()
    if ext == "jpg":
        if upright.mode not in ("L", "RGB", "CMYK"):
            upright = upright.convert("RGB")
        upright.save(out, "JPEG", quality=JPEG_QUALITY, optimize=True, comment=b"", **options)
    elif ext == "png":
        if transparency is not None:
            options["transparency"] = transparency
        upright.save(out, "PNG", **options)
    elif ext == "gif":
        if transparency is not None:
            options["transparency"] = transparency
        upright.save(out, "GIF", comment=b"", **options)
    else:
        upright.save(out, "WEBP", **_webp_quality(data), **options)
    return out.getvalue()


def _animation(image: Image.Image, ext: str, data: bytes) -> bytes:
    """All frames again, with their durations and the loop count; no metadata."""
    options: dict = {"save_all": True}
    if "loop" in image.info:
        options["loop"] = image.info["loop"]
    out = io.BytesIO()
    if ext == "gif":
        # Pillow takes each frame's duration, disposal and transparency from the frame.
        image.save(out, "GIF", comment=b"", **options)
    else:
        durations = []
        for frame in ImageSequence.Iterator(image):
            frame.load()  # WebP tells a frame's duration once it is decoded
            durations.append(frame.info.get("duration", 0))
        image.seek(0)
        image.save(out, "WEBP", duration=durations, **_webp_quality(data), **options)
    return out.getvalue()


def _webp_quality(data: bytes) -> dict:
    """Lossless stays lossless (VP8L frames only); lossy WebP is written at quality 90."""
    if b"VP8L" in data and b"VP8 " not in data:
        return {"lossless": True}
    return {"quality": WEBP_QUALITY}
