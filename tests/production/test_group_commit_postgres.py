"""Group commit on PostgreSQL: the unit tests of chat.services.post_visitor_messages run
again against the real server, where a group's statements go in one round trip and a
group with a resolved thread, a blocked visitor, an unknown thread or a resent client_id
is rolled back and stored statement by statement, and a conversation's first message
makes its Telegram card and the card's outbox item with the COMMIT (tests/unit run on
SQLite)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MODULES = [
    "tests/unit/test_group_commit.py",
    "tests/unit/test_known_cards.py",
    "tests/unit/test_outbox_order.py",
    "tests/unit/test_writes_at_commit.py",
]


def test_group_commit_unit_tests_pass_on_postgresql(services):
    env = {**os.environ, "DATABASE_URL": services.database_url, "DJANGO_DEBUG": "1"}
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:randomly", *MODULES],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert " passed" in done.stdout and "skipped" not in done.stdout, done.stdout[-2000:]
