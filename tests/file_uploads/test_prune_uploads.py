"""manage.py prune_uploads: orphaned files go, files in messages and fresh uploads stay."""

from __future__ import annotations

import os
import time

from tests.file_uploads import samples
from tests.support.clients import Browserish, visitor


def upload(http: Browserish, kind: str, data: bytes) -> str:
    answer = http.post(f"/api/upload/{kind}", files={"file": ("f.bin", data)})
    assert answer.status_code == 200, answer.text
    return answer.json()["url"]


async def test_prune_removes_only_old_orphans(make_server):
    live = make_server()
    http = Browserish(live.url)
    orphan_image = upload(http, "image", samples.png())
    in_message = upload(http, "image", samples.jpeg())
    orphan_audio = upload(http, "audio", samples.webm())
    fresh_orphan = upload(http, "audio", samples.ogg())
    client, thread_id = await visitor(live.url)
    ack = await client.call(
        "message_to_admin", {"thread_id": thread_id, "type": "image", "file_url": in_message}
    )
    assert ack["ok"], ack
    await client.close()

    root = live.workdir / "uploads"
    stray = root / "images" / ".keep"
    stray.write_text("not ours")
    day_ago = time.time() - 25 * 3600
    for url in (orphan_image, in_message, orphan_audio):
        os.utime(root / url.removeprefix("/uploads/"), (day_ago, day_ago))
    os.utime(stray, (day_ago, day_ago))
    names = {
        url: url.removeprefix("/uploads/") for url in (orphan_image, in_message, orphan_audio, fresh_orphan)
    }

    dry = live.manage("prune_uploads", "--dry-run")
    assert dry.returncode == 0, dry.stderr
    lines = dry.stdout.splitlines()
    assert sorted(line for line in lines if line.startswith("would delete")) == sorted(
        [f"would delete {names[orphan_image]}", f"would delete {names[orphan_audio]}"]
    )
    assert (
        "2 orphaned file(s) would be deleted, 1 in use, 1 younger than 0.5 hour(s) kept, 0 failed." in lines
    )
    assert "Dry run: nothing was changed." in lines
    for url in names:
        assert http.get(url).status_code == 200

    run = live.manage("prune_uploads", "--older-than", "1")
    assert run.returncode == 0, run.stderr
    assert sorted(line for line in run.stdout.splitlines() if line.startswith("delete")) == sorted(
        [f"delete {names[orphan_image]}", f"delete {names[orphan_audio]}"]
    )
    assert http.get(orphan_image).status_code == 404
    assert http.get(orphan_audio).status_code == 404
    assert http.get(in_message).status_code == 200
    assert http.get(fresh_orphan).status_code == 200
    assert stray.exists()

    again = live.manage("prune_uploads", "--older-than", "1")
    assert again.returncode == 0
    assert "0 orphaned file(s) deleted, 1 in use, 1 younger than 1 hour(s) kept, 0 failed." in again.stdout


def test_by_default_an_upload_never_sent_is_gone_within_the_hour(make_server):
    live = make_server()
    http = Browserish(live.url)
    forgotten = upload(http, "image", samples.png())
    just_now = upload(http, "audio", samples.ogg())
    root = live.workdir / "uploads"
    thirty_five_minutes_ago = time.time() - 35 * 60
    os.utime(root / forgotten.removeprefix("/uploads/"), (thirty_five_minutes_ago, thirty_five_minutes_ago))
    run = live.manage("prune_uploads")
    assert [line for line in run.stdout.splitlines() if line.startswith("delete")] == [
        f"delete {forgotten.removeprefix('/uploads/')}"
    ]
    assert http.get(forgotten).status_code == 404
    assert http.get(just_now).status_code == 200


def test_prune_refuses_a_negative_age(server):
    result = server.manage("prune_uploads", "--older-than", "-1", check=False)
    assert result.returncode == 2
    assert "--older-than" in result.stderr
    assert "orphaned" not in result.stdout


def test_prune_help_explains_itself(server):
    result = server.manage("prune_uploads", "--help")
    assert "--dry-run" in result.stdout and "--older-than" in result.stdout and "Exit codes" in result.stdout
