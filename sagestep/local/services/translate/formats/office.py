"""The Office Open XML formats: docx (python-docx), pptx (python-pptx), xlsx (openpyxl).

docx and pptx are translated at their text elements (``w:t``, ``a:t``): each belongs to one run, whose
properties (bold, italic, font, style) sit beside it in the run and stay on the translated words; paragraphs,
tables (nested too), text boxes, group shapes and hyperlinks keep their structure because nothing but text
changes. Going down to the elements, rather than through ``paragraph.runs``, also reaches the runs inside
hyperlinks, fields and nested tables that the libraries' object model leaves out.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterable
from typing import Any

from sagestep.local.services.translate.formats.common import Batch, DocumentError, setter
from sagestep.local.services.translate.translator import TranslateTexts

_XML_SPACE = "{http://www.w3.org/XML/1998/namespace}space"


def _add_text_elements(batch: Batch, elements: Iterable[Any], preserve_space: bool) -> None:
    for element in elements:

        def put(text: str, element: Any = element) -> None:
            element.text = text
            if preserve_space and text != text.strip():
                element.set(_XML_SPACE, "preserve")  # Word drops a run's leading/trailing spaces without it

        batch.add(element.text, put)


def _open_error(kind: str, exc: Exception) -> DocumentError:
    return DocumentError(f"The {kind} document could not be opened: {type(exc).__name__}: {exc}")


# docx ----------------------------------------------------------------------------------------------------------

_WORD_PARTS = ("/word/document.xml", "/word/header", "/word/footer", "/word/footnotes.xml", "/word/endnotes.xml")


def translate_docx(data: bytes, translate: TranslateTexts) -> bytes:
    """Translate the body, headers and footers (and foot/endnotes python-docx parses) of a Word document."""
    import docx
    from docx.opc.part import XmlPart
    from docx.oxml.ns import qn

    try:
        document = docx.Document(io.BytesIO(data))
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise _open_error("docx", exc) from None
    except Exception as exc:  # python-docx raises its own errors (PackageNotFoundError, ...) for broken packages
        raise _open_error("docx", exc) from None
    batch = Batch()
    for part in document.part.package.iter_parts():
        if isinstance(part, XmlPart) and str(part.partname).startswith(_WORD_PARTS):
            _add_text_elements(batch, part.element.iter(qn("w:t")), preserve_space=True)
    batch.run(translate)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


# pptx ----------------------------------------------------------------------------------------------------------


def translate_pptx(data: bytes, translate: TranslateTexts) -> bytes:
    """Translate every slide's text (text frames, tables, group shapes) and its speaker notes."""
    import pptx
    from pptx.oxml.ns import qn

    try:
        presentation = pptx.Presentation(io.BytesIO(data))
    except Exception as exc:  # python-pptx raises zipfile, KeyError and its own errors for broken packages
        raise _open_error("pptx", exc) from None
    batch = Batch()
    for slide in presentation.slides:
        _add_text_elements(batch, slide.element.iter(qn("a:t")), preserve_space=False)
        if slide.has_notes_slide:
            _add_text_elements(batch, slide.notes_slide.element.iter(qn("a:t")), preserve_space=False)
    batch.run(translate)
    out = io.BytesIO()
    presentation.save(out)
    return out.getvalue()


# xlsx ----------------------------------------------------------------------------------------------------------


def translate_xlsx(data: bytes, translate: TranslateTexts) -> bytes:
    """Translate the string cells of every sheet; formulas (``data_type == "f"``), numbers, dates and booleans
    stay as they are, and so do styles, number formats and sheet names (formulas refer to sheets by name)."""
    import openpyxl

    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data))
    except Exception as exc:  # zipfile, KeyError and openpyxl's InvalidFileException for broken packages
        raise _open_error("xlsx", exc) from None
    batch = Batch()
    for sheet in workbook.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                if cell.data_type == "s" and isinstance(cell.value, str):
                    batch.add(cell.value, setter(cell, "value"))
    batch.run(translate)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
