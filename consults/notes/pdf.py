"""The signed report as an A4 PDF (reportlab). The font must cover Vietnamese diacritics:
DejaVu Sans (Debian package fonts-dejavu-core), path in settings.REPORT_FONT_PATH."""

import io
from datetime import date, datetime
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from django.conf import settings
from django.utils import formats, timezone
from django.utils.translation import get_language
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


def day(value: str) -> str:
    """An ISO day as the report writes every date: dd/mm/yyyy."""
    return date.fromisoformat(value).strftime("%d/%m/%Y")


def _vitals(content: dict[str, Any]) -> list[str]:
    # Whole sentences with their units, so that a translator sees "Mạch: 92 lần/phút" whole;
    # numbers with the language's decimal separator (37,5 °C in Vietnamese).
    lines = []
    if content.get("bp_systolic") is not None:
        lines.append(
            _("Blood pressure: %(systolic)s/%(diastolic)s mmHg")
            % {"systolic": content["bp_systolic"], "diastolic": content["bp_diastolic"]}
        )
    sentences = {
        "pulse": _("Pulse: %(value)s beats/min"),
        "temperature": _("Temperature: %(value)s °C"),
        "spo2": _("SpO₂: %(value)s %%"),
        "respiratory_rate": _("Respiratory rate: %(value)s breaths/min"),
        "weight": _("Weight: %(value)s kg"),
    }
    for key, sentence in sentences.items():
        if content.get(key) is not None:
            lines.append(sentence % {"value": formats.number_format(content[key])})
    return lines


def section_lines(key: str, content: dict[str, Any]) -> list[str]:
    """The human-readable lines of one section (shared by the PDF and the print page)."""
    lines: list[str] = []
    if key == SectionKey.VITALS:
        lines += _vitals(content)
    if key == SectionKey.ASSESSMENT:
        codes = icd10_codes()
        title = 0 if get_language() == "vi" else 1
        lines += [
            _("ICD-10 %(code)s: %(title)s") % {"code": c, "title": codes.get(c, ("", ""))[title]}
            for c in content.get("icd10", [])
        ]
    if key == SectionKey.PLAN:
        if content.get("medications"):
            lines.append(_("Medications: %(text)s") % {"text": content["medications"]})
        if content.get("tests"):
            lines.append(_("Tests: %(text)s") % {"text": content["tests"]})
        if content.get("disposition") == "referral":
            lines.append(_("Refer the patient up to hospital."))
        if content.get("disposition") == "station_followup":
            lines.append(_("Follow up at the station."))
    if key == SectionKey.FOLLOWUP and content.get("date"):
        lines.append(_("Follow-up date: %(date)s") % {"date": day(content["date"])})
    if content.get("text"):
        lines.append(content["text"])
    return lines


def report_pdf(report: Report) -> bytes:
    """The report in the active language, its times in the consult's station's zone (as the
    print page shows them)."""
    _register_fonts()
    with timezone.override(report.consultation.station.time_zone):
        return _build(report)


def _build(report: Report) -> bytes:
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
        p(
            _("Patient: %(name)s — born %(born)s")
            % {"name": patient["name"], "born": day(patient["date_of_birth"])}
        ),
        p(_("Station: %(name)s") % {"name": snap["station"]}),
        p(
            _("Hospital: %(name)s — %(specialty)s")
            % {"name": snap["hospital"], "specialty": snap["specialty"]}
        ),
        p(
            _("Time: %(start)s – %(end)s")
            % {"start": when(snap["start"]), "end": when(snap["end"])}
        ),
        p(
            _("Participants: %(names)s")
            % {"names": ", ".join(person["name"] for person in snap["participants"])}
        ),
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
        p(
            _("%(name)s — licence %(number)s")
            % {
                "name": snap["specialist"]["name"],
                "number": snap["specialist"]["licence_number"] or "—",
            }
        ),
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
