"""Small sample documents of every content type batch translation accepts, for tests, the demo and benchmarks.

They are generated with the format libraries (not checked in as binaries) so that they are always valid for the
installed versions, and they carry what a translation must keep: bold and italic runs, tables, formulas,
scripts, inline XLIFF tags and placeholders.
"""

from __future__ import annotations

import pathlib

#: Where each sample goes under the root (the unsupported ``notes/readme.md`` is left out of every job).
SAMPLE_FILES = (
    "report.docx",
    "slides/deck.pptx",
    "data/figures.xlsx",
    "web/index.html",
    "l10n/strings.xlf",
    "notes/hello.txt",
    "notes/readme.md",
)

HTML = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Welcome</title>
<style>body { font-family: sans-serif; }</style></head>
<body><h1>Hello, {name}!</h1><p>Read the <a href="https://example.com/docs" title="Documentation">guide</a>.</p>
<img src="logo.png" alt="Company logo"><script>var greeting = "do not translate";</script>
<pre>print("code stays")</pre></body></html>
"""

XLIFF = """<?xml version="1.0" encoding="UTF-8"?>
<xliff version="1.2" xmlns="urn:oasis:names:tc:xliff:document:1.2">
  <file original="strings.properties" source-language="en" datatype="plaintext">
    <body>
      <trans-unit id="greeting"><source>Hello <g id="1">dear</g> %s, welcome<x id="2"/> back.</source></trans-unit>
      <trans-unit id="save"><source>Save <ph id="3">&lt;b&gt;</ph>changes</source><target>old</target></trans-unit>
    </body>
  </file>
</xliff>
"""

TEXT = "Hello {name},\n\nYour order 1234 has shipped.\nContact support@example.com for help.\n"


def _docx(path: pathlib.Path) -> None:
    import docx

    document = docx.Document()
    document.add_heading("Quarterly report", level=1)
    paragraph = document.add_paragraph("Sales grew ")
    paragraph.add_run("strongly").bold = True
    paragraph.add_run(" in the ")
    paragraph.add_run("north").italic = True
    paragraph.add_run(" region.")
    table = document.add_table(rows=2, cols=2)
    for (row, col), text in {(0, 0): "Region", (0, 1): "Revenue", (1, 0): "North", (1, 1): "42"}.items():
        table.cell(row, col).text = text
    document.sections[0].footer.paragraphs[0].text = "Confidential"
    document.save(str(path))


def _pptx(path: pathlib.Path) -> None:
    import pptx

    presentation = pptx.Presentation()
    slide = presentation.slides.add_slide(presentation.slide_layouts[1])  # title and content
    slide.shapes.title.text = "Product launch"
    body = slide.placeholders[1].text_frame
    body.text = "Faster setup"
    body.add_paragraph().text = "Lower cost"
    slide.notes_slide.notes_text_frame.text = "Mention the pilot customers."
    presentation.save(str(path))


def _xlsx(path: pathlib.Path) -> None:
    import openpyxl
    from openpyxl.styles import Font

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "Sales"
    sheet.append(["Product", "Units", "Price"])
    sheet.append(["Blue chair", 3, 19.5])
    sheet.append(["Red table", 1, 120])
    sheet.append(["Total", "=SUM(B2:B3)", None])
    sheet["A1"].font = Font(bold=True)
    sheet["C2"].number_format = "0.00"
    workbook.save(str(path))


def write_samples(root: pathlib.Path) -> list[pathlib.Path]:
    """Write the samples (:data:`SAMPLE_FILES`) under ``root``; return their paths in that order."""
    writers = {
        "report.docx": _docx,
        "slides/deck.pptx": _pptx,
        "data/figures.xlsx": _xlsx,
        "web/index.html": lambda path: path.write_text(HTML, encoding="utf-8"),
        "l10n/strings.xlf": lambda path: path.write_text(XLIFF, encoding="utf-8"),
        "notes/hello.txt": lambda path: path.write_text(TEXT, encoding="utf-8"),
        "notes/readme.md": lambda path: path.write_text("# Notes\n\nNot a format Translate reads.\n", "utf-8"),
    }
    paths = []
    for name in SAMPLE_FILES:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        writers[name](path)
        paths.append(path)
    return paths
