"""Words and lines of a PDF's text layer (pdfplumber), with their real geometry normalised to the page.

A PDF with a text layer needs no OCR: its words and their boxes are exact, so they are reported with a high
confidence. A page with no text at all (a scanned page inside a PDF) is rendered and read by OCR instead, as
Textract reads scanned PDFs.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

from sagestep.local.services.textract.blocks import Line, PageText, Word

#: Confidence of words read from a text layer (exact, but Textract never reports 100).
TEXT_LAYER_CONFIDENCE = 99.9
#: Words on one baseline further apart than this many times their size start a new line (a column gutter, or a
#: footer and a page number on one baseline); Textract splits lines at such gaps too.
LINE_GAP = 1.5
#: Render a page without a text layer at this resolution for OCR.
OCR_DPI = 150


class UnreadableDocument(Exception):
    """Not a PDF that can be read (Textract's UNSUPPORTED_DOCUMENT)."""


def group_lines(
    words: list[dict[str, Any]], width: float, height: float, x0: float = 0.0, y0: float = 0.0
) -> list[Line]:
    """pdfplumber's words (``x0``, ``x1``, ``top``, ``bottom``, ``size``, ``fontname``) as lines: words whose
    bottoms are within a third of their size of each other share a baseline; a baseline is split where the gap
    between two words exceeds :data:`LINE_GAP` times their size. Lines are returned top to bottom."""
    rows: list[list[dict[str, Any]]] = []
    for word in sorted(words, key=lambda w: (float(w["bottom"]), float(w["x0"]))):
        size = float(word.get("size") or word["bottom"] - word["top"])
        if rows and abs(float(word["bottom"]) - float(rows[-1][0]["bottom"])) <= size / 3:
            rows[-1].append(word)
        else:
            rows.append([word])
    lines: list[Line] = []
    for row in rows:
        row.sort(key=lambda w: float(w["x0"]))
        current: list[dict[str, Any]] = []
        for word in row:
            size = float(word.get("size") or word["bottom"] - word["top"])
            if current and float(word["x0"]) - float(current[-1]["x1"]) > LINE_GAP * size:
                lines.append(_line(current, width, height, x0, y0))
                current = []
            current.append(word)
        if current:
            lines.append(_line(current, width, height, x0, y0))
    return lines


def _line(words: list[dict[str, Any]], width: float, height: float, x0: float, y0: float) -> Line:
    sizes = [float(w.get("size") or w["bottom"] - w["top"]) for w in words]
    bold = all("bold" in str(w.get("fontname", "")).lower() for w in words)
    return Line(
        words=[
            Word(
                text=str(w["text"]),
                left=(float(w["x0"]) - x0) / width,
                top=(float(w["top"]) - y0) / height,
                right=(float(w["x1"]) - x0) / width,
                bottom=(float(w["bottom"]) - y0) / height,
                confidence=TEXT_LAYER_CONFIDENCE,
            )
            for w in words
        ],
        size=max(sizes),
        bold=bold,
    )


def page_count(data: bytes) -> int:
    """The number of pages of a PDF (raises :class:`UnreadableDocument`)."""
    import pdfplumber

    try:
        with pdfplumber.open(io.BytesIO(data)) as pdf:
            return len(pdf.pages)
    except Exception as exc:
        raise UnreadableDocument(str(exc)) from None


def read_pdf(data: bytes, ocr_image: Callable[[Any, int], PageText], skip: set[int] | None = None) -> list[PageText]:
    """Every page of the PDF ``data`` (except the 1-based numbers in ``skip``) as lines; a page without a text
    layer goes through ``ocr_image(pil_image, page_number)``."""
    import pdfplumber

    pages: list[PageText] = []
    try:
        with pdfplumber.open(io.BytesIO(data)) as pdf:
            for number, page in enumerate(pdf.pages, start=1):
                if skip and number in skip:
                    continue
                words = page.extract_words(extra_attrs=["size", "fontname"], keep_blank_chars=False)
                if not words and (page.images or page.rects or page.curves):
                    rendered = page.to_image(resolution=OCR_DPI).original
                    pages.append(ocr_image(rendered, number))
                    continue
                x0, y0, x1, y1 = (float(v) for v in page.bbox)
                pages.append(PageText(number, group_lines(words, x1 - x0, y1 - y0, x0, y0)))
    except Exception as exc:
        if pages or isinstance(exc, MemoryError):
            raise
        raise UnreadableDocument(str(exc)) from None
    return pages
