"""Cloudinary as a Django storage backend (selected when CLOUDINARY_URL is set).

Uploads go through the official SDK as the contract says: pictures to the folder
`chat_images`, recordings to `chat_audio` with `resource_type="video"`; the file's URL
is Cloudinary's `secure_url`. A stored name is the part of that URL after
`https://res.cloudinary.com/<cloud>/` (e.g. `image/upload/v17/chat_images/<id>.png`),
so `url(name)` gives the secure_url back and `delete(name)` knows what to destroy.

Every SDK call has a timeout (CLOUDINARY_TIMEOUT); any failure raises StorageFailed,
so the upload view answers 502 and hands out no URL.
"""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime
from urllib.parse import parse_qs, unquote, urlparse

import cloudinary
import cloudinary.api
import cloudinary.uploader
import requests
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import Storage
from django.utils.deconstruct import deconstructible

from .files import CLOUDINARY_FOLDERS, EXTENSIONS, KIND_OF_FOLDER, StorageFailed

logger = logging.getLogger("chat.attachments")

RESOURCE_TYPES = {"image": "image", "audio": "video"}
DELIVERY_BASE = "https://res.cloudinary.com"


def configure_sdk() -> str:
    """Point the SDK at our cloud from settings; returns the cloud name."""
    parsed = urlparse(settings.CLOUDINARY_URL)
    if parsed.scheme != "cloudinary" or not parsed.password:
        raise StorageFailed("CLOUDINARY_URL must look like cloudinary://key:secret@cloud_name")
    cloud = parsed.netloc.rsplit("@", 1)[-1]
    options = {
        "cloud_name": cloud,
        "api_key": unquote(parsed.username or ""),
        "api_secret": unquote(parsed.password),
        "secure": True,
    }
    prefix = settings.CLOUDINARY_UPLOAD_PREFIX or parse_qs(parsed.query).get("upload_prefix", [""])[0]
    if prefix:
        options["upload_prefix"] = prefix.rstrip("/")
    cloudinary.config(**options)
    return cloud


@deconstructible
class CloudinaryStorage(Storage):
    """Stores `images/<name>` and `audio/<name>` on Cloudinary; never on local disk."""

    def __init__(self):
        self.cloud = configure_sdk()
        self.base = f"{DELIVERY_BASE}/{self.cloud}/"
        self.timeout = settings.CLOUDINARY_TIMEOUT

    # --- Storage API ---------------------------------------------------------------

    def _save(self, name: str, content) -> str:
        folder, filename = name.split("/", 1)
        kind = KIND_OF_FOLDER[folder]
        public_id = filename.rsplit(".", 1)[0]
        content.seek(0)
        try:
            result = cloudinary.uploader.upload(
                content,
                folder=CLOUDINARY_FOLDERS[kind],
                public_id=public_id,
                resource_type=RESOURCE_TYPES[kind],
                filename=filename,
                overwrite=False,
                timeout=self.timeout,
            )
        except Exception as exc:
            logger.warning("cloudinary_upload_failed kind=%s error=%r", kind, exc)
            raise StorageFailed("Cloudinary did not take the file; try again later.") from exc
        secure_url = result.get("secure_url") if isinstance(result, dict) else None
        if not isinstance(secure_url, str) or not self.is_own_url(secure_url, kind):
            logger.warning("cloudinary_unexpected_answer kind=%s url=%r", kind, secure_url)
            raise StorageFailed("Cloudinary answered with an unexpected URL.")
        return secure_url[len(self.base) :]

    def url(self, name: str) -> str:
        return self.base + name

    def _open(self, name: str, mode: str = "rb"):
        """The stored file's bytes, downloaded from Cloudinary (the Telegram bridge uploads
        them to Telegram rather than handing over the URL, whose by-URL limits are narrower).
        At most UPLOAD_MAX_BYTES; any failure raises StorageFailed."""
        self._parse_name(name)  # only our own names
        prefix = (settings.CLOUDINARY_DOWNLOAD_PREFIX or DELIVERY_BASE).rstrip("/")
        url = f"{prefix}/{self.cloud}/{name}"
        limit = settings.UPLOAD_MAX_BYTES
        try:
            with requests.get(url, stream=True, timeout=self.timeout) as response:
                if response.status_code != 200:
                    raise StorageFailed(f"Cloudinary download of {name}: HTTP {response.status_code}")
                chunks, size = [], 0
                for chunk in response.iter_content(64 * 1024):
                    size += len(chunk)
                    if size > limit:
                        raise StorageFailed(f"Cloudinary download of {name}: larger than the upload limit")
                    chunks.append(chunk)
        except requests.RequestException as exc:
            raise StorageFailed(f"Cloudinary download of {name}: {type(exc).__name__}") from None
        return ContentFile(b"".join(chunks), name=name)

    def exists(self, name: str) -> bool:
        # New names are UUIDs, so Django never needs to pick another one.
        return False

    def delete(self, name: str) -> None:
        resource, public_id = self._parse_name(name)
        try:
            cloudinary.uploader.destroy(
                public_id, resource_type=resource, invalidate=True, timeout=self.timeout
            )
        except Exception as exc:
            raise StorageFailed(f"Cloudinary did not delete {name}: {exc!r}") from exc

    # --- What chat/attachments.py and prune_uploads ask of a storage ----------------------

    def is_own_url(self, url: str, kind: str) -> bool:
        """A secure_url of our cloud, in the folder and resource type of `kind`."""
        exts = "|".join(sorted(EXTENSIONS[kind]) + (["mp4"] if kind == "audio" else []))
        pattern = (
            rf"^{re.escape(self.base)}{RESOURCE_TYPES[kind]}/upload/(?:v\d+/)?"
            rf"{CLOUDINARY_FOLDERS[kind]}/[A-Za-z0-9_-]+\.(?:{exts})$"
        )
        return re.match(pattern, url) is not None

    def list_uploads(self) -> list[tuple[str, datetime]]:
        """(name, created at) of every file in our two folders, through the Admin API."""
        found = []
        for kind, folder in CLOUDINARY_FOLDERS.items():
            cursor = None
            while True:
                options = {
                    "resource_type": RESOURCE_TYPES[kind],
                    "type": "upload",
                    "prefix": f"{folder}/",
                    "max_results": 500,
                    "timeout": self.timeout,
                }
                if cursor:
                    options["next_cursor"] = cursor
                page = cloudinary.api.resources(**options)
                for item in page.get("resources", []):
                    url = item.get("secure_url", "")
                    if url.startswith(self.base):
                        created = datetime.fromisoformat(item["created_at"].replace("Z", "+00:00"))
                        found.append((url[len(self.base) :], created.astimezone(UTC)))
                cursor = page.get("next_cursor")
                if not cursor:
                    break
        return found

    def _parse_name(self, name: str) -> tuple[str, str]:
        match = re.match(r"^(image|video)/upload/(?:v\d+/)?([A-Za-z0-9_/-]+)\.[A-Za-z0-9]+$", name)
        if match is None:
            raise StorageFailed(f"Not a Cloudinary upload name: {name!r}")
        return match.group(1), match.group(2)
