"""The pages' ES modules still find each other after collectstatic, as production serves
them: every relative import in a hashed module names another hashed file that exists.

The test servers run with DEBUG=1 (unhashed names, straight from static/), so the browser
tests alone would not notice an import left pointing at `./x.js` in production, where only
the hashed copies are cached for ever."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

from tests.browser.conftest import ROOT
from tests.support.server import BASE_ENV

# The import forms the pages use: `import {…} from "./x.js";`, `import * as y from …;`,
# `import "./x.js";`, `export {…} from "./x.js";` (the ones Django's storage rewrites).
IMPORT = re.compile(r"""(?:\bfrom\s*|\bimport\s*)["'](\.{1,2}/[^"']+)["']""")
HASHED = re.compile(r"\.[0-9a-f]{12}\.js$")

COLLECT = """
import sys
import django
from django.conf import settings
django.setup()
settings.STATIC_ROOT = sys.argv[1]
from django.core.management import call_command
call_command("collectstatic", interactive=False, verbosity=0)
"""


def test_collectstatic_rewrites_module_imports_to_hashed_names(tmp_path):
    env = {**os.environ, **BASE_ENV, "DJANGO_DEBUG": "0", "DJANGO_SETTINGS_MODULE": "chatdesk.settings"}
    subprocess.run([sys.executable, "-c", COLLECT, str(tmp_path)], cwd=ROOT, env=env, check=True, timeout=300)
    manifest = json.loads((tmp_path / "staticfiles.json").read_text())["paths"]
    sources = sorted(p.name for p in (ROOT / "static" / "chat").glob("*.js"))
    assert sources, "no modules in static/chat"

    checked = 0
    for name in sources:
        hashed = manifest[f"chat/{name}"]
        assert HASHED.search(hashed), hashed
        text = (tmp_path / hashed).read_text()
        for target in IMPORT.findall(text):
            resolved = (tmp_path / hashed).parent.joinpath(target).resolve()
            assert HASHED.search(target), f"{hashed} imports the unhashed {target}"
            assert resolved.is_file(), f"{hashed} imports {target}, which collectstatic did not write"
            checked += 1
    # Every module but the leaves imports something: the check really saw the imports.
    assert checked >= len(sources)
