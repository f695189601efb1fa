"""Which language the bot writes in (telegram_bridge/language.py): the desk's for the chat
(TELEGRAM_LANGUAGE, else LANGUAGE_CODE), the presser's own for a toast when the desk
speaks it."""

from __future__ import annotations

from django.utils import translation
from django.utils.translation import gettext_lazy

from telegram_bridge import language


def test_the_desk_language_is_telegram_language_else_language_code(settings):
    settings.LANGUAGE_CODE = "en"
    settings.TELEGRAM_LANGUAGE = ""
    assert language.desk() == "en"
    settings.TELEGRAM_LANGUAGE = "tr"
    assert language.desk() == "tr"
    settings.TELEGRAM_LANGUAGE = "de"  # not one the desk speaks
    assert language.desk() == "en"
    settings.TELEGRAM_LANGUAGE = ""
    settings.LANGUAGE_CODE = "tr"
    assert language.desk() == "tr"


def test_a_pressers_language_when_spoken_else_the_desks(settings):
    settings.TELEGRAM_LANGUAGE = "tr"
    assert language.of_user({"language_code": "en-GB"}) == "en"
    assert language.of_user({"language_code": "TR"}) == "tr"
    assert language.of_user({"language_code": "de"}) == "tr"
    assert language.of_user({}) == "tr"
    assert language.of_user({"language_code": 7}) == "tr"


def test_the_turkish_catalogue_has_the_bots_texts():
    with translation.override("tr"):
        assert str(gettext_lazy("This conversation has changed.")) == "Bu konuşma değişti."
        assert str(gettext_lazy("Open in panel")) == "Panelde aç"
