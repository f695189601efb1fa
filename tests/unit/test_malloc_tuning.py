"""chatdesk/malloc_tuning.py: after a timed full collection the server hands the free
pages between live chunks back to the system (the soak's RSS grew in a straight line
while the memory in use stayed flat, bench/README.md)."""

from __future__ import annotations

import sys

import pytest

from chatdesk import malloc_tuning

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux") or malloc_tuning._glibc() is None, reason="glibc only"
)


def resident_kb() -> int:
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmRSS:"))


def test_trim_returns_the_free_pages_a_fragmented_heap_keeps():
    # 1 KB chunks come from malloc (Python's own allocator takes only up to 512 bytes);
    # keeping one in 64 pins every page, so freeing the rest shrinks nothing by itself.
    chunks = [bytes(1024) for _ in range(64_000)]
    kept = chunks[::64]
    del chunks
    held = resident_kb()
    assert malloc_tuning.heap_stats()["free"] > 40_000_000  # freed, and still malloc's
    assert malloc_tuning.trim() is True
    assert resident_kb() < held - 20_000  # of ~64 MB freed, well over 20 MB given back
    assert len(kept) == 1000


def test_arena_limit_takes_effect_and_zero_leaves_glibc_alone():
    assert malloc_tuning.limit_arenas(0) is False
    assert malloc_tuning.limit_arenas(2) is True
