"""The score of the last `make mutate` run, per module, and every surviving mutant.

Reads `mutmut results --all true` (run from the checkout, where mutants/ is) and keeps
the mutants the gate covers (MUTANTS: the same patterns `make mutate` passes to mutmut).
Killed counts timeouts and segfaults too (the test run did not pass). Survivors are
printed so they can be explained in docs/testing.md: an equivalent mutant (why), or the
test that now kills it.

    python -m tests.mutation_report            # score and survivors
    python -m tests.mutation_report --diff     # also `mutmut show` of each survivor
"""

from __future__ import annotations

import fnmatch
import os
import subprocess
import sys
from collections import Counter, defaultdict

# The core of issue 19's mutation gate, function by function: the domain services (storing,
# the last-message guard, clear/delete, events) and validation, keyset paging, upload
# sniffing and which URLs are ours, the OTP module, the Telegram sender's pacer and
# ordering rule, and the inbound reply lookup. (Newer functions of those modules, such as
# the desk life cycle and search, are not in the gate yet: they have no unit tests here.)
_SERVICES = (
    "_insert_message _store_message create_thread record_activity post_visitor_message post_admin_message"
    " link_telegram_message mark_seen clear_thread delete_threads clear_all"
).split()
_VALIDATION = (
    "require_mapping parse_thread_id _without_control_chars _visible_name_chars parse_display_name"
    " parse_client_id parse_text parse_message _number _pixels _duration_ms"
).split()
_SELECTORS = "recent_threads thread_messages thread_rows message_rows get_thread get_message".split()
MUTANTS = [
    *(f"chat.services.x_{name}__*" for name in _SERVICES),
    "chat.services.x*ThreadNotFound*",
    *(f"chat.validation.x_{name}__*" for name in _VALIDATION),
    *(f"chat.selectors.x_{name}__*" for name in _SELECTORS),
    "chat.attachments.files.x_sniff_*",
    "chat.attachments.files.x_check_content__*",
    "chat.attachments.files.x_is_own_upload_url__*",
    "accounts.otp.*",
    "telegram_bridge.sender.x*Pacer*",
    # The ordering rule: a failed (retrying) or claimed item holds back the later items of
    # its chat, and an item is claimed atomically.
    "telegram_bridge.sender.x*Sender*holds__*",
    "telegram_bridge.sender.x*Sender*claim__*",
    "telegram_bridge.inbound.x_find_thread__*",
]
NOT_PASSING = {"killed", "timeout", "segfault", "caught by type check"}


def module_of(name: str) -> str:
    head = name.split(".x", 1)[0] if ".x" in name else name.rsplit(".", 1)[0]
    return head


def results() -> dict[str, str]:
    mutmut = os.path.join(os.path.dirname(sys.executable), "mutmut")
    out = subprocess.run(
        [mutmut, "results", "--all", "true"], capture_output=True, text=True, check=True
    ).stdout
    found = {}
    for line in out.splitlines():
        name, sep, status = line.strip().rpartition(": ")
        if sep and any(fnmatch.fnmatch(name, pattern) for pattern in MUTANTS):
            found[name] = status
    return found


def main() -> int:
    found = results()
    if not found:
        print("no mutants of the gate's modules: run `make mutate` first")
        return 1
    by_module: dict[str, Counter] = defaultdict(Counter)
    for name, status in found.items():
        by_module[module_of(name)]["killed" if status in NOT_PASSING else status] += 1
    total = Counter()
    print(f"{'module':32} {'mutants':>8} {'killed':>8} {'survived':>9} {'other':>6} {'score':>7}")
    for module in sorted(by_module):
        counts = by_module[module]
        total.update(counts)
        n = sum(counts.values())
        other = n - counts["killed"] - counts["survived"]
        print(
            f"{module:32} {n:8} {counts['killed']:8} {counts['survived']:9} {other:6}"
            f" {counts['killed'] / n:7.1%}"
        )
    n = sum(total.values())
    print(
        f"{'all':32} {n:8} {total['killed']:8} {total['survived']:9} {n - total['killed'] - total['survived']:6}"
    )
    print(
        f"score: {total['killed']}/{n} = {total['killed'] / n:.1%} killed (before setting equivalents aside)"
    )
    survivors = sorted(name for name, status in found.items() if status not in NOT_PASSING)
    if survivors:
        print("\nnot killed:")
        for name in survivors:
            print(f"  {name}: {found[name]}")
            if "--diff" in sys.argv:
                mutmut = os.path.join(os.path.dirname(sys.executable), "mutmut")
                diff = subprocess.run([mutmut, "show", name], capture_output=True, text=True).stdout
                print("\n".join("      " + line for line in diff.splitlines() if line[:1] in "+-@"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
