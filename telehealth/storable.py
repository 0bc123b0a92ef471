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
    match = _UNSTORABLE.search(value)
    return f"U+{ord(match.group()):04X}" if match else None


def shown(value: str) -> str:
    """`value` with what cannot be stored (nor encoded in a response) replaced by U+FFFD:
    a field name in an error must not break the error itself."""
    return _UNSTORABLE.sub("\ufffd", value)


def refusal(char: str) -> str:
    """The message for a value holding `char` (as unstorable() names it)."""
    return _("Contains a character that cannot be stored (%(char)s). Remove it.") % {"char": char}


def _strings(value: Any, path: str) -> Iterator[tuple[str, str]]:
    """(path, text) of every string in a JSON-like value, keys included; iterative, so a
    deeply nested value cannot exhaust the stack."""
    stack: list[tuple[str, Any]] = [(path, value)]
    while stack:
        where, item = stack.pop()
        if isinstance(item, str):
            yield where, item
        elif isinstance(item, dict):
            for key, child in item.items():
                name = f"{where}.{key}" if where else str(key)
                if isinstance(key, str):
                    yield name, key
                stack.append((name, child))
        elif isinstance(item, list | tuple):
            stack.extend((f"{where}.{i}" if where else str(i), c) for i, c in enumerate(item))


def text_errors(value: Any) -> dict[str, list[str]]:
    """Field errors for every unstorable string in `value` (usually {name: value}), by
    dotted path ("content.text", "consents.2"), the shape every other field error has."""
    errors: dict[str, list[str]] = {}
    for path, text in _strings(value, ""):
        char = unstorable(text)
        if char is not None:
            errors.setdefault(shown(path) or "__all__", []).append(refusal(char))
    return errors


def require_storable(value: Any) -> None:
    """Refuse (400 `invalid`) a value holding text the database cannot store."""
    errors = text_errors(value)
    if errors:
        raise invalid(errors)
