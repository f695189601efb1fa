"""The fast layer: plain pytest against the code itself, no server, no browser.

pytest-django supplies the settings (tests.settings); tests that need the ORM take the
`db` fixture and get Django's in-memory SQLite test database. Everything here runs in
seconds; behaviour seen by clients is proven by the live-server tests beside it.
"""
