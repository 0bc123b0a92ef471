"""Every string the room, the notes, the report and its PDF show has a Vietnamese translation:
the marked ones are in the vi catalog and translated, and no words are left unmarked in a
template or written as a literal by a page script (tests/support/catalog.py)."""

from pathlib import Path

import pytest

from tests.support.catalog import (
    Catalog,
    files,
    js_literal_text,
    python_msgids,
    relative,
    template_loose_text,
    template_msgids,
    untranslated,
    vi_translations,
)

PYTHON = files(
    "consults/notes/*.py",
    "consults/room/*.py",
    "consults/realtime/*.py",
    "frontend/views_room.py",
    "frontend/views_notes.py",
    "frontend/views_report.py",
)
TEMPLATES = files(
    "frontend/templates/frontend/room/*.html", "frontend/templates/frontend/notes/*.html"
)
SCRIPTS = files(
    "frontend/static/frontend/room/*.js",
    "frontend/static/frontend/notes/*.js",
    "frontend/static/frontend/format.js",
)


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return vi_translations()


@pytest.mark.parametrize("path", PYTHON, ids=relative)
def test_every_marked_string_of_the_python_code_is_translated(path: Path, catalog: Catalog) -> None:
    found = python_msgids(path.read_text(), relative(path))
    assert [str(f) for f in untranslated(found, catalog)] == []


@pytest.mark.parametrize("path", TEMPLATES, ids=relative)
def test_every_marked_string_of_the_templates_is_translated(path: Path, catalog: Catalog) -> None:
    found = template_msgids(path.read_text(), relative(path))
    assert [str(f) for f in untranslated(found, catalog)] == []


@pytest.mark.parametrize("path", TEMPLATES, ids=relative)
def test_no_template_shows_words_outside_a_translate_tag(path: Path) -> None:
    assert [str(f) for f in template_loose_text(path.read_text(), relative(path))] == []


@pytest.mark.parametrize("path", SCRIPTS, ids=relative)
def test_no_page_script_writes_words_of_its_own(path: Path) -> None:
    assert [str(f) for f in js_literal_text(path.read_text(), relative(path))] == []


def test_the_checks_find_what_they_are_for(catalog: Catalog) -> None:
    """The checker itself: each kind of miss is caught, and a translated string passes."""
    py = 'from django.utils.translation import gettext as _\nx = _("Sign the report")\n'
    py += 'y = _("A sentence nobody translated")\nz = pgettext("room", "Also not")\n'
    assert [f.text for f in untranslated(python_msgids(py, "x.py"), catalog)] == [
        "A sentence nobody translated",
        "Also not",
    ]
    html = (
        '{% load i18n %}<p title="x">{% translate "Sign the report" %}</p>\n'
        "<p>{% blocktranslate with n=1 %}Not in the catalog {{ n }}{% endblocktranslate %}</p>\n"
        "<p>Muted</p><span>PDF</span>{# a comment #}\n"
    )
    assert [f.text for f in untranslated(template_msgids(html, "t.html"), catalog)] == [
        "Not in the catalog %(n)s"
    ]
    assert [f.text for f in template_loose_text(html, "t.html")] == ["Muted"]
    js = 'a.textContent = T.muted;\nb.textContent = "Muted";\nc.title = `${n} — ${m}`;\n'
    js += 'confirm("Leave?");\nd.setAttribute("aria-label", `Remove ${code}`);\n'
    assert [f.text for f in js_literal_text(js, "s.js")] == [
        '"Muted"',
        '"Leave?"',
        "`Remove ${code}`",
    ]
