"""A heuristic layout analysis: reading order and LAYOUT_* elements from the lines' geometry and text size.

Textract's layout model is a neural network; this is a small set of documented rules that give the same kinds of
elements on clean, born-digital documents (and on simple scans), so that code reading Textract's layout output can
be exercised locally. The rules, in the order they are applied to each page:

1. **Body size**: the document's body text size is the median text size over all characters (so that titles and
   footnotes do not move it).
2. **Margins**: a line whose middle is in the top :data:`TOP_MARGIN` (bottom :data:`BOTTOM_MARGIN`) of the page is
   a margin line. Digits only (or "Page 3", "3 of 9", "- 3 -") → ``LAYOUT_PAGE_NUMBER``; otherwise, if its text
   (digits ignored) is repeated in the margins of another page, or it is no bigger than the body text →
   ``LAYOUT_HEADER`` (top) / ``LAYOUT_FOOTER`` (bottom). Other margin lines (a big title near the top) are content.
3. **Columns**: a gutter is a vertical band in the middle of the page crossed only by lines that stand alone at
   their height, with at least two lines on its right beside lines on its left. Lines crossing it (a title over
   both columns) split the page into sections; each section is read left column first, then right column
   (Textract's reading order for multi-column pages). Without a gutter, lines are read top to bottom.
4. **Kinds**: a content line at least :data:`TITLE_RATIO` times the body size → ``LAYOUT_TITLE``; at least
   :data:`HEADING_RATIO` times, or bold, short and without a final full stop → ``LAYOUT_SECTION_HEADER``; else text.
5. **Paragraphs**: consecutive lines of the same kind in one column form one element unless the space between
   them exceeds :data:`PARAGRAPH_GAP` times the upper line's height (or their size changes): ``LAYOUT_TEXT`` for text.

Elements come in reading order: headers, the content, then footers and page numbers, each margin left to right.
The page's LINEs are put in the same order. Tables, lists, figures and key-values are not detected.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from sagestep.local.services.textract.blocks import LayoutElement, Line, PageText

TOP_MARGIN = 0.07
BOTTOM_MARGIN = 0.07
TITLE_RATIO = 1.5
HEADING_RATIO = 1.15
PARAGRAPH_GAP = 0.7
#: Confidence reported for the layout elements (a heuristic is less sure than a text layer).
LAYOUT_CONFIDENCE = 85.0

_PAGE_NUMBER = re.compile(
    r"^(page\s*)?[-\u2013\u2014]?\s*\d{1,5}\s*([-\u2013\u2014]|(of|/)\s*\d{1,5})?$", re.IGNORECASE
)


def body_size(lines: Sequence[Line]) -> float:
    """The median text size over all characters of ``lines`` (1.0 without any)."""
    sizes = sorted((line.size, len(line.text)) for line in lines)
    total = sum(count for _, count in sizes)
    seen = 0
    for size, count in sizes:
        seen += count
        if seen * 2 >= total:
            return size
    return 1.0


def _margin_key(line: Line) -> str:
    return re.sub(r"\d+", "#", line.text.lower()).strip()


def _margin(line: Line) -> str | None:
    if line.middle < TOP_MARGIN:
        return "top"
    if line.middle > 1 - BOTTOM_MARGIN:
        return "bottom"
    return None


def analyse(pages: Sequence[PageText]) -> None:
    """Put every page's lines in reading order and find its layout elements (see the module docstring)."""
    all_lines = [line for page in pages for line in page.lines]
    body = body_size(all_lines)
    seen_on: dict[str, set[int]] = {}
    for page in pages:
        for line in page.lines:
            if _margin(line):
                seen_on.setdefault(_margin_key(line), set()).add(page.number)
    for page in pages:
        top: list[LayoutElement] = []
        bottom: list[LayoutElement] = []
        content: list[Line] = []
        for line in page.lines:
            side = _margin(line)
            kind = None
            if side and _PAGE_NUMBER.match(line.text.strip()):
                kind = "LAYOUT_PAGE_NUMBER"
            elif side and (len(seen_on.get(_margin_key(line), ())) > 1 or line.size <= body * 1.05):
                kind = "LAYOUT_HEADER" if side == "top" else "LAYOUT_FOOTER"
            if kind is None:
                content.append(line)
            else:
                (top if side == "top" else bottom).append(LayoutElement(kind, [line], LAYOUT_CONFIDENCE))
        top.sort(key=lambda element: (element.lines[0].top, element.lines[0].left))
        bottom.sort(key=lambda element: (element.lines[0].left, element.lines[0].top))
        elements = top + [element for flow in reading_flows(content) for element in _elements(flow, body)] + bottom
        page.layout = elements
        page.lines = [line for element in elements for line in element.lines]


def find_gutter(lines: Sequence[Line]) -> float | None:
    """The x of a gutter between two columns (see rule 3), or None for a single-column page.

    A candidate x (between a quarter and three quarters of the page's width) is a gutter if every line crossing it
    stands alone at its height (a title over both columns) and at least two lines right of it sit beside lines
    left of it; of the runs of such x, the widest wins and its middle is the gutter.
    """
    best: tuple[float, float] | None = None  # (width of the run, its middle)
    start: float | None = None
    for step in range(102):
        x = 0.25 + step * 0.005
        ok = step <= 100 and _is_gutter(lines, x)
        if ok and start is None:
            start = x
        elif not ok and start is not None:
            if best is None or x - start > best[0]:
                best = (x - start, (start + x - 0.005) / 2)
            start = None
    return best[1] if best else None


def _overlap(a: Line, b: Line) -> bool:
    return a.top < b.bottom and b.top < a.bottom


def _is_gutter(lines: Sequence[Line], x: float) -> bool:
    left = [line for line in lines if line.right <= x]
    right = [line for line in lines if line.left >= x]
    sides = left + right
    for line in lines:
        if line.left < x < line.right and any(_overlap(line, other) for other in sides):
            return False
    paired = [r for r in right if any(_overlap(r, other) for other in left)]
    return len(left) >= 2 and len(paired) >= 2


def reading_flows(lines: Sequence[Line]) -> list[list[Line]]:
    """The lines as runs that are read top to bottom, in reading order (rule 3): in a multi-column section, the
    left column's lines, then the right column's; a line across the gutter is a run of its own."""
    ordered = sorted(lines, key=lambda line: (line.top, line.left))
    gutter = find_gutter(ordered)
    if gutter is None:
        return [ordered] if ordered else []
    flows: list[list[Line]] = []
    left: list[Line] = []
    right: list[Line] = []

    def flush() -> None:
        flows.extend(run for run in (list(left), list(right)) if run)
        left.clear()
        right.clear()

    for line in ordered:
        if line.left < gutter < line.right:
            flush()
            flows.append([line])
        elif line.right <= gutter:
            left.append(line)
        else:
            right.append(line)
    flush()
    return flows


def _kind(line: Line, body: float) -> str:
    if line.size >= body * TITLE_RATIO:
        return "LAYOUT_TITLE"
    short_bold = line.bold and len(line.words) <= 8 and not line.text.rstrip().endswith(".")
    if line.size >= body * HEADING_RATIO or short_bold:
        return "LAYOUT_SECTION_HEADER"
    return "LAYOUT_TEXT"


def _elements(flow: Sequence[Line], body: float) -> list[LayoutElement]:
    """Rule 4 and 5 over one run of lines read top to bottom."""
    elements: list[LayoutElement] = []
    previous: Line | None = None
    for line in flow:
        kind = _kind(line, body)
        last = elements[-1] if elements else None
        joins = (
            last is not None
            and previous is not None
            and last.kind == kind
            and abs(line.size - previous.size) <= 0.1 * previous.size
            and line.top - previous.bottom <= PARAGRAPH_GAP * (previous.bottom - previous.top)
        )
        if joins and last is not None:
            last.lines.append(line)
        else:
            elements.append(LayoutElement(kind, [line], LAYOUT_CONFIDENCE))
        previous = line
    return elements
