"""Settings for the test process itself (the servers under test use chatdesk.settings)."""

import os
import tempfile

os.environ.setdefault("DJANGO_DEBUG", "1")
os.environ.setdefault("DATABASE_URL", f"sqlite:///{tempfile.gettempdir()}/chatdesk-pytest.sqlite3")

from chatdesk.settings import *  # noqa: E402,F403

# The Telegram control card is one more bot message per thread: tests that count the
# bot's messages run without it (tests/telegram/test_card.py turns it on; live servers
# started by the tests inherit this settings module).
TELEGRAM_CARDS = os.getenv("TELEGRAM_CARDS", "0") == "1"
