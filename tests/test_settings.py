"""Configuration from the environment: production refuses to start without a secret."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.support.server import ROOT


def run_manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_URL"))}
    clean.update(env)
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=clean, capture_output=True, text=True, timeout=60
    )


def test_production_without_secret_key_refuses_to_start():
    result = run_manage("check", DJANGO_DEBUG="0", DJANGO_SECRET_KEY="")
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY is not set" in result.stderr


def test_debug_defaults_to_off():
    result = run_manage(
        "shell", "-c", "from django.conf import settings; print(settings.DEBUG)", DJANGO_SECRET_KEY="x" * 60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "False"


def test_malformed_boolean_is_a_clear_error():
    result = run_manage("check", DJANGO_DEBUG="maybe")
    assert result.returncode != 0
    assert "DJANGO_DEBUG must be a boolean" in result.stderr


def test_time_zone_and_database_from_environment(tmp_path):
    db = tmp_path / "x.sqlite3"
    code = (
        "from django.conf import settings; print(settings.TIME_ZONE, settings.DATABASES['default']['NAME'])"
    )
    result = run_manage(
        "shell", "-c", code, DJANGO_DEBUG="1", TIME_ZONE="UTC", DATABASE_URL=f"sqlite:///{db}"
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1].split() == ["UTC", str(db)]
