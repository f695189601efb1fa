"""Who may frame the chat: the listed sites, and localhost only in debug."""

from chat import widget


def test_production_lets_only_the_listed_sites_frame_the_chat(settings):
    settings.DEBUG = False
    settings.WIDGET_ALLOWED_ORIGINS = []
    assert widget.frame_ancestors() == []
    assert not widget.origin_allowed("http://localhost:8000")
    settings.WIDGET_ALLOWED_ORIGINS = ["https://shop.example"]
    assert widget.frame_ancestors() == ["https://shop.example"]
    assert widget.origin_allowed("https://shop.example")
    assert not widget.origin_allowed("https://evil.example")


def test_debug_adds_localhost_on_any_port(settings):
    settings.DEBUG = True
    settings.WIDGET_ALLOWED_ORIGINS = []
    assert widget.origin_allowed("http://localhost:5173")
    assert widget.origin_allowed("http://127.0.0.1")
    assert not widget.origin_allowed("https://localhost.evil.example")
    assert not widget.origin_allowed("")
