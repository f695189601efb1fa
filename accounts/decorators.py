"""Guards for admin-only views."""

from __future__ import annotations

import functools
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

from chatdesk.http import json_error


def is_admin(request: HttpRequest) -> bool:
    return request.session.get("admin") is True


def admin_required_json(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """API views: 401 JSON without an admin session, never data."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not is_admin(request):
            return json_error("Admin sign-in required.", status=401)
        return view(request, *args, **kwargs)

    return wrapper


def admin_required_page(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Pages: send a visitor without an admin session to the sign-in page."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not is_admin(request):
            return redirect("/login")
        return view(request, *args, **kwargs)

    return wrapper
