"""The signed report as an A4 PDF (reportlab). The font must cover Vietnamese diacritics:
DejaVu Sans (Debian package fonts-dejavu-core), path in settings.REPORT_FONT_PATH."""

import io
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer

from consults.notes.document import report_document
from consults.notes.models import Report
from telehealth.codes import Code
from telehealth.errors import AppError

FONT = "ReportSans"
FONT_BOLD = "ReportSans-Bold"


def font_path() -> Path:
    return Path(settings.REPORT_FONT_PATH)


def _register_fonts() -> None:
    if FONT in pdfmetrics.getRegisteredFontNames():
        return
    regular = font_path()
    if not regular.is_file():
        raise AppError(
            Code.REPORT_FONT_MISSING,
            _(
                "The PDF font is not installed (%(path)s). Install the Debian package "
                "fonts-dejavu-core or set REPORT_FONT_PATH."
            )
            % {"path": regular},
            status=503,
        )
    bold = regular.with_name(regular.stem + "-Bold" + regular.suffix)
    pdfmetrics.registerFont(TTFont(FONT, str(regular)))
    pdfmetrics.registerFont(TTFont(FONT_BOLD, str(bold if bold.is_file() else regular)))


def report_pdf(report: Report) -> bytes:
    """The report in the active language, its times in the consult's station's zone (as the
    print page shows them)."""
    _register_fonts()
    with timezone.override(report.consultation.station.time_zone):
        return _build(report)


def _build(report: Report) -> bytes:
    doc = report_document(report.snapshot)
    body = ParagraphStyle("body", fontName=FONT, fontSize=10, leading=14)
    head = ParagraphStyle("head", fontName=FONT_BOLD, fontSize=12, leading=16, spaceBefore=8)
    title = ParagraphStyle("title", fontName=FONT_BOLD, fontSize=16, leading=20)

    def p(text: str, style: ParagraphStyle = body) -> Paragraph:
        return Paragraph(escape(text).replace("\n", "<br/>"), style)

    story: list[Any] = [p(doc["title"], title), Spacer(1, 4 * mm)]
    story += [p(fact) for fact in doc["facts"]]
    for section in doc["sections"]:
        story.append(p(section["title"], head))
        story += [p(line) for line in section["lines"] or ["—"]]
    story.append(p(_("Attachments"), head))
    story += [p(line) for line in doc["attachments"] or ["—"]]
    story.append(p(_("Chat"), head))
    story += [p(line) for line in doc["chat"] or ["—"]]
    story += [p(_("Signed"), head), p(doc["signer"]), p(doc["signed_at"])]
    for addendum in report.addenda.all():
        story.append(p(_("Addendum"), head))
        story.append(
            p(
                f"{addendum.author.display_name}, "
                f"{timezone.localtime(addendum.created_at):%d/%m/%Y %H:%M}"
            )
        )
        story.append(p(addendum.text))
    out = io.BytesIO()
    SimpleDocTemplate(
        out, pagesize=A4, leftMargin=18 * mm, rightMargin=18 * mm, title=_("Consult report")
    ).build(story)
    return out.getvalue()
