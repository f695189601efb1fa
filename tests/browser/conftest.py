"""Browser fixtures: Debian's chromium driven by Playwright (sync API), signed-in admins,
screenshots, and a check that no page logs a CSP violation or a JavaScript error."""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
CHROMIUM = os.getenv("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--use-fake-ui-for-media-stream",
    "--use-fake-device-for-media-stream",
]
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}

# Console errors that are the network's doing (a server we stopped on purpose), not the page's.
NETWORK_NOISE = re.compile(r"WebSocket connection to|Failed to load resource|net::ERR_", re.I)


def pytest_terminal_summary(terminalreporter):
    if SCREENSHOTS.exists() and any(SCREENSHOTS.iterdir()):
        terminalreporter.write_line(f"browser screenshots: {SCREENSHOTS}")


# Package scope: Playwright's sync API keeps an event loop running in this thread while it
# is open, which the asyncio tests of other packages could not start beside.
@pytest.fixture(scope="package")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: `make chromium` installs Debian's chromium.")
    from playwright.sync_api import sync_playwright

    shutil.rmtree(SCREENSHOTS, ignore_errors=True)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


class PageProblems:
    """Everything a page complained about: JS errors, CSP violations, dialogs it opened."""

    def __init__(self):
        self.errors: list[str] = []
        self.dialogs: list[str] = []

    def watch(self, page) -> None:
        page.on("pageerror", lambda exc: self.errors.append(f"{page.url}: pageerror {exc}"))
        page.on("console", lambda msg: self._console(page, msg))
        page.on("dialog", self._dialog)

    def _console(self, page, msg) -> None:
        text = msg.text
        if "Content Security Policy" in text or "Content-Security-Policy" in text:
            self.errors.append(f"{page.url}: CSP {text}")
        elif msg.type == "error" and not NETWORK_NOISE.search(text):
            self.errors.append(f"{page.url}: console {text}")

    def _dialog(self, dialog) -> None:
        self.dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()


@pytest.fixture
def problems() -> Iterator[PageProblems]:
    found = PageProblems()
    yield found
    assert not found.errors, "the pages logged errors:\n" + "\n".join(found.errors)
    assert not found.dialogs, f"a page opened a dialog: {found.dialogs}"


@pytest.fixture
def open_context(browser, problems):
    """new_context(...) for this test; every page it opens is watched for problems."""
    contexts = []

    def make(viewport=DESKTOP, locale="en-US", phone=False, **kwargs):
        # Reduced motion: no half-finished animations in the screenshots.
        options = dict(viewport=viewport, locale=locale, reduced_motion="reduce", **kwargs)
        if phone:
            options.update(is_mobile=True, has_touch=True, device_scale_factor=2)
        context = browser.new_context(**options)
        context.set_default_timeout(10_000)
        context.on("page", problems.watch)
        contexts.append(context)
        return context

    yield make
    for context in contexts:
        context.close()


def shot(page, name: str) -> Path:
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path))
    return path


def sign_in_admin(context, base_url: str):
    """Sign in through the real /login page with the development code it shows."""
    page = context.new_page()
    page.goto(base_url + "/login")
    page.click("#request-code")
    code = page.locator("#dev-code-value")
    code.wait_for()
    page.fill("#otp", code.inner_text().strip())
    page.click("#verify")
    page.wait_for_url(re.compile(r"/admin$"))
    page.locator("#conn[data-state=online]").wait_for()
    return page


def start_visitor(context, base_url: str, name: str, path: str = "/"):
    page = context.new_page()
    page.goto(base_url + path)
    # The availability line and welcome text are drawn once /api/availability answers; the
    # new text can move the start button (a phone's narrow card), so click after it.
    page.locator("#availability").wait_for(state="visible")
    page.fill("#name", name)
    page.click("#start")
    # The visitor page shows the connection line only while it is not connected.
    page.locator("#conn[data-state=online]").wait_for(state="attached")
    return page


def send_text(page, text: str, selector: str = "[data-role=text]") -> None:
    box = page.locator(f"{selector}:visible")
    box.fill(text)
    box.press("Enter")
