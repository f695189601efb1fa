"""The static files storage: whitenoise's compressed, hashed names, plus the rewriting of
ES module imports.

The pages' scripts are ES modules (`import { x } from "./y.js";`). After collectstatic
every file has a hashed name (`y.3f2a….js`); Django's ManifestStaticFilesStorage rewrites
`import` and `export … from` paths to those names only when
`support_js_module_import_aggregation` is on (Django 4.2+, off by default). Without it a
module would load the unhashed `y.js`, which production caches for ever or not at all.
"""

from __future__ import annotations

from whitenoise.storage import CompressedManifestStaticFilesStorage


class ChatdeskStaticFilesStorage(CompressedManifestStaticFilesStorage):
    support_js_module_import_aggregation = True
