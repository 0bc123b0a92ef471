"""The signed report as an A4 PDF (reportlab). The font must cover Vietnamese diacritics:
DejaVu Sans (Debian package fonts-dejavu-core), path in settings.REPORT_FONT_PATH."""

import io
from datetime import datetime
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

from consults.notes.models import Report, SectionKey
from consults.notes.sections import icd10_codes
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


def when(value: str | None) -> str:
    if not value:
        return "—"
    return timezone.localtime(datetime.fromisoformat(value)).strftime("%d/%m/%Y %H:%M")


def section_lines(key: str, content: dict[str, Any]) -> list[str]:
    """The human-readable lines of one section (shared by the PDF and the print page)."""
    lines: list[str] = []
    if key == SectionKey.VITALS:
        labels = [
            ("pulse", _("Pulse"), "/min"),
            ("temperature", _("Temperature"), " °C"),
            ("spo2", "SpO₂", " %"),
            ("respiratory_rate", _("Respiratory rate"), "/min"),
            ("weight", _("Weight"), " kg"),
        ]
        if content.get("bp_systolic") is not None:
            lines.append(
                f"{_('Blood pressure')}: {content['bp_systolic']}/{content['bp_diastolic']} mmHg"
            )
        lines += [f"{label}: {content[k]}{unit}" for k, label, unit in labels if content.get(k)]
    if key == SectionKey.ASSESSMENT:
        codes = icd10_codes()
        lines += [f"ICD-10 {c}: {codes.get(c, ('', ''))[0]}" for c in content.get("icd10", [])]
    if key == SectionKey.PLAN:
        if content.get("medications"):
            lines.append(f"{_('Medications')}: {content['medications']}")
        if content.get("tests"):
            lines.append(f"{_('Tests')}: {content['tests']}")
        if content.get("disposition") == "referral":
            lines.append(_("Refer the patient up to hospital."))
        if content.get("disposition") == "station_followup":
            lines.append(_("Follow up at the station."))
    if key == SectionKey.FOLLOWUP and content.get("date"):
        lines.append(f"{_('Follow-up date')}: {datetime.fromisoformat(content['date']):%d/%m/%Y}")
    if content.get("text"):
        lines.append(content["text"])
    return lines


def report_pdf(report: Report) -> bytes:
    _register_fonts()
    snap = report.snapshot
    body = ParagraphStyle("body", fontName=FONT, fontSize=10, leading=14)
    head = ParagraphStyle("head", fontName=FONT_BOLD, fontSize=12, leading=16, spaceBefore=8)
    title = ParagraphStyle("title", fontName=FONT_BOLD, fontSize=16, leading=20)

    def p(text: str, style: ParagraphStyle = body) -> Paragraph:
        return Paragraph(escape(text).replace("\n", "<br/>"), style)

    patient = snap["patient"]
    story: list[Any] = [
        p(_("Teleconsultation report"), title),
        Spacer(1, 4 * mm),
        p(f"{_('Patient')}: {patient['name']} — {_('born')} {patient['date_of_birth']}"),
        p(f"{_('Station')}: {snap['station']}"),
        p(f"{_('Hospital')}: {snap['hospital']} — {snap['specialty']}"),
        p(f"{_('Time')}: {when(snap['start'])} – {when(snap['end'])}"),
        p(f"{_('Participants')}: " + ", ".join(person["name"] for person in snap["participants"])),
    ]
    titles = dict(SectionKey.choices)
    for section in snap["sections"]:
        story.append(p(str(titles[section["section"]]), head))
        for line in section_lines(section["section"], section["content"]) or ["—"]:
            story.append(p(line))
    story.append(p(_("Attachments"), head))
    for item in snap["attachments"] or [{"name": "—", "caption": ""}]:
        story.append(p(f"{item['name']} {item['caption']}".strip()))
    story.append(p(_("Chat"), head))
    for line in snap["chat"] or [{"by": "", "text": "—", "at": None}]:
        story.append(p(f"{line['by']}: {line['text']}" if line["by"] else line["text"]))
    story += [
        p(_("Signed"), head),
        p(f"{snap['specialist']['name']} — {_('licence')} {snap['specialist']['licence_number']}"),
        p(when(snap["signed_at"])),
    ]
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
