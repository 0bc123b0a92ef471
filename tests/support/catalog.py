"""What a page shows a user, read from the sources, against the Vietnamese catalog.

Three kinds of user-visible string:
- msgids marked for translation in Python (`_()`, `gettext_lazy`, `pgettext`, …) and in
  templates (`{% translate %}`, `{% blocktranslate %}`, read by Django's own `templatize`, as
  `makemessages` reads them), which must have a Vietnamese translation in the .po;
- words left in a template outside any translate tag, which no catalog can reach;
- words written into the page by a script as a literal (`el.textContent = "Muted"`): the
  scripts take their words from the strings the view translated (`T.muted`).
The .po is read with polib (no gettext binaries needed).
"""

import ast
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import polib
from django.utils.translation.template import templatize

ROOT = Path(__file__).resolve().parents[2]
VI_PO = ROOT / "frontend" / "locale" / "vi" / "LC_MESSAGES" / "django.po"

GETTEXT = {
    "_": (None, 0),
    "gettext": (None, 0),
    "gettext_lazy": (None, 0),
    "ngettext": (None, 0),
    "ngettext_lazy": (None, 0),
    "pgettext": (0, 1),
    "pgettext_lazy": (0, 1),
    "npgettext": (0, 1),
    "npgettext_lazy": (0, 1),
}
# Words that are the same in both languages: units, acronyms, a protocol's name under the
# room's "Technical details".
UNTRANSLATED_OK = {"PDF", "ICD-10", "BHYT", "CCCD", "SpO₂", "mmHg", "kg", "°C", "ICE", "—"}


Catalog = dict[tuple[str | None, str], bool]


@dataclass(frozen=True)
class Found:
    where: str  # path:line
    text: str
    context: str | None = None

    def __str__(self) -> str:
        return f"{self.where}: {self.text!r}"


def vi_translations(po_path: Path = VI_PO) -> Catalog:
    """(msgctxt, msgid) → whether it has a Vietnamese translation (fuzzy counts as none)."""
    out: Catalog = {}
    for e in polib.pofile(str(po_path)):
        if e.obsolete or not e.msgid:
            continue
        done = all(e.msgstr_plural.values()) if e.msgid_plural else bool(e.msgstr)
        out[(e.msgctxt, e.msgid)] = done and not e.fuzzy
    return out


def _call_name(node: ast.Call) -> str:
    f = node.func
    if isinstance(f, ast.Name):
        return f.id
    if isinstance(f, ast.Attribute):
        return f.attr
    return ""


def _literal(node: ast.expr) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def python_msgids(source: str, where: str) -> Iterator[Found]:
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call) or _call_name(node) not in GETTEXT:
            continue
        ctx_at, msg_at = GETTEXT[_call_name(node)]
        if len(node.args) <= msg_at:
            continue
        msgid = _literal(node.args[msg_at])
        context = _literal(node.args[ctx_at]) if ctx_at is not None else None
        if msgid:
            yield Found(f"{where}:{node.lineno}", msgid, context)


# templatize writes each marked string as a Python call: ` gettext('…') `, ` pgettext('c', '…') `.
_TEMPLATIZED = re.compile(r"\b(n?p?gettext)\(")
_PY_STRING = re.compile(r"""\s*(u?(?:'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*"))\s*,?""")


def template_msgids(source: str, where: str) -> Iterator[Found]:
    text = templatize(source)
    for match in _TEMPLATIZED.finditer(text):
        args: list[str] = []
        at = match.end()
        while (s := _PY_STRING.match(text, at)) is not None:
            args.append(ast.literal_eval(s.group(1)))
            at = s.end()
        if not args:
            continue
        line = source.count("\n", 0, _line_offset(source, text, match.start())) + 1
        if match.group(1).startswith(("p", "np")):
            yield Found(f"{where}:{line}", args[1], args[0])
        else:
            yield Found(f"{where}:{line}", args[0])


def _line_offset(source: str, text: str, at: int) -> int:
    # templatize keeps the template's line structure: the same line number in both.
    line = text.count("\n", 0, at)
    starts = [0] + [m.end() for m in re.finditer("\n", source)]
    return starts[min(line, len(starts) - 1)]


_TEMPLATE_CODE = re.compile(
    r"{%\s*comment\s*%}.*?{%\s*endcomment\s*%}|{%\s*blocktrans(?:late)?\b.*?{%\s*endblocktrans(?:late)?\s*%}"
    r"|{%.*?%}|{{.*?}}|{#.*?#}|<script\b.*?</script>|<style\b.*?</style>|<!--.*?-->|<[^>]*>",
    re.S,
)
_WORD = re.compile(r"[^\W\d_]{2,}")


def template_loose_text(source: str, where: str) -> Iterator[Found]:
    """Text a template shows outside every translate tag (and not a number or an acronym)."""
    at = 0
    for piece in [*_TEMPLATE_CODE.split(source)]:
        at = source.index(piece, at)
        for chunk in piece.splitlines():
            words = chunk.strip()
            if all(w in UNTRANSLATED_OK or not _WORD.search(w) for w in words.split()):
                continue
            yield Found(f"{where}:{source.count(chr(10), 0, at) + 1}", words)


_JS_SHOWN = re.compile(
    r"""(?:\.(?:textContent|innerText|title|placeholder|ariaLabel)\s*=|"""
    r"""\b(?:alert|confirm|prompt)\(|setAttribute\(\s*["'](?:aria-label|title|placeholder)["']\s*,)"""
    r"""\s*(`(?:[^`\\]|\\.)*`|"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')"""
)


def js_literal_text(source: str, where: str) -> Iterator[Found]:
    """A literal a script writes where the user reads it (a template literal's `${…}` aside)."""
    for match in _JS_SHOWN.finditer(source):
        literal = re.sub(r"\$\{[^}]*\}", "", match.group(1)[1:-1])
        if _WORD.search(literal) and literal.strip() not in UNTRANSLATED_OK:
            line = source.count("\n", 0, match.start()) + 1
            yield Found(f"{where}:{line}", match.group(1))


def untranslated(found: Iterable[Found], catalog: Catalog) -> list[Found]:
    return [f for f in found if not catalog.get((f.context, f.text), False)]


def files(*globs: str) -> list[Path]:
    paths = sorted({p for g in globs for p in ROOT.glob(g)})
    assert paths, f"nothing matches {globs}"
    return paths


def relative(path: Path) -> str:
    return str(path.relative_to(ROOT))
