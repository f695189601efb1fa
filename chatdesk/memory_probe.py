"""Where a server process's memory goes: an opt-in probe for soaks (issue 16).

With CHATDESK_TRACEMALLOC=1 a server process traces its allocations and, every
CHATDESK_TRACEMALLOC_SECONDS (default 60) and on SIGUSR2 (tracing from
CHATDESK_TRACEMALLOC_DELAY seconds after start-up, default 0), writes to stderr the lines
whose allocations grew most since the previous report and since start-up, with the
call chain of the largest, plus the object types whose counts grew (gc.get_objects).
Off by default: tracing slows every allocation (at 1,000 visitors on 2 shared cores
the servers fell behind). CHATDESK_OBJECT_COUNTS=1 is the cheap form: only the object
type counts, no tracing (one gc.get_objects() walk per report).
"""

from __future__ import annotations

import gc
import os
import signal
import sys
import threading
import time
import tracemalloc
from collections import Counter

from . import malloc_tuning

FRAMES = 8
TOP = 15


def _malloc_line() -> str:
    """RSS that grows while "in use" stays flat is memory malloc keeps after it was freed
    (fragmented heaps, one arena per thread), not objects the process holds."""
    stats = malloc_tuning.heap_stats()
    if stats is None:
        return "-- malloc: mallinfo2 not available"
    return (
        f"-- malloc: in use {stats['in_use'] / 1e6:.1f} MB, free in heaps {stats['free'] / 1e6:.1f} MB, "
        f"mmapped {stats['mmapped'] / 1e6:.1f} MB; python blocks {sys.getallocatedblocks()}"
    )


def _type_counts() -> Counter:
    return Counter(type(o).__qualname__ for o in gc.get_objects())


def _describe(obj) -> str:
    text = type(obj).__qualname__
    if isinstance(obj, dict):
        text += f"(len {len(obj)}, keys {[str(k)[:30] for k in list(obj)[:4]]})"
    elif isinstance(obj, list | tuple | set | frozenset):
        text += f"(len {len(obj)})"
    return text


def _referrer_chains(name: str, samples: int = 2, depth: int = 4) -> list[str]:
    """What keeps the oldest objects of type `name` alive: for a few of them, the types of
    their referrers, `depth` levels up (CHATDESK_PROBE_REFERRERS=Headers,IPv4Address)."""
    # gc.get_objects() lists the youngest generation first: the last are the oldest.
    found = [o for o in gc.get_objects() if type(o).__qualname__ == name][-samples:]
    out = [f"-- referrers of the oldest {name} objects"]
    for obj in found:
        level, line = [obj], []
        for _ in range(depth):
            referrers = [r for r in gc.get_referrers(*level) if r is not found and r is not level]
            if not referrers:
                break
            line.append(" | ".join(sorted({_describe(r) for r in referrers})[:4]))
            level = referrers[:3]
        out.append("  " + "  <-  ".join(line))
    return out


class Probe:
    def __init__(self, tracing: bool = True) -> None:
        self.tracing = tracing
        self.first = tracemalloc.take_snapshot() if tracing else None
        self.previous = self.first
        self.first_types = _type_counts()
        self.previous_types = self.first_types
        self.lock = threading.Lock()
        self.number = 0

    def report(self) -> None:
        with self.lock:
            self.number += 1
            types = _type_counts()
            out = [
                f"== memory probe #{self.number} pid {os.getpid()}: {sum(types.values())} objects",
                _malloc_line(),
            ]
            if self.tracing:
                out.extend(self._traced())
            out.append("-- object counts grown since start (gc)")
            grown = Counter({k: types[k] - self.first_types.get(k, 0) for k in types})
            for name, diff in grown.most_common(TOP):
                since_last = types[name] - self.previous_types.get(name, 0)
                out.append(f"  {name}: {diff:+d} (now {types[name]}, {since_last:+d} since last)")
            for name in os.environ.get("CHATDESK_PROBE_REFERRERS", "").split(","):
                if name:
                    out.extend(_referrer_chains(name.strip()))
            if os.environ.get("CHATDESK_PROBE_COLLECT", "") in ("1", "true", "yes"):
                # How much of the growth was cyclic garbage a full collection frees.
                unreachable = gc.collect()
                after = _type_counts()
                freed = Counter({k: types[k] - after.get(k, 0) for k in types})
                out.append(f"-- a full collection freed {unreachable} unreachable objects; by type:")
                out.extend(f"  {name}: -{n} (now {after.get(name, 0)})" for name, n in freed.most_common(TOP))
                types = after
            self.previous_types = types
            print("\n".join(out), file=sys.stderr, flush=True)

    def _traced(self) -> list[str]:
        snapshot = tracemalloc.take_snapshot().filter_traces(
            [tracemalloc.Filter(False, tracemalloc.__file__)]
        )
        current, _ = tracemalloc.get_traced_memory()
        out = [f"-- traced {current / 1e6:.1f} MB"]
        for title, base in (("since last", self.previous), ("since start", self.first)):
            out.append(f"-- top growth {title} (by line)")
            out.extend(f"  {stat}" for stat in snapshot.compare_to(base, "lineno")[:TOP])
        out.append("-- largest growth since start, by call chain")
        for stat in snapshot.compare_to(self.first, "traceback")[:3]:
            out.append(f"  {stat.size_diff / 1e3:+.0f} kB, {stat.count_diff:+d} blocks")
            out.extend(f"    {line}" for line in stat.traceback.format()[-2 * FRAMES :])
        self.previous = snapshot
        return out


def start_if_asked() -> None:
    """Start the probe when CHATDESK_TRACEMALLOC=1 or CHATDESK_OBJECT_COUNTS=1 (called
    once by a server process)."""
    tracing = os.environ.get("CHATDESK_TRACEMALLOC", "") in ("1", "true", "yes")
    if not tracing and os.environ.get("CHATDESK_OBJECT_COUNTS", "") not in ("1", "true", "yes"):
        return
    seconds = float(os.environ.get("CHATDESK_TRACEMALLOC_SECONDS", "60"))
    delay = float(os.environ.get("CHATDESK_TRACEMALLOC_DELAY", "0"))
    asked = threading.Event()
    signal.signal(signal.SIGUSR2, lambda *_: asked.set())

    def loop() -> None:
        # Tracing slows every allocation: a delay lets a soak's visitors connect first.
        time.sleep(delay)
        if tracing:
            tracemalloc.start(FRAMES)
        probe = Probe(tracing)
        asked.clear()
        while True:
            asked.wait(seconds)
            asked.clear()
            probe.report()

    threading.Thread(target=loop, name="memory-probe", daemon=True).start()
