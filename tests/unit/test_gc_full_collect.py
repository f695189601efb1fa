"""chatdesk/startup.py: GC_FULL_COLLECT_SECONDS runs full collections on a timer, so the
reference cycles closed sockets leave behind are freed even while Python's own rule (a
full collection only after the old generation grew by 25%) would keep them for minutes."""

from __future__ import annotations

import gc
import threading
import weakref

from chatdesk import startup


class Node:
    pass


def test_timed_full_collection_frees_a_reference_cycle():
    stop, freed = threading.Event(), threading.Event()
    gc.disable()  # only the timer may collect
    collector = threading.Thread(target=startup._collect_forever, args=(0.05, stop))
    try:
        node = Node()
        node.me = node
        weakref.finalize(node, freed.set)
        del node
        assert freed.is_set() is False  # a cycle: no reference count reaches zero
        collector.start()
        assert freed.wait(10) is True
    finally:
        stop.set()
        if collector.is_alive():
            collector.join()
        gc.enable()
