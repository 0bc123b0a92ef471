"""One list of codes: `telehealth.codes.Code` is what the docs' code tables list, and every
raise site names a member, never a string.

How the docs are read: in each of DOCS, a heading titled `Codes` or `Error codes` is followed
(before the next heading) by a Markdown table with a `code` column; each row's cell holds one
code in backticks. The table under a `Close codes` heading lists the close codes, one number
per row (bold or not), and must be `CloseCode` exactly.

How the server is read: an AST scan of its packages for a string literal where a code goes
(SHAPES: `AppError("…")`, `conflict("…")`, `invalid(…, code="…")`, `RoomDenied(_, "…")`,
`ProtocolError("…")`, `error_frame("…")`, `self.error("…")`, `booking_error("…")`, and a
`{"code": "…"}` built by hand). mypy refuses a plain `str` at the typed shapes; the scan also
covers what mypy cannot see (a literal in a `dict[str, Any]`).
"""

import ast
import re
from pathlib import Path

from consults.realtime.close import CloseCode
from telehealth.codes import Code

ROOT = Path(__file__).resolve().parents[2]
DOCS = ("docs/api.md", "docs/scheduling.md", "docs/notes.md", "docs/signaling.md")
SERVER = ("telehealth", "clinics", "consults", "frontend")
ERROR_HEADINGS = {"codes", "error codes"}
CLOSE_HEADING = "close codes"

# callee → (position of the code argument, its keyword); `error` only as a method of `self`.
SHAPES = {
    "AppError": (0, "code"),
    "conflict": (0, "code"),
    "invalid": (2, "code"),
    "RoomDenied": (1, "code"),
    "ProtocolError": (0, "code"),
    "error_frame": (0, "code"),
    "booking_error": (0, "code"),
    "error": (0, "code"),
}
SNAKE = re.compile(r"[a-z][a-z0-9_]*")


def code_tables(text: str) -> dict[str, list[str]]:
    """Heading (lower case) → the `code` cells of the first table under it."""
    tables: dict[str, list[str]] = {}
    heading: str | None = None
    header: list[str] | None = None
    for line in text.splitlines():
        if line.startswith("#"):
            heading, header = line.lstrip("#").strip().lower(), None
        elif heading not in ERROR_HEADINGS | {CLOSE_HEADING}:
            continue
        elif not line.startswith("|"):
            if header is not None:
                heading = None  # the table ended: only the first one under a heading counts
        elif header is None:
            header = [c.strip() for c in line.strip().strip("|").split("|")]
            tables.setdefault(heading, [])
        elif not set(line) <= set("|-: "):
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            tables[heading].append(cells[header.index("code")])
    return tables


def doc_tables() -> dict[str, dict[str, list[str]]]:
    return {doc: code_tables((ROOT / doc).read_text()) for doc in DOCS}


def error_codes_in(tables: dict[str, list[str]]) -> list[str]:
    found = []
    for heading, rows in tables.items():
        if heading in ERROR_HEADINGS:
            for cell in rows:
                names = re.findall(r"`([^`]+)`", cell)
                assert len(names) == 1, f"one code per row, in backticks: {cell!r}"
                found.append(names[0])
    return found


def test_every_doc_has_a_code_table() -> None:
    for doc, tables in doc_tables().items():
        assert error_codes_in(tables), f"{doc}: no `Codes` / `Error codes` table"


def test_the_docs_list_every_code_and_only_codes_that_exist() -> None:
    documented: set[str] = set()
    for doc, tables in doc_tables().items():
        listed = error_codes_in(tables)
        assert len(listed) == len(set(listed)), f"{doc}: a code listed twice"
        unknown = set(listed) - set(Code)
        assert not unknown, f"{doc} lists codes that telehealth.codes.Code lacks: {unknown}"
        documented |= set(listed)
    undocumented = set(Code) - documented
    assert not undocumented, f"members of Code no doc's code table lists: {undocumented}"


def test_the_close_code_table_is_closecode_exactly() -> None:
    rows = doc_tables()["docs/signaling.md"][CLOSE_HEADING]
    listed = [int(cell.strip("*` ")) for cell in rows]
    assert sorted(listed) == sorted(CloseCode)


def string_codes(source: str, name: str = "<source>") -> list[str]:
    """Every string literal where a code goes, as `name:line: literal`."""
    found = []
    for node in ast.walk(ast.parse(source)):
        literals: list[ast.expr] = []
        if isinstance(node, ast.Call):
            func = node.func
            callee = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
            if callee == "error" and not (
                isinstance(func, ast.Attribute)
                and isinstance(func.value, ast.Name)
                and func.value.id == "self"
            ):
                callee = None  # logger.error, messages.error
            if callee in SHAPES:
                position, keyword = SHAPES[callee]
                literals += node.args[position : position + 1]
                literals += [k.value for k in node.keywords if k.arg == keyword]
        elif isinstance(node, ast.Dict):
            literals += [
                value
                for key, value in zip(node.keys, node.values, strict=True)
                if isinstance(key, ast.Constant) and key.value == "code"
            ]
        for literal in literals:
            # SNAKE: every code is snake_case; a facility's `code` is `TYT-TALUNG`.
            if isinstance(literal, ast.Constant) and SNAKE.fullmatch(str(literal.value)):
                found.append(f"{name}:{literal.lineno}: {literal.value!r}")
    return found


def test_no_raise_site_names_a_code_as_a_string() -> None:
    found = []
    for package in SERVER:
        for path in sorted((ROOT / package).rglob("*.py")):
            if "migrations" not in path.parts:
                found += string_codes(path.read_text(), str(path.relative_to(ROOT)))
    assert not found, "use a telehealth.codes.Code member:\n" + "\n".join(found)


def test_the_scan_finds_a_string_code_at_every_shape() -> None:
    source = """
AppError("a", m)
errors.AppError(code="b", message=m)
conflict("c", m)
invalid({}, m, "d")
invalid({}, code="e")
RoomDenied(CloseCode.FORBIDDEN, "f")
ProtocolError("g", m, ref)
events.error_frame("h", m)
self.error("i", m)
booking_error("j")
frame = {"type": "error", "code": "k"}
logger.error("not a code")
messages.error(request, "not a code")
AppError(Code.FINE, m)
facility = {"code": "TYT-TALUNG"}
"""
    found = [line.split("'")[1] for line in string_codes(source)]
    assert found == list("abcdefghijk")


def test_the_docs_reader_takes_the_first_table_under_a_codes_heading() -> None:
    text = """
## Codes

Some words.

| status | code | when |
|---|---|---|
| 409 | `slot_taken` | taken |
| 400 | `invalid` | bad |

| another | table |
|---|---|
| `not_a_code` | ignored |

## Close codes

| code | meaning |
|---|---|
| **4401** | unauthenticated |

## Elsewhere

| code | when |
|---|---|
| `also_ignored` | |
"""
    tables = code_tables(text)
    assert error_codes_in(tables) == ["slot_taken", "invalid"]
    assert tables[CLOSE_HEADING] == ["**4401**"]
