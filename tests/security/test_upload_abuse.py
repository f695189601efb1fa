"""Anonymous uploads cannot fill the disk: a daily budget per client address, and a
free-space floor below which nothing more is stored (issue 18, low)."""

from __future__ import annotations

import io
import math
import random
import time

from PIL import Image

from tests.support.addresses import http_from


def noisy_png(seed: int) -> bytes:
    """A picture that compresses badly (about 120 kB), so a few of them make a budget."""
    rng = random.Random(seed)
    image = Image.frombytes("RGB", (200, 200), bytes(rng.getrandbits(8) for _ in range(200 * 200 * 3)))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def upload(http, data: bytes):
    return http.post("/api/upload/image", files={"file": ("p.png", data, "image/png")})


def stored_files(live) -> list[str]:
    folder = live.workdir / "uploads" / "images"
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def test_each_address_has_a_daily_upload_budget(make_server):
    pictures = [noisy_png(seed) for seed in range(4)]
    kilobytes = [math.ceil(len(p) / 1024) for p in pictures]
    budget = (kilobytes[0] + kilobytes[1] + kilobytes[2] // 2) * 1024  # two and a half pictures
    live = make_server(env={"UPLOAD_BYTES_PER_DAY_PER_IP": str(budget)})
    into_day = time.time() % (24 * 3600)
    if into_day > 24 * 3600 - 60:  # the budget counts in fixed (UTC) days: start well inside one
        time.sleep(24 * 3600 - into_day + 0.1)
    heavy = http_from(live.url, "127.0.0.2")
    answers = [upload(heavy, p) for p in pictures[:3]]
    assert [a.status_code for a in answers] == [200, 200, 429]
    refused = answers[2].json()
    assert refused == {
        "success": False,
        "error": refused["error"],
        "code": "upload_quota",
        "retry_after": refused["retry_after"],
    }
    assert 1 <= refused["retry_after"] <= 24 * 3600 + 1
    assert answers[2].headers["Retry-After"] == str(refused["retry_after"])
    assert len(stored_files(live)) == 2
    # Another address has its own budget.
    assert upload(http_from(live.url, "127.0.0.3"), pictures[3]).status_code == 200
    assert len(stored_files(live)) == 3


def test_uploads_are_refused_below_the_free_space_floor(make_server):
    live = make_server(env={"UPLOAD_MIN_FREE_BYTES": str(1 << 60)})  # more than any disk has
    answer = upload(http_from(live.url, "127.0.0.2"), noisy_png(9))
    assert answer.status_code == 507
    assert answer.json() == {"success": False, "error": answer.json()["error"], "code": "storage_full"}
    assert stored_files(live) == []
