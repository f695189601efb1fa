"""The optional .env file beside manage.py, as people really write it (python-dotenv)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from tests.support.server import ROOT

DOTENV = """\
# chatdesk settings for this machine
export TIME_ZONE=UTC
LOG_LEVEL=WARNING   # quieter than the default
DJANGO_ALLOWED_HOSTS="chat.example.com, www.example.com"
TELEGRAM_BOT_TOKEN='123:abc#not-a-comment'
TELEGRAM_CHAT_ID="-100123 # inside quotes"
DJANGO_SECRET_KEY=from-the-dotenv-file
"""

SHOW = (
    "from django.conf import settings as s; import json; print(json.dumps([s.TIME_ZONE, s.LOG_LEVEL, "
    "s.ALLOWED_HOSTS, s.TELEGRAM_BOT_TOKEN, s.TELEGRAM_CHAT_ID, s.SECRET_KEY, s.DEBUG]))"
)


def project_with_dotenv(tmp_path: Path, dotenv: str) -> Path:
    """A copy of the project whose settings read `tmp_path/.env` (settings find .env beside
    manage.py through their own file's location, so chatdesk/ and manage.py are copied, the
    rest linked: Python puts the real directory of a linked script first on sys.path)."""
    for entry in ROOT.iterdir():
        if entry.name in {"chatdesk", "manage.py", ".env", ".venv", "db.sqlite3", "uploads", ".git"}:
            continue
        (tmp_path / entry.name).symlink_to(entry)
    shutil.copy(ROOT / "manage.py", tmp_path / "manage.py")
    shutil.copytree(ROOT / "chatdesk", tmp_path / "chatdesk", ignore=shutil.ignore_patterns("__pycache__"))
    (tmp_path / ".env").write_text(dotenv)
    return tmp_path


def show_settings(project: Path, **env: str) -> subprocess.CompletedProcess:
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DJANGO_", "DATABASE_URL", "TELEGRAM_", "TIME_ZONE", "LOG_"))
    }
    clean.update({"DJANGO_DEBUG": "1", "DATABASE_URL": f"sqlite:///{project / 'db.sqlite3'}", **env})
    return subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", SHOW],
        cwd=project,
        env=clean,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_dotenv_with_comments_export_and_quotes(tmp_path):
    result = show_settings(project_with_dotenv(tmp_path, DOTENV))
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1]) == [
        "UTC",
        "WARNING",
        ["chat.example.com", "www.example.com"],
        "123:abc#not-a-comment",
        "-100123 # inside quotes",
        "from-the-dotenv-file",
        True,
    ]


def test_the_real_environment_wins_over_dotenv(tmp_path):
    result = show_settings(
        project_with_dotenv(tmp_path, DOTENV), TIME_ZONE="Europe/Istanbul", LOG_LEVEL="ERROR"
    )
    assert result.returncode == 0, result.stderr
    values = json.loads(result.stdout.strip().splitlines()[-1])
    assert values[:2] == ["Europe/Istanbul", "ERROR"]


def test_a_bad_boolean_in_dotenv_is_still_a_clear_error(tmp_path):
    project = project_with_dotenv(tmp_path, "DJANGO_DEBUG=maybe  # not a boolean\n")
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_URL"))}
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=project,
        env=clean,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "DJANGO_DEBUG must be a boolean (1/0, true/false), got 'maybe'" in result.stderr
