"""The refusals of uploads: files we do not store, and upload requests we cannot read.

(`file_too_large` is in chatdesk/refusals.py: the server's body limit answers it too.)
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from chatdesk.refusals import Refusal


class UploadRefused(Refusal):
    """A file we do not store; subclasses say why."""

    code = "upload_refused"
    message = _("The file is refused.")


class EmptyFile(UploadRefused):
    code = "empty_file"
    message = _("The file is empty.")


class UnsupportedImage(UploadRefused):
    code = "unsupported_image"
    message = _("Not an image we accept: send PNG, JPEG, GIF or WebP.")


class UnsupportedAudio(UploadRefused):
    code = "unsupported_audio"
    message = _("Not a recording we accept: send WebM, OGG, MP4/M4A, MP3 or WAV.")


class MarkupInFile(UploadRefused):
    """A polyglot: a picture or recording with HTML, SVG or script in its first bytes."""

    code = "markup_in_file"
    message = _("The file contains markup (HTML, SVG or script); it is refused.")


class NotStored(Refusal):
    """The storage (disk, Cloudinary, S3...) did not take the file; nothing refers to it."""

    code = "storage_failed"
    status = 502
    message = _("Could not store the file; try again later.")


class LengthRequired(Refusal):
    """Django's multipart parser reads nothing without a length (a chunked body)."""

    code = "length_required"
    status = 411
    message = _("Send the upload with a Content-Length (not chunked).")


class MultipartRequired(Refusal):
    code = "multipart_required"
    message = _("Send the file as multipart/form-data in the field 'file'.")


class NoFile(Refusal):
    code = "no_file"
    message = _("No file: send it as the multipart field 'file'.")


class UploadQuotaExceeded(Refusal):
    """One address stored UPLOAD_BYTES_PER_DAY_PER_IP today; `retry_after` in seconds."""

    code = "upload_quota"
    status = 429
    message = _("This address has uploaded too much today; try again later.")

    def __init__(self, *, retry_after: int):
        super().__init__(extra={"retry_after": retry_after})


class StorageFull(Refusal):
    """The upload disk has less than UPLOAD_MIN_FREE_BYTES free: nothing more is stored
    until an operator makes room (the database and logs need the space more)."""

    code = "storage_full"
    status = 507
    message = _("The chat cannot store files right now; send text instead.")


class UnreadableImage(UploadRefused):
    """Starts like a picture but does not decode (truncated, corrupt, a disguised file)."""

    code = "unreadable_image"
    message = _("The picture could not be read; send another file.")


class TooManyPixels(UploadRefused):
    """More pixels than UPLOAD_MAX_PIXELS (all frames of an animation together)."""

    code = "image_too_many_pixels"
    status = 413
    message = _("The picture is too large (more than %(megapixels)s megapixels).")
