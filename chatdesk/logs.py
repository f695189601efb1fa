"""Log lines that cannot be forged: `key=value` values quoted, one record per line.

Request values (a path, a header, a name) reach log lines through `%s` arguments. A
decoded `%0A` in a path would otherwise end the line and start a fake one
(`level=ERROR ...`), and a space or `=` would add a fake key. `KeyValueFormatter` writes
a text argument that follows `key=` as a JSON string when it holds anything but plain
characters (`path="/x\\nlevel=ERROR"`), and escapes the line breaks of every other
argument and of the message itself, so one record is one line (a traceback still follows
on its own lines). `LOG_FORMAT=json` uses python-json-logger instead: one JSON object per
line, for log shippers.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Mapping
from copy import copy

# Plain values are written as they are; anything else is quoted.
_PLAIN = re.compile(r"[A-Za-z0-9_.,:;/@+\-\[\]()#%*~!?&'<>|^{}$]+")
# Line breaks (all that str.splitlines knows) and other controls, escaped in messages.
_CONTROLS = re.compile(r"[\x00-\x1f\x7f\x85\u2028\u2029]")


def _escape(match: re.Match) -> str:
    char = match.group()
    return {"\n": "\\n", "\r": "\\r", "\t": "\\t"}.get(char, f"\\u{ord(char):04x}")


def quote(value: str) -> str:
    """`value` as it goes into a key=value line: plain, or a JSON string on one line."""
    if _PLAIN.fullmatch(value):
        return value
    return _CONTROLS.sub(_escape, json.dumps(value, ensure_ascii=False))


# A %-placeholder of a log message (`%s`, `%(name)s`, `%.1f`, `%%`).
_PLACEHOLDER = re.compile(
    r"%(?:\((?P<key>[^)]*)\))?[#0+ -]*(?:\*|\d+)?(?:\.(?:\*|\d+))?(?P<conv>[diouxXeEfFgGcrsa%])"
)


class _Argument:
    """A log argument: `%s` gives its text quoted (after `key=`) or with its line breaks
    escaped (elsewhere); `%r` its usual repr."""

    __slots__ = ("value", "keyed")

    def __init__(self, value, keyed: bool):
        self.value = value
        self.keyed = keyed

    def __str__(self) -> str:
        text = str(self.value)
        return quote(text) if self.keyed else _CONTROLS.sub(_escape, text)

    def __repr__(self) -> str:
        return repr(self.value)


def _argument(value, keyed: bool):
    if value is None or isinstance(value, int | float):
        return value  # numbers keep %d / %.1f formatting
    return _Argument(value, keyed)


def _wrapped_args(msg: str, args):
    """The record's arguments, each marked as a `key=` value or not by where it goes."""
    keyed: dict = {}
    positional: list[bool] = []
    for match in _PLACEHOLDER.finditer(msg):
        if match["conv"] == "%":
            continue
        after_equals = match.start() > 0 and msg[match.start() - 1] == "="
        if match["key"] is not None:
            keyed[match["key"]] = keyed.get(match["key"], False) or after_equals
        else:
            positional.append(after_equals)
    if isinstance(args, Mapping):
        return {key: _argument(value, keyed.get(key, False)) for key, value in args.items()}
    return tuple(
        _argument(value, positional[i] if i < len(positional) else False) for i, value in enumerate(args)
    )


class KeyValueFormatter(logging.Formatter):
    """`%(asctime)s level=... logger=... message` with quoted values, one line per record."""

    def format(self, record: logging.LogRecord) -> str:
        if record.args:
            record = copy(record)  # other handlers see the record as it was
            record.args = _wrapped_args(str(record.msg), record.args)
        return super().format(record)

    def formatMessage(self, record: logging.LogRecord) -> str:
        record.message = _CONTROLS.sub(_escape, record.message)
        return super().formatMessage(record)
