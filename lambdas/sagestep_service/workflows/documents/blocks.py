"""Reading the ``Blocks`` of a Textract document analysis into pages, lines and layout elements with their geometry.

The shapes relied on (checked against the Textract developer guide's "Layout response objects" and a saved
``AnalyzeDocument`` response with ``LAYOUT``):

- ``PAGE`` lists its ``LINE`` children and, when ``LAYOUT`` was asked for, its ``LAYOUT_*`` children *after* the
  lines, in the reading order Textract chose (left column top to bottom, then the next column). That list is
  the only order that does not depend on the order of the ``Blocks`` list, so it is the one used.
- ``LINE`` has ``Text`` and a ``CHILD`` relationship to its ``WORD`` blocks; the words are not needed here.
- ``LAYOUT_*`` blocks have no ``Text``; their ``CHILD`` ids are ``LINE`` ids, except ``LAYOUT_LIST``, whose
  children are ``LAYOUT_TEXT`` blocks (one per item) that also appear in the page's children.
- ``Page`` is present on every block of ``GetDocumentAnalysis`` (asynchronous, many pages); the synchronous
  ``AnalyzeDocument`` omits it (one page). Without it a block belongs to the ``PAGE`` that lists it, and a
  ``PAGE`` without ``Page`` is numbered by its position among the ``PAGE`` blocks.

Geometry is Textract's: ratios of the page's width and height, ``Top`` growing downwards. Blocks of other
types (``WORD``, ``TABLE``, ``CELL``, ``KEY_VALUE_SET``, ``SELECTION_ELEMENT``, ...) are ignored.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

LAYOUT_PREFIX = "LAYOUT_"
_T = TypeVar("_T", "Line", "LayoutElement")


@dataclass(frozen=True)
class Rect:
    """A bounding box on one page (ratios of the page's width and height)."""

    page: int
    left: float
    top: float
    width: float
    height: float

    @property
    def right(self) -> float:
        return self.left + self.width

    @property
    def bottom(self) -> float:
        return self.top + self.height

    @property
    def middle(self) -> float:
        """The vertical centre."""
        return self.top + self.height / 2

    def overlaps_horizontally(self, other: Rect) -> bool:
        return self.left < other.right and other.left < self.right

    @staticmethod
    def union(rects: Sequence[Rect]) -> Rect:
        """The smallest box holding ``rects`` (all on one page, which is the first one's)."""
        left = min(r.left for r in rects)
        top = min(r.top for r in rects)
        right = max(r.right for r in rects)
        bottom = max(r.bottom for r in rects)
        return Rect(rects[0].page, left, top, right - left, bottom - top)


@dataclass(frozen=True)
class Line:
    """A ``LINE`` block: its text and box."""

    id: str
    page: int
    text: str
    rect: Rect
    confidence: float = 100.0

    @property
    def words(self) -> int:
        return len(self.text.split())


@dataclass(frozen=True)
class LayoutElement:
    """A ``LAYOUT_*`` block: its type, box and lines in Textract's order. A list holds its items' lines as
    ``items`` (one tuple of lines per ``LAYOUT_TEXT`` item) and all of them in ``lines``."""

    id: str
    kind: str
    page: int
    rect: Rect
    lines: tuple[Line, ...]
    items: tuple[tuple[Line, ...], ...] = ()


@dataclass(frozen=True)
class Page:
    """One page: its lines (in the order of the ``PAGE`` block's children, else by position) and its layout
    elements in reading order (empty when the analysis had no ``LAYOUT`` feature)."""

    number: int
    lines: tuple[Line, ...]
    layout: tuple[LayoutElement, ...] = ()


@dataclass(frozen=True)
class Document:
    pages: tuple[Page, ...] = field(default_factory=tuple)

    @property
    def has_layout(self) -> bool:
        return any(page.layout for page in self.pages)

    @property
    def lines(self) -> list[Line]:
        return [line for page in self.pages for line in page.lines]


def _children(block: Mapping[str, Any]) -> list[str]:
    ids: list[str] = []
    for relationship in block.get("Relationships") or []:
        if relationship.get("Type") == "CHILD":
            ids.extend(str(i) for i in relationship.get("Ids") or [])
    return ids


def _rect(block: Mapping[str, Any], page: int) -> Rect:
    box = (block.get("Geometry") or {}).get("BoundingBox") or {}
    return Rect(
        page,
        float(box.get("Left", 0.0)),
        float(box.get("Top", 0.0)),
        float(box.get("Width", 0.0)),
        float(box.get("Height", 0.0)),
    )


def _position(item: Line | LayoutElement) -> tuple[float, float, str]:
    """A total order by position: top, then left, then id (so ties never depend on the input's order)."""
    return (round(item.rect.top, 4), round(item.rect.left, 4), item.id)


def read_blocks(blocks: Iterable[Mapping[str, Any]]) -> Document:
    """The pages of a document from all its blocks (any order). Lines without text are skipped; a line or
    layout element that names a missing child keeps the children that exist."""
    by_id: dict[str, Mapping[str, Any]] = {}
    page_blocks: list[Mapping[str, Any]] = []
    for block in blocks:
        if "Id" in block:
            by_id[str(block["Id"])] = block
        if block.get("BlockType") == "PAGE":
            page_blocks.append(block)

    # Page numbers: the block's own, else the PAGE that lists it, else the only page.
    page_number: dict[str, int] = {}
    page_children: dict[int, list[str]] = {}
    for position, block in enumerate(page_blocks, start=1):
        number = int(block.get("Page") or position)
        page_children.setdefault(number, []).extend(_children(block))
        for child in _children(block):
            page_number.setdefault(child, number)

    def page_of(block_id: str, block: Mapping[str, Any]) -> int:
        return int(block.get("Page") or page_number.get(block_id) or 1)

    lines: dict[str, Line] = {}
    layouts: dict[str, Mapping[str, Any]] = {}
    for block_id, block in by_id.items():
        kind = str(block.get("BlockType", ""))
        if kind == "LINE":
            text = " ".join(str(block.get("Text") or "").split())
            if text:
                page = page_of(block_id, block)
                lines[block_id] = Line(block_id, page, text, _rect(block, page), float(block.get("Confidence", 100.0)))
        elif kind.startswith(LAYOUT_PREFIX):
            layouts[block_id] = block

    def lines_of(block: Mapping[str, Any]) -> tuple[Line, ...]:
        return tuple(lines[i] for i in _children(block) if i in lines)

    elements: dict[str, LayoutElement] = {}
    in_list: set[str] = set()
    for block_id, block in layouts.items():
        kind = str(block["BlockType"])
        page = page_of(block_id, block)
        items: tuple[tuple[Line, ...], ...] = ()
        own = lines_of(block)
        if kind == "LAYOUT_LIST":
            item_ids = [i for i in _children(block) if i in layouts]
            in_list.update(item_ids)
            items = tuple(lines_of(layouts[i]) for i in item_ids)
            items = tuple(item for item in items if item)
            if own:  # a list whose children are lines: each line an item
                items = items + tuple((line,) for line in own)
            own = tuple(line for item in items for line in item)
        elements[block_id] = LayoutElement(block_id, kind, page, _rect(block, page), own, items)

    pages: list[Page] = []
    # Lines and layout elements by page once: looking them up per page keeps reading linear in the blocks.
    lines_by_page: dict[int, list[Line]] = {}
    for line in lines.values():
        lines_by_page.setdefault(line.page, []).append(line)
    elements_by_page: dict[int, list[Any]] = {}
    for element in elements.values():
        elements_by_page.setdefault(element.page, []).append(element)
    numbers = sorted(set(lines_by_page) | set(elements_by_page) | set(page_children))
    for number in numbers:
        listed = page_children.get(number, [])
        listed_set = set(listed)
        page_lines = [lines[i] for i in listed if i in lines and lines[i].page == number]
        page_lines += sorted(
            (line for line in lines_by_page.get(number, []) if line.id not in listed_set), key=_position
        )
        page_layout = [elements[i] for i in listed if i in elements and elements[i].page == number]
        page_layout += sorted((e for e in elements_by_page.get(number, []) if e.id not in listed_set), key=_position)
        page_layout = [e for e in page_layout if e.id not in in_list]
        pages.append(Page(number, tuple(_unique(page_lines)), tuple(_unique(page_layout))))
    return Document(tuple(pages))


def _unique(items: list[_T]) -> list[_T]:
    seen: set[str] = set()
    out: list[_T] = []
    for item in items:
        if item.id not in seen:
            seen.add(item.id)
            out.append(item)
    return out


def continuous(before: Line, after: Line) -> bool:
    """``after`` follows ``before`` down the same column: same page, below it, overlapping it horizontally."""
    return (
        before.page == after.page
        and after.rect.top >= before.rect.top + before.rect.height / 2
        and before.rect.overlaps_horizontally(after.rect)
    )


def gap(before: Line, after: Line) -> float:
    """The space between ``before``'s bottom and ``after``'s top (none when they overlap)."""
    return max(0.0, after.rect.top - before.rect.bottom)


# --- page furniture ---------------------------------------------------------------------------------------------

#: Short lines whose centre is within this fraction of the page's top or bottom edge are running heads or
#: feet: body text starts below a top margin of about an inch (9% of a letter page) and ends above the bottom
#: one, and 6% keeps clear of it.
EDGE_ZONE = 0.06
#: ... "short" there: narrower than half the page (a running head is narrower than the text block).
EDGE_SHORT_WIDTH = 0.5
#: Running heads and feet repeat within this fraction of the page from its top or bottom edge (wider than the
#: edge zone: a repeated line is furniture even in a deep margin), and digits-only lines there are page numbers
#: (a digits-only line in the body is more likely a figure in a table than furniture).
MARGIN_ZONE = 0.15
#: A repeated line is at the same position on two pages when their centres are this close (1.5% of the page).
SAME_POSITION = 0.015
_PAGE_NUMBER = re.compile(
    r"^(?:(?:page|p\.|seite|página|pagina)\s*\d{1,4}(?:\s*(?:of|/|von|de|di|sur)\s*\d{1,4})?"
    r"|[-\u2013\u2014(\[]?\s*\d{1,4}\s*(?:/\s*\d{1,4})?\s*[-\u2013\u2014)\]]?)$",
    re.IGNORECASE,
)
_DIGITS = re.compile(r"\d+")


def _normalise(text: str) -> str:
    """Text for comparing running heads: case, spacing and numbers (page numbers, dates) ignored."""
    return _DIGITS.sub("#", " ".join(text.lower().split()))


def page_furniture(document: Document) -> tuple[dict[int, list[Line]], list[tuple[Line, str]]]:
    """The lines each page keeps, and the lines dropped with their reason, in page then position order.

    A line is dropped as

    - ``page number``: "Page N", "Page N of M", "N / M", "- N -" anywhere; a bare number (digits only) in the
      top or bottom ``MARGIN_ZONE``;
    - ``page header`` / ``page footer`` (by the half of the page it is in): the same text (numbers ignored) at
      the same position (``SAME_POSITION``) within the ``MARGIN_ZONE`` on at least two pages and more than half
      of them ("most pages"); or a short line (``EDGE_SHORT_WIDTH``) within ``EDGE_ZONE`` of the top or bottom.
    """
    pages = len(document.pages)
    candidates: dict[str, list[Line]] = {}
    for line in document.lines:
        if line.rect.middle < MARGIN_ZONE or line.rect.middle > 1 - MARGIN_ZONE:
            candidates.setdefault(_normalise(line.text), []).append(line)
    repeated: set[str] = set()
    for lines in candidates.values():
        for line in lines:
            near = {o.page for o in lines if abs(o.rect.middle - line.rect.middle) <= SAME_POSITION}
            if len(near) >= 2 and 2 * len(near) > pages:
                repeated.add(line.id)
    kept: dict[int, list[Line]] = {}
    dropped: list[tuple[Line, str]] = []
    for page in document.pages:
        kept[page.number] = []
        for line in sorted(page.lines, key=_position):
            reason = _furniture(line, repeated)
            if reason is None:
                kept[page.number].append(line)
            else:
                dropped.append((line, reason))
    return kept, dropped


def _furniture(line: Line, repeated: set[str]) -> str | None:
    middle = line.rect.middle
    in_margin = middle < MARGIN_ZONE or middle > 1 - MARGIN_ZONE
    text = line.text.strip()
    if _PAGE_NUMBER.match(text) and (in_margin or not text.isdigit()):
        return "page number"
    edge = (middle < EDGE_ZONE or middle > 1 - EDGE_ZONE) and line.rect.width < EDGE_SHORT_WIDTH
    if line.id in repeated or edge:
        return "page header" if middle < 0.5 else "page footer"
    return None


# --- reading order ----------------------------------------------------------------------------------------------

#: Candidate gutters are tried every half percent of the page width between these edges.
_GUTTER_STEP = 0.005
_GUTTER_RANGE = (0.15, 0.85)
#: A gutter is at least this wide (1.5% of the page, 3 mm on A4): Textract already splits a line at wide word
#: gaps, so two lines side by side with less between them are a table row, not columns.
MIN_GUTTER = 0.015
#: At most this fraction of a region's lines may cross a gutter (titles, full-width paragraphs, a footer).
MAX_CROSSING = 1 / 3


def reading_order(lines: Sequence[Line]) -> list[list[Line]]:
    """The lines of one page in reading order, as column runs: left column top to bottom, then the right.

    Columns are found by a vertical gutter: the x (tried every ``_GUTTER_STEP``) that the fewest lines cross,
    with at least two lines wholly on each side that sit side by side (overlap vertically), a clear gap of
    ``MIN_GUTTER`` and at most ``MAX_CROSSING`` of the lines crossing it. Lines crossing it (a title over both
    columns, a full-width paragraph) cut the page into bands read in turn: the left column of a band, its right
    column, then the crossing lines. Each column is split again the same way (three columns and more). Without
    a gutter lines are read top to bottom, then left to right, then by id.
    """
    return [run for run in _order(list(lines), 0) if run]


def _order(lines: list[Line], depth: int) -> list[list[Line]]:
    gutter = _gutter(lines) if depth < 4 else None
    if gutter is None:
        return [sorted(lines, key=_position)]
    left = [ln for ln in lines if ln.rect.right <= gutter]
    right = [ln for ln in lines if ln.rect.left >= gutter]
    crossing = sorted((ln for ln in lines if ln.rect.left < gutter < ln.rect.right), key=_position)
    runs: list[list[Line]] = []
    for line in [*crossing, None]:
        limit = line.rect.middle if line is not None else float("inf")
        band_left = [ln for ln in left if ln.rect.middle < limit]
        band_right = [ln for ln in right if ln.rect.middle < limit]
        left = [ln for ln in left if ln.rect.middle >= limit]
        right = [ln for ln in right if ln.rect.middle >= limit]
        if band_left:
            runs.extend(_order(band_left, depth + 1))
        if band_right:
            runs.extend(_order(band_right, depth + 1))
        if line is not None:
            if runs and not band_left and not band_right and runs[-1] and runs[-1][-1] in crossing:
                runs[-1].append(line)  # crossing lines one after another are one run
            else:
                runs.append([line])
    return runs


def _gutter(lines: Sequence[Line]) -> float | None:
    if len(lines) < 4:
        return None
    scored: list[tuple[int, float, float, float]] = []
    steps = round((_GUTTER_RANGE[1] - _GUTTER_RANGE[0]) / _GUTTER_STEP)
    for step in range(steps + 1):
        x = round(_GUTTER_RANGE[0] + step * _GUTTER_STEP, 4)
        left = [ln.rect.right for ln in lines if ln.rect.right <= x]
        right = [ln.rect.left for ln in lines if ln.rect.left >= x]
        crossing = len(lines) - len(left) - len(right)
        if len(left) < 2 or len(right) < 2 or crossing > MAX_CROSSING * len(lines):
            continue
        gap = min(right) - max(left)
        if gap >= MIN_GUTTER:
            scored.append((crossing, -round(gap, 4), abs(x - 0.5), x))
    for *_, x in sorted(scored):
        left_lines = [ln for ln in lines if ln.rect.right <= x]
        right_lines = [ln for ln in lines if ln.rect.left >= x]
        if any(a.rect.top < b.rect.bottom and b.rect.top < a.rect.bottom for a in left_lines for b in right_lines):
            return x
    return None
