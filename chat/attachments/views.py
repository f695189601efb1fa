"""The upload routes of the contract and the route that serves local uploads.

POST /api/upload/image and /api/upload/audio take a multipart field `file` and answer
`{"url": ...}`. They are public (no sign-in) but keep CSRF protection, are rate-limited
per client address, and refuse by content what is not a picture / recording we accept.
Refusals are raised (chat/attachments/refusals.py) and answered by chatdesk's
RefusalMiddleware, like every API refusal.

The work (parsing the multipart body, storing on disk or Cloudinary) runs on a small
pool of its own threads, so a slow Cloudinary never holds the event loop nor the
threads that serve the other requests.
"""

from __future__ import annotations

import logging
import shutil
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from asgiref.sync import sync_to_async
from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFilesSent
from django.core.files.storage import FileSystemStorage, default_storage, storages
from django.core.files.uploadhandler import FileUploadHandler, StopUpload
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.http.multipartparser import MultiPartParserError
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_http_methods, require_POST

from accounts import signin
from chat import blocks
from chatdesk import ratelimit
from chatdesk.body_limit import MULTIPART_OVERHEAD
from chatdesk.clientip import client_ip
from chatdesk.refusals import FileTooLarge, MalformedRequest, RateLimited

from .files import (
    CONTENT_TYPES,
    EXTENSIONS,
    KIND_OF_FOLDER,
    LOCAL_FILENAME_RE,
    StorageFailed,
    store_file,
)
from .ranges import ranged_response
from .refusals import (
    LengthRequired,
    MultipartRequired,
    NoFile,
    NotStored,
    StorageFull,
    UploadQuotaExceeded,
)

logger = logging.getLogger("chat.attachments")

_upload_in_pool = None


class SizeLimitHandler(FileUploadHandler):
    """Stops reading a file part as soon as it passes UPLOAD_MAX_BYTES.

    The server already caps the whole body (chat/body_limit.py); this catches a file just
    over the limit inside a body that fits, before it is written to a temporary file.
    """

    def receive_data_chunk(self, raw_data, start):
        if start + len(raw_data) > settings.UPLOAD_MAX_BYTES:
            self.request.upload_too_large = True
            raise StopUpload(connection_reset=True)
        return raw_data

    def file_complete(self, file_size):
        return None


@csrf_protect
def _checked_upload(request: HttpRequest, kind: str) -> HttpResponse:
    # request.POST / FILES are parsed here (by the CSRF check first), with our handler.
    if not request.content_type or not request.content_type.startswith("multipart/form-data"):
        raise MultipartRequired()
    upload = request.FILES.get("file")
    if getattr(request, "upload_too_large", False):
        raise FileTooLarge()
    if upload is None:
        raise NoFile()
    ip = client_ip(request.META)
    _require_room(ip, upload.size)
    try:
        url = store_file(kind, upload, upload.name or "")
    except StorageFailed as exc:
        logger.warning("upload_not_stored kind=%s reason=%r", kind, str(exc))
        raise NotStored() from exc
    # Counted once stored (refused files cost nothing), in kilobytes.
    ratelimit.hit("upload-kb", ip, settings.UPLOAD_BYTES_PER_DAY_PER_IP // 1024, DAY, _kilobytes(upload.size))
    logger.info("upload kind=%s ip=%s url=%s", kind, ip, url)
    return JsonResponse({"url": url})


DAY = 24 * 60 * 60


def _kilobytes(size: int) -> int:
    return max(1, -(-size // 1024))


def _require_room(ip: str, size: int) -> None:
    """Refuse a file this address has no budget left for today, or that would leave the
    upload disk with less than UPLOAD_MIN_FREE_BYTES free (anonymous uploads must never
    fill the disk the database and logs share)."""
    used = ratelimit.count("upload-kb", ip, DAY)
    if used + _kilobytes(size) > settings.UPLOAD_BYTES_PER_DAY_PER_IP // 1024:
        logger.warning("upload_refused ip=%s reason=daily_bytes used_kb=%s", ip, used)
        raise UploadQuotaExceeded(retry_after=ratelimit.retry_after(DAY))
    storage = storages["default"]
    if settings.UPLOAD_MIN_FREE_BYTES > 0 and isinstance(storage, FileSystemStorage):
        Path(storage.location).mkdir(parents=True, exist_ok=True)
        if shutil.disk_usage(storage.location).free - size < settings.UPLOAD_MIN_FREE_BYTES:
            logger.error("upload_refused reason=storage_full location=%s", storage.location)
            raise StorageFull()


def _upload(request: HttpRequest, kind: str) -> HttpResponse:
    if not ratelimit.hit("upload", client_ip(request.META), settings.UPLOADS_PER_MINUTE, 60):
        raise RateLimited(variant="uploads", retry_after=ratelimit.retry_after(60))
    if not signin.is_admin(request):
        # A blocked visitor (issue 13) sends nothing, files included.
        session_key = request.COOKIES.get(settings.SESSION_COOKIE_NAME)
        blocks.refuse_if_blocked(blocks.Visitor.of(client_ip(request.META), session_key))
    raw_length = request.META.get("CONTENT_LENGTH")
    if raw_length in (None, ""):
        raise LengthRequired()
    try:
        declared = int(raw_length)
    except ValueError:
        raise MalformedRequest(variant="content_length") from None
    if declared > settings.UPLOAD_MAX_BYTES + MULTIPART_OVERHEAD:
        raise FileTooLarge()
    request.upload_handlers.insert(0, SizeLimitHandler(request))
    try:
        return _checked_upload(request, kind)
    except RequestDataTooBig:
        raise FileTooLarge() from None
    except (MultiPartParserError, TooManyFilesSent) as exc:
        logger.info("upload_malformed kind=%s reason=%r", kind, str(exc))
        raise MalformedRequest(variant="multipart") from exc


def start() -> None:
    """Build the upload threads' executor (once; `chatdesk.startup` calls it)."""
    global _upload_in_pool
    if _upload_in_pool is None:
        executor = ThreadPoolExecutor(
            max_workers=settings.UPLOAD_THREADS, thread_name_prefix="chatdesk-upload"
        )
        _upload_in_pool = sync_to_async(_upload, thread_sensitive=False, executor=executor)


async def _upload_in_pool_call(request: HttpRequest, kind: str) -> HttpResponse:
    if _upload_in_pool is None:
        start()
    return await _upload_in_pool(request, kind)


# CSRF is checked inside (_checked_upload), after the size-limiting handler is installed:
# Django's middleware would parse the body before the view could install it.
@csrf_exempt
@require_POST
async def upload_image(request: HttpRequest) -> HttpResponse:
    return await _upload_in_pool_call(request, "image")


@csrf_exempt
@require_POST
async def upload_audio(request: HttpRequest) -> HttpResponse:
    return await _upload_in_pool_call(request, "audio")


@require_http_methods(["GET", "HEAD"])
def serve_upload(request: HttpRequest, folder: str, filename: str) -> HttpResponse:
    """Local uploads: only our two folders, only names we generate, never as HTML."""
    kind = KIND_OF_FOLDER.get(folder)
    if kind is None or not LOCAL_FILENAME_RE.match(filename) or ".." in filename:
        raise Http404("No such file.")
    ext = filename.rsplit(".", 1)[-1].lower()
    if ext not in EXTENSIONS[kind]:
        raise Http404("No such file.")
    # Only a local-disk storage is served from here; Cloudinary / S3 serve their own URLs.
    if not isinstance(storages["default"], FileSystemStorage):
        raise Http404("No such file.")
    path = f"{folder}/{filename}"
    if not default_storage.exists(path):
        raise Http404("No such file.")
    if settings.UPLOADS_X_ACCEL_REDIRECT:
        # nginx sends the bytes (ranges included) from its internal location: docs/deploy.md.
        response = HttpResponse(content_type=CONTENT_TYPES[ext])
        response["X-Accel-Redirect"] = settings.UPLOADS_X_ACCEL_REDIRECT + path
    else:
        # One byte range (206) when asked: Safari plays and seeks audio only so. An If-Range
        # cannot be checked (no validators are sent), so it gets the whole file.
        range_header = None if "HTTP_IF_RANGE" in request.META else request.META.get("HTTP_RANGE")
        response = ranged_response(
            default_storage.open(path, "rb"), default_storage.size(path), CONTENT_TYPES[ext], range_header
        )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Content-Disposition"] = "inline"
    response["Cache-Control"] = "public, max-age=31536000, immutable"
    return response
