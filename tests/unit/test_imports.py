"""Importing any module of chatdesk has no process-wide effect.

A shell, a management command or a test that imports the code keeps its interpreter as
it was: only `chatdesk.startup.start_server_process()` (called by the ASGI entry point,
`chatdesk.asgi`) tunes the interpreter and starts threads. Checked in a fresh
interpreter, so nothing this test process imported earlier can hide an effect.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("chat", "accounts", "telegram_bridge", "chatdesk")
ENTRY_POINTS = {"chatdesk.asgi"}

PROBE = r"""
import gc, importlib, json, sys, threading
import django

django.setup()
def state():
    return {
        "switchinterval": sys.getswitchinterval(),
        "gc_threshold": list(gc.get_threshold()),
        "gc_freeze_count": gc.get_freeze_count(),
        "threads": threading.active_count(),
    }
before = state()
imported = []
for name in json.loads(sys.argv[1]):
    importlib.import_module(name)
    imported.append(name)
print(json.dumps({"before": before, "after": state(), "imported": imported}))
"""


def project_modules() -> list[str]:
    """Every module of the four apps, from the files (subpackages without __init__ too)."""
    names = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            relative = path.relative_to(ROOT).with_suffix("")
            if "migrations" in relative.parts:
                continue
            parts = relative.parts[:-1] if relative.name == "__init__" else relative.parts
            name = ".".join(parts)
            if name not in ENTRY_POINTS:
                names.append(name)
    return names


def test_the_module_list_is_complete():
    names = project_modules()
    for expected in (
        "chat.services",
        "chat.realtime.db_worker",
        "chat.attachments.files",
        "chatdesk.startup",
    ):
        assert expected in names
    assert "chatdesk.asgi" not in names
    assert not [n for n in names if ".migrations" in n]


def test_importing_every_module_changes_nothing_in_the_interpreter(tmp_path):
    names = project_modules()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "chatdesk.settings",
        "DJANGO_DEBUG": "1",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "REDIS_URL": "",
        "TELEGRAM_BOT_TOKEN": "",
        "CLOUDINARY_URL": "",
        # Values a server would apply, so an import that applied them would show.
        "GIL_SWITCH_INTERVAL_US": "500",
        "GC_GEN0_THRESHOLD": "5000",
    }
    result = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(names)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["imported"] == names
    assert report["after"] == report["before"]
