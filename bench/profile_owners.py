"""Whose code a server process's CPU went to, from the profiles `BENCH_PROFILE_PHASE` records.

    python bench/profile_owners.py DIR [--cpu NAME=MS ...]

Each py-spy raw profile in DIR (one per server process, `<setup>-<port>-fixed.txt`) is
split by the package of each sample's innermost frame (OWNERS): the socket stack the relay
runs as well (daphne, twisted, autobahn, engine.io, socket.io), asyncio and threads, json,
the database layer (Django's ORM and backends, psycopg, sqlite3) and chatdesk's own modules. With `--cpu
sqlite=0.62` (the setup's CPU per message from the same run) each share is also given in
milliseconds a message, so two setups compare in the same unit. Record with
BENCH_PROFILE_GIL=1: without it py-spy also counts the database threads that are only
waiting for work (their wait is a Python frame), which swamps the rest; with it each
sample is the Python the process ran, which is where its CPU goes (what the C parts of a
library do under the GIL counts to the library; the kernel's part is not sampled).
"""

from __future__ import annotations

import argparse
import collections
import re
from pathlib import Path

# Checked in order: the first fragment found in a frame's file names its owner.
OWNERS = (
    ("chatdesk", ("/chat/", "/chatdesk/", "/telegram_bridge/", "/accounts/", "/notifications/")),
    ("relay script", ("/bench/relay.py",)),
    ("database: psycopg", ("/psycopg/", "/psycopg_pool/")),
    ("database: sqlite3", ("/sqlite3/",)),
    ("database: Django", ("/django/db/", "/django/dispatch/")),
    ("Django, other", ("/django/", "/asgiref/")),
    (
        "socket stack",
        ("/daphne/", "/twisted/", "/autobahn/", "/txaio/", "/engineio/", "/socketio/", "/wsproto/"),
    ),
    ("asyncio and threads", ("/asyncio/", "/concurrent/", "/threading.py", "/selectors.py", "/queue.py")),
    ("json", ("/json/",)),
)
_FILE = re.compile(r"\(([^()]*?):\d+\)$")


def owner(frame: str) -> str:
    """Who owns `frame` (`function (path:line)`): see OWNERS; the rest is "other"."""
    found = _FILE.search(frame)
    path = "/" + found.group(1).lstrip("/") if found else frame
    for name, fragments in OWNERS:
        if any(fragment in path for fragment in fragments):
            return name
    return "other (stdlib, py-spy's idle frames)"


def shares(profile: Path) -> tuple[int, collections.Counter]:
    """The samples of one raw profile, and how many each owner's innermost frame took."""
    total, by_owner = 0, collections.Counter()
    for line in profile.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        total += int(count)
        by_owner[owner(stack.split(";")[-1])] += int(count)
    return total, by_owner


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("directory", type=Path)
    parser.add_argument("--cpu", action="append", default=[], help="SETUP=MS: CPU per message of that setup")
    args = parser.parse_args(argv)
    cpu = {name: float(ms) for name, _, ms in (item.partition("=") for item in args.cpu)}
    setups: dict[str, list[Path]] = collections.defaultdict(list)
    for profile in sorted(args.directory.glob("*-fixed.txt")):
        setups[profile.name.rsplit("-", 2)[0]].append(profile)
    for setup, profiles in setups.items():
        total, by_owner = 0, collections.Counter()
        for profile in profiles:
            samples, owners = shares(profile)
            total += samples
            by_owner.update(owners)
        print(f"\n{setup}: {total} samples in {len(profiles)} process(es)")
        for name, samples in by_owner.most_common():
            ms = f"  {cpu[setup] * samples / total:.3f} ms/message" if setup in cpu else ""
            print(f"  {100 * samples / max(total, 1):5.1f}%  {name}{ms}")


if __name__ == "__main__":
    main()
