"""What the database can store, checked the same way for every channel (REST bodies and
query strings, socket frames, page forms).

PostgreSQL refuses two things a client can send as text: NUL (U+0000: "text fields cannot
contain NUL", and jsonb refuses its `\\u0000` escape) and a lone UTF-16 surrogate (what
JSON's `"\\ud800"` decodes to; it is not a character, UTF-8 cannot encode it). Either one
reaching a query is a 500 — and, on the notes socket, a closed connection. So they are
refused as field errors before any write or query.
"""

import re
from collections.abc import Iterator
from typing import Any

from django.utils.translation import gettext as _

from telehealth.errors import invalid

# Integer columns (PositiveIntegerField and IntegerField) are 32-bit signed in PostgreSQL.
INT_MAX = 2**31 - 1

_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def unstorable(value: str) -> str | None:
    """The first character of `value` no text column can hold, as "U+0000"; None if none."""
    # Two scans at C speed (the regex runs ~10 ns a character on long text): NUL, then what
    # UTF-8 cannot encode, which in a Python str is exactly the surrogates.
    first = value.find("\x00")
    try:
        value.encode()
    except UnicodeEncodeError as exc:
        first = exc.start if first < 0 else min(first, exc.start)
    return None if first < 0 else f"U+{ord(value[first]):04X}"


def shown(value: str) -> str:
    """`value` with what cannot be stored (nor encoded in a response) replaced by U+FFFD:
    a field name in an error must not break the error itself."""
    return _UNSTORABLE.sub("\ufffd", value)


def refusal(char: str) -> str:
    """The message for a value holding `char` (as unstorable() names it)."""
    return _("Contains a character that cannot be stored (%(char)s). Remove it.") % {"char": char}


def _strings(value: Any) -> Iterator[tuple[tuple[str | int, ...], str]]:
    """(where, text) of every string in a JSON-like value, keys included, `where` the keys
    and indexes leading to it. Iterative, so a deeply nested value cannot exhaust the stack."""
    stack: list[tuple[tuple[str | int, ...], Any]] = [((), value)]
    while stack:
        where, item = stack.pop()
        if isinstance(item, str):
            yield where, item
        elif isinstance(item, dict):
            for key, child in item.items():
                if isinstance(key, str):
                    yield (*where, key), key
                stack.append(((*where, key), child))
        elif isinstance(item, list | tuple):
            stack.extend(((*where, i), child) for i, child in enumerate(item))


def text_errors(value: Any) -> dict[str, list[str]]:
    """Field errors for every unstorable string in `value` (usually {name: value}), by
    dotted path ("content.text", "consents.2"), the shape every other field error has."""
    errors: dict[str, list[str]] = {}
    for where, text in _strings(value):
        char = unstorable(text)
        if char is not None:
            path = shown(".".join(str(part) for part in where)) or "__all__"
            errors.setdefault(path, []).append(refusal(char))
    return errors


def require_storable(value: Any) -> None:
    """Refuse (400 `invalid`) a value holding text the database cannot store."""
    errors = text_errors(value)
    if errors:
        raise invalid(errors)
