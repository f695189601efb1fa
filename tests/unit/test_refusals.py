"""Every refusal type (chatdesk/refusals.py and the modules of each area): a unique
snake_case code, an HTTP error status, and a Turkish translation of each of its texts.

Plain pytest, no server: the modules are imported here, and the catalogue is the
compiled locale/tr/LC_MESSAGES/django.mo."""

from __future__ import annotations

import importlib
import json
import pkgutil
import re

import pytest
from django.utils import translation

from chatdesk import refusals

PACKAGES = ("chatdesk", "chat", "accounts", "telegram_bridge")
# The entry point starts the server process; nothing else defines refusals at import.
SKIPPED = ("chatdesk.asgi",)

# The codes the pages switch on (static/chat/), with the HTTP status each answers.
CONTRACT = {
    "invalid_payload": 400,
    "field_required": 400,
    "field_invalid": 400,
    "text_too_long": 400,
    "name_required": 400,
    "name_too_long": 400,
    "unknown_thread": 404,
    "not_your_thread": 403,
    "admin_required": 401,
    "rate_limited": 429,
    "temporarily_unavailable": 503,
    "server_error": 500,
    "too_many_connections": 429,
    "csrf_failed": 403,
    "malformed_request": 400,
    "body_too_large": 413,
    "file_too_large": 413,
    "empty_file": 400,
    "unsupported_image": 400,
    "unsupported_audio": 400,
    "markup_in_file": 400,
    "storage_failed": 502,
    "length_required": 411,
    "multipart_required": 400,
    "no_file": 400,
}

SNAKE_CASE = re.compile(r"^[a-z][a-z0-9]*(?:_[a-z0-9]+)*$")
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]")


def import_everything() -> None:
    for package_name in PACKAGES:
        package = importlib.import_module(package_name)
        for module in pkgutil.walk_packages(package.__path__, package_name + "."):
            if module.name in SKIPPED or ".migrations" in module.name:
                continue
            importlib.import_module(module.name)


def every_subclass() -> list[type[refusals.Refusal]]:
    """all_types() and the subclasses that keep their parent's code (domain names,
    reworded variants): their texts must be translated too."""
    found, todo = [], [refusals.Refusal]
    while todo:
        cls = todo.pop()
        found.append(cls)
        todo.extend(cls.__subclasses__())
    return found


@pytest.fixture(scope="module")
def types() -> list[type[refusals.Refusal]]:
    import_everything()
    return refusals.all_types()


def texts(cls: type[refusals.Refusal]) -> dict[str, object]:
    """The type's own message and variants, by a readable key."""
    found = {}
    if "message" in cls.__dict__:
        found["message"] = cls.__dict__["message"]
    for key, message in cls.__dict__.get("variants", {}).items():
        found[f"variants[{key}]"] = message
    return found


def test_codes_are_unique_snake_case_with_an_error_status(types):
    codes = [cls.code for cls in types]
    assert len(codes) == len(set(codes)), sorted(c for c in codes if codes.count(c) > 1)
    for cls in types:
        assert SNAKE_CASE.match(cls.code), (cls, cls.code)
        assert 400 <= cls.status <= 599, (cls, cls.status)


def test_the_codes_the_pages_switch_on_exist_with_their_status(types):
    status_of = {cls.code: cls.status for cls in types}
    assert {code: status_of.get(code) for code in CONTRACT} == CONTRACT


def test_every_text_has_a_turkish_translation_with_the_same_placeholders(types):
    checked = 0
    for cls in every_subclass():
        for where, message in texts(cls).items():
            with translation.override("en"):
                english = str(message)
            with translation.override("tr"):
                turkish = str(message)
            assert turkish.strip(), (cls, where)
            assert turkish != english, (
                f"{cls.__module__}.{cls.__name__}.{where} is not translated: {english!r}"
            )
            assert sorted(PLACEHOLDER.findall(turkish)) == sorted(PLACEHOLDER.findall(english)), (cls, where)
            checked += 1
    assert checked >= len(CONTRACT)


def test_the_contract_types_render_filled_in_in_both_languages(types):
    """Each type the pages switch on, built as its raisers build it, renders a text with
    its placeholders filled in."""
    needs_field = (refusals.FieldRequired, refusals.FieldInvalid)
    for cls in types:
        if cls.code not in CONTRACT:
            continue
        refusal = cls("thread_id") if issubclass(cls, needs_field) else cls()
        for language in ("en", "tr"):
            with translation.override(language):
                answer = refusals.ack(refusal)
            assert answer["ok"] is False and answer["code"] == cls.code
            assert answer["error"] and "%(" not in answer["error"], (cls, language, answer)


def test_answers_carry_the_code_and_extras():
    refusal = refusals.FieldInvalid("thread_id", variant="not_an_id")
    with translation.override("en"):
        assert refusals.ack(refusal) == {
            "ok": False,
            "error": "thread_id is not a valid id.",
            "code": "field_invalid",
            "field": "thread_id",
        }
    with translation.override("tr"):
        response = refusals.http_response(refusals.RateLimited(retry_after=7))
    assert response.status_code == 429
    assert response["Retry-After"] == "7"
    assert json.loads(response.content) == {
        "success": False,
        "error": "Çok fazla istek; yavaşlayın.",
        "code": "rate_limited",
        "retry_after": 7,
    }


def test_thread_not_found_is_the_unknown_thread_refusal():
    from chat.services import ThreadNotFound

    refusal = ThreadNotFound("0f0f")
    assert isinstance(refusal, refusals.UnknownThread) and isinstance(refusal, LookupError)
    assert (refusal.code, refusal.status, refusal.thread_id) == ("unknown_thread", 404, "0f0f")
    assert ThreadNotFound not in refusals.all_types()  # the same refusal under the domain's name


@pytest.mark.parametrize(
    ("cookie", "accept_language", "expected"),
    [
        ("", "", "en"),
        ("", "tr-TR,tr;q=0.9,en;q=0.8", "tr"),
        ("", "de-DE,de;q=0.9", "en"),
        ("", "de;q=0.9,tr;q=0.5", "tr"),
        ("django_language=tr", "en-US,en;q=0.9", "tr"),
        ("theme=dark mode; django_language=en", "tr", "en"),
        ("django_language=xx", "tr", "tr"),
    ],
)
def test_the_language_of_a_client_without_a_request(cookie, accept_language, expected):
    assert refusals.client_language(cookie, accept_language) == expected
