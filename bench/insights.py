"""Insights' queries (chat/insights.py) at 100,000 threads, on SQLite and PostgreSQL.

    python bench/insights.py                     # both databases, 100,000 threads
    python bench/insights.py --threads 20000 --only sqlite

Seeds a fresh database (a temporary SQLite file; a temporary PostgreSQL database
`chatdesk_insights_*`, dropped at the end) with threads spread over the past year: about
80% answered, 60% resolved, 70% assigned to one of 8 agents; then
rebuilds the insights roll-ups (chat/rollups.py), and times `insights.summary()` (every
query of the page) over the last 30 days and the last 365 days (every thread), after 2
warm-ups, and prints p50 / max of 10 runs per range; and the same for
`insights.exact_summary()` (no roll-ups: the baseline), checking both answer the same.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
PG_ADMIN_URL = os.getenv("CHATDESK_BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")


def seed(threads: int) -> None:
    from accounts.models import Agent
    from chat.models import Thread

    rng = random.Random(13)
    # Threads started over the past year: created_at is set here, not to "now" on insert.
    Thread._meta.get_field("created_at").auto_now_add = False
    agents = [Agent.objects.create(name=f"Agent {n}") for n in range(8)]
    now = datetime.now(UTC)
    batch_threads = []

    def flush() -> None:
        Thread.objects.bulk_create(batch_threads)
        batch_threads.clear()

    for _ in range(threads):
        created = now - timedelta(seconds=rng.uniform(0, 365 * 86400))
        answered = rng.random() < 0.8
        resolved = answered and rng.random() < 0.75
        agent = rng.choice(agents) if rng.random() < 0.7 else None
        first = created + timedelta(seconds=rng.expovariate(1 / 300)) if answered else None
        thread = Thread(
            id=uuid.uuid4(),
            display_name="Visitor",
            created_at=created,
            sorted_at=created,
            status=Thread.Status.RESOLVED if resolved else Thread.Status.OPEN,
            assignee=agent,
            first_response_at=first,
            resolved_at=first + timedelta(seconds=rng.expovariate(1 / 3600)) if resolved else None,
        )
        batch_threads.append(thread)
        if len(batch_threads) >= 5000:
            flush()
    flush()


def timed(runs: int = 10) -> dict[str, dict[str, float]]:
    """p50 / max of `summary` (roll-ups) and, as the baseline, `exact_summary` (the same
    answer from the threads table alone), per range."""
    from chat import insights

    today = insights.parse_range(None, None).last
    results = {}
    for days in (30, 365):
        span = insights.Range(today - timedelta(days=days - 1), today)
        for label, compute in (("", insights.summary), (" exact", insights.exact_summary)):
            for _ in range(2):
                compute(span)
            samples = []
            for _ in range(runs):
                start = time.perf_counter()
                compute(span)
                samples.append((time.perf_counter() - start) * 1000)
            results[f"{days} days{label}"] = {"p50_ms": statistics.median(samples), "max_ms": max(samples)}
        assert _rounded(insights.summary(span)) == _rounded(insights.exact_summary(span)), days
    return results


def _rounded(answer: dict) -> dict:
    """Percentiles to the millisecond (SQLite's own precision); everything else as is."""
    for key in ("first_response", "resolution"):
        answer[key] = {k: round(v, 3) if isinstance(v, float) else v for k, v in answer[key].items()}
    return answer


def run(database_url: str, threads: int) -> dict:
    os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("DJANGO_DEBUG", "1")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chatdesk.settings")
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)
    from chat import rollups

    start = time.perf_counter()
    seed(threads)
    seeded = time.perf_counter() - start
    start = time.perf_counter()
    rollups.rebuild()  # the seed wrote threads directly (bulk), not through the services
    rebuilt = time.perf_counter() - start
    from django.db import connection

    if connection.vendor == "postgresql":  # what autovacuum does to a live table: statistics, visibility
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE threads")
            cursor.execute("VACUUM ANALYZE insights_counts")
    return {"seed_seconds": round(seeded, 1), "rebuild_seconds": round(rebuilt, 1), **timed()}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--threads", type=int, default=100_000)
    parser.add_argument("--only", choices=("sqlite", "pg"), help="one database only")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:  # one database per process: Django is set up once per process
        import json

        print(json.dumps(run(args.child, args.threads)))
        return
    import json
    import subprocess

    wanted = [args.only] if args.only else ["sqlite", "pg"]
    for name in wanted:
        cleanup = None
        if name == "sqlite":
            folder = tempfile.mkdtemp(prefix="chatdesk-insights-")
            url = f"sqlite:///{folder}/bench.sqlite3"
        else:
            import psycopg

            db = f"chatdesk_insights_{os.getpid()}"
            with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
                conn.execute(f"CREATE DATABASE {db}")
            url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{db}"

            def cleanup(db=db):
                with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
                    conn.execute(f"DROP DATABASE IF EXISTS {db} WITH (FORCE)")

        try:
            out = subprocess.run(
                [sys.executable, __file__, "--threads", str(args.threads), "--child", url],
                check=True,
                capture_output=True,
                text=True,
            ).stdout
            result = json.loads(out.strip().splitlines()[-1])
        finally:
            if cleanup:
                cleanup()
        rows = ", ".join(
            f"{span}: p50 {r['p50_ms']:.1f} ms, max {r['max_ms']:.1f} ms"
            for span, r in result.items()
            if span not in ("seed_seconds", "rebuild_seconds")
        )
        print(
            f"{name}: {args.threads} threads (seeded in {result['seed_seconds']} s, roll-ups rebuilt in "
            f"{result['rebuild_seconds']} s) — {rows}",
            flush=True,
        )


if __name__ == "__main__":
    main()
