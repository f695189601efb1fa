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
# the desk life cycle, the group commit and search, are not in the gate yet: their unit
# tests are not in the gate's selection; see docs/testing.md, "Last run".)
_SERVICES = (
    "_insert_message _update_thread _message_row _mark_stored _store_message create_thread record_activity post_visitor_message post_admin_message"
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

# Survivors that change no behaviour, each with the reason (docs/testing.md, "Last run").
# They are set aside from the score. Mutmut numbers the mutants of a function in order, so
# a name here is only right while its function is unchanged: one that is killed now, or
# gone, is printed for a fresh look.
_FLAT_PK = 'values_list(flat=True) without fields gives the first field, the primary key, as values_list("id", flat=True)'
_LAZY_AGENT = "select_related(None): the agent is read when used instead of in the same query (one query more, same values)"
_HEADROOM = "GROUP_HEADROOM's default for a priority it lacks: every OutboxItem.Priority has an entry"
EQUIVALENT: dict[str, str] = {
    "chat.services.x_clear_all__mutmut_6": _FLAT_PK,
    "chat.services.x_delete_threads__mutmut_8": _FLAT_PK,
    "chat.services.x__store_message__mutmut_50": _LAZY_AGENT,
    "chat.selectors.x_recent_threads__mutmut_25": "len(page) <= limit: a full page asks the second query for"
    " [:0], no rows: the same answer",
    "chat.services.x__mark_stored__mutmut_1": "_state.adding = None: falsy like False, save() treats the instance as stored",
    "chat.services.x__mark_stored__mutmut_3": "_state.db = None: save() and related lookups then route to the one database, the same alias",
    "chat.services.x__update_thread__mutmut_36": "rowcount == 2: the fast path never counts as done, and the slow"
    " path stores the same message with the same thread update (the UPDATE ran either way)",
    "chat.selectors.x_thread_messages__mutmut_26": '"-thread_id" dropped from the ORDER BY: the query is of one'
    " thread; the column only steers PostgreSQL's plan",
    "chat.selectors.x_thread_messages__mutmut_28": '"-id" dropped from the ORDER BY: SQLite walks'
    " message_thread_time_id_idx backwards, ties in created_at come out by id anyway (only PostgreSQL could tell)",
    "chat.validation.x__without_control_chars__mutmut_10": 'ch in "XX\\n\\tXX": the characters kept are still newline'
    " and tab (X is not a control character)",
    "chat.validation.x_parse_text__mutmut_6": "... and required: blank optional text still ends as None (return text"
    " or None), blank required text as field_required (the check after stripping)",
    "chat.validation.x_parse_message__mutmut_73": "parse_text(..., None): None is falsy like False",
    "chat.attachments.files.x_is_own_upload_url__mutmut_41": 'rsplit(".") for rsplit(".", 1): the last piece is the same',
    "chat.attachments.files.x_is_own_upload_url__mutmut_44": 'rsplit(".", 2) for rsplit(".", 1): the last piece is the same',
    "accounts.otp.x_issue_operator_code__mutmut_7": "owner=None dropped: the field's default is None",
    "accounts.otp.x__new_ref__mutmut_2": "token_urlsafe(17) for 16: 23 characters instead of 22, still unique and"
    " within the column's 32",
    "accounts.otp.x_owner_of__mutmut_2": "_digest(key, None): any fixed purpose gives a consistent keyed hash"
    ' that differs from a code\'s ("otp"); nothing depends on the exact string',
    "accounts.otp.x_owner_of__mutmut_5": "the purpose string changed: as above",
    "accounts.otp.x_owner_of__mutmut_6": "the purpose string upper-cased: as above",
    "accounts.otp.x_pending_code__mutmut_3": _LAZY_AGENT,
    "accounts.otp.x_take_approval__mutmut_9": _LAZY_AGENT + " (the agent row stays when the code is deleted)",
    "telegram_bridge.sender.xǁSenderǁholds__mutmut_23": "claimed_at__isnull=False dropped: claimed_at__gte never matches NULL in SQL",
    "telegram_bridge.sender.xǁPacerǁwait_for__mutmut_26": _HEADROOM,
    "telegram_bridge.sender.xǁPacerǁwait_for__mutmut_28": _HEADROOM,
    "telegram_bridge.sender.xǁPacerǁwait_for__mutmut_29": _HEADROOM,
}


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
        if status in NOT_PASSING:
            status = "killed"
        elif status == "survived" and name in EQUIVALENT:
            status = "equivalent"
        by_module[module_of(name)][status] += 1
    header = ("module", "mutants", "run", "killed", "survived", "equiv", "score")
    print(f"{header[0]:26}" + "".join(f"{h:>9}" for h in header[1:]))
    total = Counter()
    for module in [*sorted(by_module), "all"]:
        counts = total if module == "all" else by_module[module]
        if module != "all":
            total.update(counts)
        run = counts["killed"] + counts["survived"] + counts["equivalent"]
        judged = counts["killed"] + counts["survived"]  # the non-equivalent mutants run
        score = f"{counts['killed'] / judged:.1%}" if judged else "-"
        print(
            f"{module:26}{sum(counts.values()):9}{run:9}{counts['killed']:9}{counts['survived']:9}"
            f"{counts['equivalent']:9}{score:>9}"
        )
    others = sorted(
        {status for counts in by_module.values() for status in counts} - {"killed", "survived", "equivalent"}
    )
    for status in others:
        print(f"not run ({status}): {total[status]}")
    judged = total["killed"] + total["survived"]
    print(
        f"score: {total['killed']}/{judged} = {total['killed'] / max(judged, 1):.1%} of the non-equivalent mutants run killed"
    )

    mutmut = os.path.join(os.path.dirname(sys.executable), "mutmut")
    survivors = sorted(
        name for name, status in found.items() if status == "survived" and name not in EQUIVALENT
    )
    if survivors:
        print("\nsurvived (not listed as equivalent):")
        for name in survivors:
            print(f"  {name}")
            if "--diff" in sys.argv:
                diff = subprocess.run([mutmut, "show", name], capture_output=True, text=True).stdout
                print("\n".join("      " + line for line in diff.splitlines() if line[:1] in "+-@"))
    stale = sorted(name for name in EQUIVALENT if found.get(name) != "survived")
    if stale:
        print("\nlisted as equivalent but not a survivor now (the function changed? look again):")
        for name in stale:
            print(f"  {name}: {found.get(name, 'no such mutant')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
