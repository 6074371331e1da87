"""Sample documents for document analysis (Textract, then Comprehend), for tests, the demo and benchmarks.

Generated, not checked in, so that they are valid for the installed libraries and so that what a test expects is
written next to what makes it true. Each one exercises a part of the local Textract's layout analysis:

- ``report.pdf``: two pages, one column: a title, two section headers with the same text ("Summary"), paragraphs,
  a running header and footer, page numbers, and a paragraph that continues across the page break;
- ``columns.pdf``: one page, a title across two columns of paragraphs (reading order: left column, then right);
- ``scan.png``: a "scanned" page (an image, no text layer) with a header and two paragraphs, for OCR.

The paragraphs carry clear sentiment (:data:`POSITIVE`, :data:`NEGATIVE`) and named things (people, organisations,
places, dates) for Comprehend.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

SAMPLE_FILES = ("report.pdf", "columns.pdf", "scan.png")

TITLE = "Quarterly Review of Northwind Traders"
RUNNING_HEADER = "Northwind Traders - Internal Report"
FOOTER = "Confidential"
POSITIVE = (
    "The launch in Seattle was a wonderful success. Maria Garcia and her team at Northwind Traders delighted "
    "customers, and the reviews were excellent. We are thrilled with the results and proud of everyone involved."
)
NEGATIVE = (
    "The warehouse in Berlin was a terrible disappointment. Shipments from Contoso Logistics arrived late on "
    "March 3, 2026, many parcels were damaged, and angry customers complained about the awful service."
)
NEUTRAL = (
    "The board of Northwind Traders will meet in London on June 12, 2026 to review the budget for the next year "
    "and the plans for new offices. John Smith will present the figures for each region and each product line."
)
#: The paragraph that starts at the bottom of page 1 and ends at the top of page 2 of ``report.pdf``.
CONTINUED = (
    "Revenue grew in every region during the quarter. Sales in Paris and Madrid rose by twelve percent, and the "
    "new online store opened by Amazon Web Services partners in Dublin brought many first-time buyers. The team "
    "expects the growth to continue through the summer, supported by the new catalogue, better delivery times "
    "and the loyalty programme that Anna Müller designed with the marketing department in Munich last year. "
    "Further details on each region follow in the next section of this report."
)
COLUMN_LEFT = (POSITIVE, "Left column, second paragraph: the Seattle office hired ten engineers in April.")
COLUMN_RIGHT = (NEGATIVE, "Right column, second paragraph: the Berlin lease ends on December 31, 2026.")
SCAN_HEADER = "Customer Letter"
SCAN_PARAGRAPHS = (
    "Thank you for the excellent service. The staff in Lisbon were kind and helpful.",
    "The delivery from Contoso was late and the box was broken. This is not acceptable.",
)


def write_samples(root: Path) -> list[Path]:
    """Write the samples under ``root`` and return their paths (in :data:`SAMPLE_FILES` order)."""
    root.mkdir(parents=True, exist_ok=True)
    paths = [root / name for name in SAMPLE_FILES]
    _report(paths[0])
    _columns(paths[1])
    _scan(paths[2])
    return paths


def _report(path: Path) -> None:
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen.canvas import Canvas

    width, height = A4
    canvas = Canvas(str(path), pagesize=A4)
    continued = textwrap.wrap(CONTINUED, 85)

    def furniture(number: int) -> None:
        canvas.setFont("Helvetica", 9)
        canvas.drawString(72, height - 40, RUNNING_HEADER)
        canvas.drawString(72, 30, FOOTER)
        canvas.drawRightString(width - 72, 30, str(number))

    def paragraph(lines: list[str], y: float) -> float:
        canvas.setFont("Helvetica", 11)
        for line in lines:
            canvas.drawString(72, y, line)
            y -= 14
        return y - 10

    def header(text: str, y: float) -> float:
        canvas.setFont("Helvetica-Bold", 14)
        canvas.drawString(72, y, text)
        return y - 24

    furniture(1)
    canvas.setFont("Helvetica-Bold", 22)
    canvas.drawString(72, height - 100, TITLE)
    y = header("Summary", height - 140)
    for text in (POSITIVE, NEGATIVE):
        y = paragraph(textwrap.wrap(text, 85), y)
    y = header("Regional Results", y - 6)
    y = paragraph(textwrap.wrap(NEUTRAL, 85), y)
    y = paragraph(continued[:3], y)  # the paragraph goes on at the top of page 2
    canvas.showPage()
    furniture(2)
    y = paragraph(continued[3:], height - 90)
    y = header("Summary", y - 6)
    paragraph(textwrap.wrap(POSITIVE, 85), y)
    canvas.showPage()
    canvas.save()


def _columns(path: Path) -> None:
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen.canvas import Canvas

    width, height = A4
    canvas = Canvas(str(path), pagesize=A4)
    canvas.setFont("Helvetica-Bold", 22)
    canvas.drawCentredString(width / 2, height - 90, "Two Offices, Two Stories")
    for x, texts in ((72.0, COLUMN_LEFT), (width / 2 + 18, COLUMN_RIGHT)):
        y = height - 140
        canvas.setFont("Helvetica", 11)
        for text in texts:
            for line in textwrap.wrap(text, 38):
                canvas.drawString(x, y, line)
                y -= 14
            y -= 12
    canvas.showPage()
    canvas.save()


def _scan(path: Path) -> None:
    from PIL import Image, ImageDraw, ImageFont

    image = Image.new("RGB", (1240, 900), "white")
    draw = ImageDraw.Draw(image)
    big, body = ImageFont.load_default(size=80), ImageFont.load_default(size=34)
    draw.text((80, 70), SCAN_HEADER, fill="black", font=big)
    y = 200
    for text in SCAN_PARAGRAPHS:
        for line in textwrap.wrap(text, 52):
            draw.text((80, y), line, fill="black", font=body)
            y += 52
        y += 40
    image.save(path, format="PNG")
