"""Bulk-load threads and messages straight into the database (not through the API).

PostgreSQL gets COPY (a million rows in seconds); SQLite gets executemany in one
transaction. Rows look like what chat.services writes, including the denormalised
last-message columns of each thread, so the API sees a realistic desk.

    python bench/seed.py DATABASE_URL --threads 100000 --messages 1000000 --big 100000

prints the id of the "big" thread (the one with `--big` messages) on stdout.
"""

from __future__ import annotations

import argparse
import random
import sqlite3
import uuid
from datetime import UTC, datetime, timedelta
from urllib.parse import urlparse

START = datetime(2024, 1, 1, tzinfo=UTC)


def _plan(threads: int, messages: int, big: int) -> tuple[list[uuid.UUID], list[int]]:
    """Thread ids, and how many messages each gets: the first `big`, the rest spread out."""
    rng = random.Random(7)
    thread_ids = [uuid.UUID(int=rng.getrandbits(128), version=4) for _ in range(threads)]
    counts = [0] * threads
    counts[0] = big
    for _ in range(max(messages - big, 0)):
        counts[rng.randrange(1, threads) if threads > 1 else 0] += 1
    return thread_ids, counts


def _thread_messages(i: int, tid: uuid.UUID, count: int):
    """The messages of thread i, oldest first; the same every time it is called."""
    rng = random.Random(i)
    t = START + timedelta(seconds=i * 10)
    for n in range(count):
        t = t + timedelta(milliseconds=rng.randrange(1, 5000))
        sender = "visitor" if n % 2 == 0 else "admin"
        yield (
            uuid.UUID(int=rng.getrandbits(128), version=4),
            tid,
            sender,
            "text",
            f"message {n} of thread {i}",
            None,
            t,
            None,
            f"message {n} of thread {i}",  # search_text: the folded copy (lower case already)
        )


def _thread_rows(thread_ids, counts):
    for i, tid in enumerate(thread_ids):
        created = START + timedelta(seconds=i * 10)
        last = None
        for last in _thread_messages(i, tid, counts[i]):  # noqa: B007 (we want the last one)
            pass
        # search_name, status, state_version, generation, email, email_language, page_url,
        # visitor_context: what a thread opened by a visitor without context has.
        rest = (f"visitor {i}", "open", 0, 0, "", "", "", "{}")
        if last:
            text, at = last[4], last[6]
            yield (tid, f"Visitor {i}", created, at, text, "text", at, True, at, *rest)
        else:
            yield (tid, f"Visitor {i}", created, created, None, None, None, False, created, *rest)


def _message_rows(thread_ids, counts):
    for i, tid in enumerate(thread_ids):
        yield from _thread_messages(i, tid, counts[i])


THREAD_COLS = (
    "id",
    "display_name",
    "created_at",
    "last_activity_at",
    "last_message_text",
    "last_message_type",
    "last_message_at",
    "has_messages",
    "sorted_at",
    "search_name",
    "status",
    "state_version",
    "generation",
    "email",
    "email_language",
    "page_url",
    "visitor_context",
)
MESSAGE_COLS = (
    "id",
    "thread_id",
    "sender",
    "type",
    "content_text",
    "file_path",
    "created_at",
    "client_id",
    "search_text",
)


def _copy(cur, table: str, cols: tuple[str, ...], rows: list[tuple]) -> None:
    with cur.copy(f"COPY {table} ({', '.join(cols)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def seed_postgres(url: str, threads: int, messages: int, big: int) -> uuid.UUID:
    import psycopg

    thread_ids, counts = _plan(threads, messages, big)
    with psycopg.connect(url) as conn, conn.cursor() as cur:
        _copy(cur, "threads", THREAD_COLS, _thread_rows(thread_ids, counts))
        _copy(cur, "messages", MESSAGE_COLS, _message_rows(thread_ids, counts))
        conn.commit()
        conn.autocommit = True
        # Vacuumed here, as a live database is by autovacuum: otherwise autovacuum takes
        # a million new rows on in the background, and the columns measured next share
        # the machine's two cores with it.
        cur.execute("VACUUM (ANALYZE) threads")
        cur.execute("VACUUM (ANALYZE) messages")
    return thread_ids[0]


def seed_sqlite(path: str, threads: int, messages: int, big: int) -> uuid.UUID:
    thread_ids, counts = _plan(threads, messages, big)

    def fix(rows):
        # Django stores UUIDs as 32 hex digits and datetimes as ISO text on SQLite.
        for row in rows:
            yield tuple(
                v.hex
                if isinstance(v, uuid.UUID)
                else v.strftime("%Y-%m-%d %H:%M:%S.%f")
                if isinstance(v, datetime)
                else v
                for v in row
            )

    conn = sqlite3.connect(path)
    with conn:
        conn.executemany(
            f"INSERT INTO threads ({', '.join(THREAD_COLS)}) VALUES ({', '.join('?' * len(THREAD_COLS))})",
            fix(_thread_rows(thread_ids, counts)),
        )
        conn.executemany(
            f"INSERT INTO messages ({', '.join(MESSAGE_COLS)}) VALUES ({', '.join('?' * len(MESSAGE_COLS))})",
            fix(_message_rows(thread_ids, counts)),
        )
    conn.execute("ANALYZE")
    conn.close()
    return thread_ids[0]


def seed(database_url: str, threads: int, messages: int, big: int) -> uuid.UUID:
    parsed = urlparse(database_url)
    if parsed.scheme.startswith("postgres"):
        return seed_postgres(database_url, threads, messages, big)
    if parsed.scheme == "sqlite":
        return seed_sqlite(database_url[len("sqlite:///") :], threads, messages, big)
    raise SystemExit(f"unsupported database: {database_url}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("database_url")
    parser.add_argument("--threads", type=int, default=100_000)
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--big", type=int, default=100_000)
    args = parser.parse_args()
    print(seed(args.database_url, args.threads, args.messages, args.big))


if __name__ == "__main__":
    main()
