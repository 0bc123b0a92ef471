"""The Vietnamese catalog is complete, and the compiled catalog matches it."""

from pathlib import Path

import polib
import pytest

LOCALE = Path(__file__).resolve().parents[2] / "frontend" / "locale" / "vi" / "LC_MESSAGES"
DOMAINS = sorted(p.stem for p in LOCALE.glob("*.po"))


def _translated(entry: polib.POEntry) -> bool:
    if entry.fuzzy:
        return False
    if entry.msgid_plural:  # Vietnamese has one form: msgstr[0]
        return bool(entry.msgstr_plural) and all(entry.msgstr_plural.values())
    return bool(entry.msgstr)


@pytest.mark.parametrize("domain", DOMAINS)
def test_every_string_has_a_vietnamese_translation(domain: str) -> None:
    po = polib.pofile(str(LOCALE / f"{domain}.po"))
    missing = [e.msgid for e in po if e.msgid and not e.obsolete and not _translated(e)]
    assert missing == [], "run `make messages` and translate these"


@pytest.mark.parametrize("domain", DOMAINS)
def test_the_compiled_catalog_is_up_to_date(domain: str) -> None:
    po = polib.pofile(str(LOCALE / f"{domain}.po"))
    mo = polib.mofile(str(LOCALE / f"{domain}.mo"))
    compiled = {e.msgid: e.msgstr for e in mo if e.msgid}
    source = {e.msgid: e.msgstr for e in po if e.msgid and not e.obsolete and not e.msgid_plural}
    assert {k: v for k, v in source.items() if compiled.get(k) != v} == {}, (
        "run `make messages` (compilemessages) and commit the .mo"
    )
