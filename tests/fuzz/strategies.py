"""Hypothesis strategies: arbitrary JSON, and payloads that look almost like ours."""

from __future__ import annotations

import uuid

from hypothesis import strategies as st

leaves = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=40)
    | st.sampled_from(
        [
            "",
            " ",
            "\x00",
            "null",
            "{}",
            "../../etc/passwd",
            "<script>alert(1)</script>",
            "' OR 1=1 --",
            "\u202e",
            "🙂" * 3,
            "x" * 5000,
        ]
    )
)
any_json = st.recursive(
    leaves,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=12,
)


def thread_ids(*known: str) -> st.SearchStrategy:
    """Ids that exist (ours, someone else's), ids that don't, and things shaped like ids."""
    return st.one_of(
        st.sampled_from(list(known)),
        st.sampled_from([k.upper() for k in known] + ["{" + k + "}" for k in known]),
        st.builds(lambda: str(uuid.uuid4())),
        st.uuids().map(str),
        st.uuids().map(lambda u: u.hex),
        any_json,
    )


def near_payloads(*known_threads: str) -> st.SearchStrategy:
    """Dicts with the contract's keys, each holding a plausible or an arbitrary value."""
    value = {
        "thread_id": thread_ids(*known_threads),
        "type": st.sampled_from(["text", "image", "audio", "video", "TEXT", ""]) | any_json,
        "text": st.text(max_size=60) | st.sampled_from(["hello", "x" * 4000, "x" * 4001]) | any_json,
        "file_url": st.sampled_from(
            [
                "/uploads/images/x.png",
                "https://evil.example/a.png",
                "javascript:1",
                "/uploads/audio/../../manage.py",
            ]
        )
        | any_json,
        "client_id": st.text(alphabet="abcXYZ019_.:- /", min_size=0, max_size=70) | any_json,
        "display_name": st.text(max_size=100) | any_json,
        "typing": any_json,
        "seen_at": any_json,
    }
    return st.fixed_dictionaries({}, optional=value).flatmap(
        lambda d: st.dictionaries(st.text(max_size=6), any_json, max_size=2).map(lambda extra: {**extra, **d})
    )
