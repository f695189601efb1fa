"""Delete uploaded files that no message refers to any more."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.core.files.storage import storages
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from chat.attachments.files import LOCAL_FILENAME_RE, LOCAL_FOLDERS
from chat.models import Message

# Long enough for a visitor to send the message an upload was for (seconds, usually);
# short enough that anonymous uploads never sent do not pile up (issue 18).
DEFAULT_HOURS = 0.5


def usage_error(message: str) -> CommandError:
    return CommandError(message, returncode=2)


def stored_files(storage) -> list[tuple[str, datetime]]:
    """(storage name, last modified) of every file in the upload folders."""
    if hasattr(storage, "list_uploads"):  # Cloudinary: through its Admin API
        return storage.list_uploads()
    found = []
    for folder in LOCAL_FOLDERS.values():
        try:
            _, files = storage.listdir(folder)
        except FileNotFoundError:
            continue
        for filename in files:
            if LOCAL_FILENAME_RE.match(filename):
                name = f"{folder}/{filename}"
                found.append((name, storage.get_modified_time(name)))
    return found


class Command(BaseCommand):
    help = (
        "Delete uploaded pictures and recordings that no message refers to (left behind "
        "by cleared or deleted threads, or uploaded and never sent). Works on the "
        "configured storage: local disk, Cloudinary (through its Admin API) or any "
        "storage that can list its folders. Files younger than --older-than hours are "
        "kept: they may belong to a message that is still being sent. Run it every 15 "
        "minutes (deploy/chatdesk-maintenance.timer): with the default half hour, a file "
        "uploaded and never sent is gone within the hour.\n"
        "Prints one line per file ('delete' / 'would delete') and a summary. "
        "Exit codes: 0 done (or nothing to do), 1 some files could not be listed or "
        "deleted, 2 usage error."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--dry-run", action="store_true", help="Print what would be deleted; delete nothing."
        )
        parser.add_argument(
            "--older-than",
            type=float,
            default=DEFAULT_HOURS,
            metavar="HOURS",
            help=f"Only files stored more than HOURS hours ago (default {DEFAULT_HOURS:g}).",
        )

    def handle(self, *args, **options):
        hours = options["older_than"]
        if hours < 0:
            raise usage_error("--older-than must be 0 or more hours.")
        storage = storages["default"]
        try:
            files = stored_files(storage)
        except Exception as exc:
            raise CommandError(f"Could not list the stored uploads: {exc}") from exc
        referenced = set(
            Message.objects.exclude(file_path__isnull=True)
            .exclude(file_path="")
            .values_list("file_path", flat=True)
        )
        # Agents' pictures uploaded in the Django admin are stored as uploads too.
        from accounts.models import Agent

        referenced.update(Agent.objects.exclude(avatar_url="").values_list("avatar_url", flat=True))
        cutoff = timezone.now() - timedelta(hours=hours)
        verb = "would delete" if options["dry_run"] else "delete"
        kept = recent = deleted = failed = 0
        for name, modified in sorted(files):
            if storage.url(name) in referenced:
                kept += 1
                continue
            if modified > cutoff:
                recent += 1
                continue
            self.stdout.write(f"{verb} {name}")
            if options["dry_run"]:
                deleted += 1
                continue
            try:
                storage.delete(name)
                deleted += 1
            except Exception as exc:
                failed += 1
                self.stderr.write(f"failed {name}: {exc}")
        summary = (
            f"{deleted} orphaned file(s) {'would be deleted' if options['dry_run'] else 'deleted'}, "
            f"{kept} in use, {recent} younger than {hours:g} hour(s) kept, {failed} failed."
        )
        self.stdout.write(summary)
        if options["dry_run"]:
            self.stdout.write("Dry run: nothing was changed.")
        if failed:
            raise CommandError(f"{failed} file(s) could not be deleted.", returncode=1)
