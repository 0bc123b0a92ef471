"""Vietnamese names as people search and sort them.

`fold_name` is what a search compares: no tones, no letter marks, đ as d, case folded, so
"luong" finds "Lương" and "NGUYEN VAN A" finds "Nguyễn Văn A". It is stored beside the name
(`Patient.name_folded`), so a search is one indexed column on both databases.

Sorting follows the Vietnamese alphabet (a ă â b c d đ e ê g … o ô ơ … u ư …): "Lục" before
"Lương", "Đào" after "Dương". PostgreSQL sorts with its ICU collation `vi-x-icu` when the
server has one; SQLite has no such collation, so each SQLite connection is given one named
like it that compares `sort_key`s (clinics.apps), and the same query sorts alike on both.
"""

import unicodedata
from typing import Any

from django.db import connection
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import F
from django.db.models.functions import Collate

VI_COLLATION = "vi-x-icu"

# Letter marks that make a letter of its own (ă â ê ô ơ ư); the tones are the other marks.
_LETTER_MARKS = frozenset("\u0306\u0302\u031b")
_ALPHABET = [
    "a",
    "a\u0306",
    "a\u0302",
    "b",
    "c",
    "d",
    "đ",
    "e",
    "e\u0302",
    "f",
    "g",
    "h",
    "i",
    "j",
    "k",
    "l",
    "m",
    "n",
    "o",
    "o\u0302",
    "o\u031b",
    "p",
    "q",
    "r",
    "s",
    "t",
    "u",
    "u\u031b",
    "v",
    "w",
    "x",
    "y",
    "z",
]
_RANK = {letter: i + 1 for i, letter in enumerate(_ALPHABET)}
# No tone, then huyền, hỏi, ngã, sắc, nặng: the order Vietnamese dictionaries use.
_TONES = {"": 0, "\u0300": 1, "\u0309": 2, "\u0303": 3, "\u0301": 4, "\u0323": 5}


def fold_name(value: str) -> str:
    """The name without tones or letter marks, đ as d, case folded, spaces collapsed."""
    decomposed = unicodedata.normalize("NFD", value.replace("đ", "d").replace("Đ", "D"))
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(bare.casefold().split())


def _letters(value: str) -> list[tuple[str, str, bool]]:
    """(letter with its letter mark, tone mark, upper case) for each character."""
    out: list[tuple[str, str, bool]] = []
    for char in unicodedata.normalize("NFD", " ".join(value.split())):
        if unicodedata.combining(char) and out:
            letter, tone, upper = out[-1]
            if char in _LETTER_MARKS:
                out[-1] = (letter + char, tone, upper)
            else:
                out[-1] = (letter, tone + char, upper)
            continue
        out.append((char.casefold(), "", char != char.casefold()))
    return out


def sort_key(value: str) -> tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...]]:
    """Letters first (the Vietnamese alphabet; a space before any letter), then tones,
    then case: as ICU's Vietnamese collation compares at its three strengths."""
    letters = _letters(value)
    primary = tuple(
        0 if letter == " " else _RANK.get(letter, 1000 + ord(letter[0]))
        for letter, _tone, _upper in letters
    )
    secondary = tuple(_TONES.get(tone, 9) for _letter, tone, _upper in letters)
    tertiary = tuple(int(upper) for _letter, _tone, upper in letters)
    return primary, secondary, tertiary


def _compare(a: str, b: str) -> int:
    ka, kb = sort_key(a), sort_key(b)
    return (ka > kb) - (ka < kb)


def install_sqlite_collation(sender: Any, connection: BaseDatabaseWrapper, **kwargs: Any) -> None:
    """`connection_created` receiver: SQLite connections learn the Vietnamese collation."""
    if connection.vendor == "sqlite":
        connection.connection.create_collation(VI_COLLATION, _compare)


def vietnamese(field: str) -> Collate | F:
    """`field` in Vietnamese order, for `order_by`. A PostgreSQL server built without ICU
    has no `vi-x-icu`: its names then sort by the database's own collation."""
    if connection.vendor == "postgresql" and not _postgres_has_vi():
        return F(field)
    return Collate(F(field), VI_COLLATION)


_HAS_VI: dict[str, bool] = {}


def _postgres_has_vi() -> bool:
    alias = connection.alias
    if alias not in _HAS_VI:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_collation WHERE collname = %s", [VI_COLLATION])
            _HAS_VI[alias] = cursor.fetchone() is not None
    return _HAS_VI[alias]
