"""Settings for the test process itself (the servers under test use chatdesk.settings)."""

import os
import tempfile

os.environ.setdefault("DJANGO_DEBUG", "1")
os.environ.setdefault("DATABASE_URL", f"sqlite:///{tempfile.gettempdir()}/chatdesk-pytest.sqlite3")

from chatdesk.settings import *  # noqa: E402,F403
