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

# The core of issue 19's mutation gate: the domain services and validation, keyset paging,
# upload sniffing and which URLs are ours, the OTP module, the Telegram sender's pacer and
# ordering, and the inbound reply lookup.
MUTANTS = [
    "chat.services.*",
    "chat.validation.*",
    "chat.selectors.*",
    "chat.uploads.files.x_sniff_*",
    "chat.uploads.files.x_check_content*",
    "chat.uploads.files.x_is_own_upload_url*",
    "accounts.otp.*",
    "telegram_bridge.sender.x*Pacer*",
    "telegram_bridge.sender.x*Sender*step__*",
    "telegram_bridge.sender.x*Sender*choose__*",
    "telegram_bridge.sender.x*Sender*holds__*",
    "telegram_bridge.sender.x*Sender*lanes__*",
    "telegram_bridge.sender.x*Sender*claim__*",
    "telegram_bridge.inbound.x_find_thread*",
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
