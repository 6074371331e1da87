"""Paragraphs and their headers from a Textract document analysis (``segment``), by one of five techniques.

``layout`` reads Textract's own ``LAYOUT_*`` elements; the four line techniques (``font-size``, ``indentation``,
``line-spacing``, ``full-stop``) rebuild paragraphs from the geometry of ``LINE`` blocks. ``auto`` is ``layout``
when the analysis has layout elements (the ``LAYOUT`` feature) and ``font-size`` otherwise. Every technique:

- is deterministic: every order is total (ties broken by position, then block id), never a set's or the input
  list's, so the blocks in any order give the same result;
- keeps every section apart: paragraphs are a list, each carrying its header, so two sections titled
  "Summary" are two sections;
- keeps every line of text that is not page furniture: the first, the last and a trailing paragraph, and a
  header with nothing after it (a paragraph of its own);
- drops page furniture (``DroppedLine``): Textract's ``LAYOUT_HEADER`` / ``LAYOUT_FOOTER`` /
  ``LAYOUT_PAGE_NUMBER``, or for line techniques the rules of ``blocks.page_furniture``;
- reads columns in order (``blocks.reading_order``; Textract orders layout elements itself);
- joins a paragraph that goes on across a page or column break: the text before the break does not end a
  sentence and no header comes between (tables and figures between do not stop it). The paragraph lists
  both pages and a box on each;
- joins a hyphenated line end with the next line's start without the hyphen only when the next line starts in
  lower case ("docu-" + "ment" is "document"; "Anglo-" + "Saxon" stays "Anglo-Saxon").

Layout: ``LAYOUT_TITLE`` (level 1) and ``LAYOUT_SECTION_HEADER`` (level 2) are headers of the paragraphs after
them; ``LAYOUT_TEXT`` is a paragraph; ``LAYOUT_LIST`` is one paragraph, its items on lines of their own;
``LAYOUT_TABLE``, ``LAYOUT_FIGURE`` and ``LAYOUT_KEY_VALUE`` are kept out of the paragraphs (cells, labels in
images and form fields are not prose) and are not reported.
"""

from __future__ import annotations

import itertools
import re
import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ConfigDict

from sagestep_service.workflows.documents.blocks import (
    Document,
    Line,
    Rect,
    continuous,
    gap,
    page_furniture,
    read_blocks,
    reading_order,
)

TECHNIQUES = ("auto", "layout", "font-size", "indentation", "line-spacing", "full-stop")

#: A line at least this much taller than the body's median line is a header (``font-size``). Textract's line
#: heights of one font vary by some 5-10% (ascenders, descenders, capitals); 20% is a step of type size
#: (10 pt body, 12 pt heading) above that noise.
HEADER_HEIGHT_RATIO = 1.2
#: Header heights within this ratio of a level's tallest header are that level (the same noise as above).
LEVEL_HEIGHT_RATIO = 0.92
#: A gap above a line larger than this many typical line gaps (``_lower_quartile``) starts a paragraph ...
GAP_RATIO = 1.5
#: ... and at least this fraction of the median line height larger than the typical gap: with tight line
#: spacing the typical gap is near zero and a ratio alone would break at every jitter. A paragraph break of
#: even half a blank line clears it.
GAP_FLOOR = 0.4
#: A line is "short" (header-like) below this fraction of its column's width and at most this many words.
SHORT_WIDTH = 0.6
SHORT_WORDS = 12
#: A line starting farther than this from the column's dominant left margin (ratio of page width, about 4 mm on
#: A4) is indented or outdented (``indentation``); closer is the same margin read with OCR jitter.
MARGIN_TOLERANCE = 0.02
#: ``full-stop``: a sentence-ending line ends a paragraph when it stops short of its column's right edge by this
#: fraction of the column width (a paragraph's last line rarely fills it; a full line ending a sentence is
#: usually mid-paragraph).
LAST_LINE_SHORTFALL = 0.1

_SENTENCE_END = re.compile(r"[.!?\u2026:][\"'\u201d\u2019\u00bb)\]]*$")
_HEADER_END = re.compile(r"[.,;!?][\"'\u201d\u2019\u00bb)\]]*$")
_BULLET = "\u2022\u00b7-\u2013\u2014*\u25aa\u25e6\u25cf"


class Box(BaseModel):
    """Where (part of) a paragraph is on one page (ratios of the page's width and height)."""

    model_config = ConfigDict(frozen=True)

    page: int
    left: float
    top: float
    width: float
    height: float


class Paragraph(BaseModel):
    """One paragraph in reading order: its text, the header of its section, the pages and boxes it covers."""

    model_config = ConfigDict(frozen=True)

    index: int
    header: str | None
    headerLevel: int | None
    text: str
    pages: list[int]
    boxes: list[Box]
    lineCount: int


class DroppedLine(BaseModel):
    """A line left out as page furniture: ``page header``, ``page footer`` or ``page number``."""

    model_config = ConfigDict(frozen=True)

    page: int
    text: str
    reason: str


class Segmentation(BaseModel):
    """The paragraphs of a document and the lines dropped, with the technique used (``auto`` says which)."""

    model_config = ConfigDict(frozen=True)

    technique: str
    paragraphs: list[Paragraph]
    dropped: list[DroppedLine]


def segment(blocks: Iterable[Mapping[str, Any]], technique: str = "auto") -> Segmentation:
    """The paragraphs of a document from all the ``Blocks`` of its analysis (every page, any order).

    A document without text has no paragraphs (not an error). ``layout`` on blocks without layout elements
    finds nothing; ``auto`` falls back to ``font-size`` then.
    """
    if technique not in TECHNIQUES:
        raise ValueError(f"technique must be one of {', '.join(TECHNIQUES)}, not {technique!r}")
    document = read_blocks(blocks)
    if technique == "auto":
        technique = "layout" if document.has_layout else "font-size"
    if technique == "layout":
        pieces, dropped = _layout_pieces(document)
    else:
        pieces, dropped = _line_pieces(document, technique)
    return Segmentation(technique=technique, paragraphs=_assemble(pieces), dropped=dropped)


# --- text rules ------------------------------------------------------------------------------------------------


def ends_sentence(text: str) -> bool:
    """Ends with ``. ! ? … :``, closing quotes or brackets after it allowed (a colon ends a lead-in)."""
    return bool(_SENTENCE_END.search(text.rstrip()))


def starts_sentence(text: str) -> bool:
    """Starts with a capital, a digit or a bullet (after opening quotes or brackets)."""
    stripped = text.lstrip("\"'\u201c\u2018\u00ab([ ")
    return bool(stripped) and (stripped[0].isupper() or stripped[0].isdigit() or stripped[0] in _BULLET)


def starts_lower(text: str) -> bool:
    stripped = text.lstrip("\"'\u201c\u2018\u00ab([ ")
    return bool(stripped) and stripped[0].islower()


def join_lines(before: str, after: str) -> str:
    """``before`` and the next line's ``after``: a line-end hyphen joins without a space, and is removed only
    when ``after`` starts in lower case (a word broken at the margin, not a compound)."""
    if not before:
        return after
    if not after:
        return before
    if before[-1] in "-\u00ad" and len(before) > 1 and before[-2].isalpha():
        return (before[:-1] if starts_lower(after) else before.rstrip("\u00ad")) + after
    return f"{before} {after}"


# --- pieces: headers and runs of text in reading order ---------------------------------------------------------


@dataclass
class _Piece:
    """A header, or a run of a paragraph on one page and column. ``soft`` when it follows a page or column break
    (and may continue the paragraph before); ``separator`` joins its ``texts`` (lines, or a list's items)."""

    header: bool
    level: int | None
    texts: list[str]
    rects: list[Rect]
    line_count: int
    soft: bool = False
    separator: str = " "

    @property
    def text(self) -> str:
        if self.separator != " ":
            return self.separator.join(self.texts)
        text = ""
        for part in self.texts:
            text = join_lines(text, part)
        return text


@dataclass
class _Open:
    header: str | None
    level: int | None
    text: str
    rects: list[Rect] = field(default_factory=list)
    line_count: int = 0


def _assemble(pieces: Sequence[_Piece]) -> list[Paragraph]:
    """Paragraphs from pieces: a header is the header of the paragraphs after it until the next header; a soft
    piece continues the open paragraph when nothing came between and that paragraph's text does not end a
    sentence; a header nothing follows is a paragraph of its own."""
    out: list[_Open] = []
    header: str | None = None
    level: int | None = None
    header_rects: list[Rect] = []
    header_lines = 0
    header_used = True
    last_was_text = False
    for piece in pieces:
        text = piece.text
        if not text:
            continue
        if piece.header:
            if not header_used and header is not None:
                out.append(_Open(None, None, header, header_rects, header_lines))
            header, level, header_rects, header_lines = text, piece.level, list(piece.rects), piece.line_count
            header_used, last_was_text = False, False
            continue
        if last_was_text and piece.soft and out and not ends_sentence(out[-1].text):
            current = out[-1]
            current.text = join_lines(current.text, text)
            current.rects.extend(piece.rects)
            current.line_count += piece.line_count
        else:
            out.append(_Open(header, level, text, list(piece.rects), piece.line_count))
        header_used = True
        last_was_text = True
    if not header_used and header is not None:
        out.append(_Open(None, None, header, header_rects, header_lines))
    return [
        Paragraph(
            index=index,
            header=p.header,
            headerLevel=p.level,
            text=p.text,
            pages=sorted({r.page for r in p.rects}),
            boxes=_boxes(p.rects),
            lineCount=p.line_count,
        )
        for index, p in enumerate(out)
    ]


def _boxes(rects: Sequence[Rect]) -> list[Box]:
    """One box per run of the paragraph on a page (rects arrive one per run, in reading order)."""
    return [Box(page=r.page, left=r.left, top=r.top, width=r.width, height=r.height) for r in rects]


# --- layout -----------------------------------------------------------------------------------------------------

_DROPPED_LAYOUT = {
    "LAYOUT_HEADER": "page header",
    "LAYOUT_FOOTER": "page footer",
    "LAYOUT_PAGE_NUMBER": "page number",
}
_HEADER_LAYOUT = {"LAYOUT_TITLE": 1, "LAYOUT_SECTION_HEADER": 2}
_TEXT_LAYOUT = ("LAYOUT_TEXT", "LAYOUT_LIST")


def _layout_pieces(document: Document) -> tuple[list[_Piece], list[DroppedLine]]:
    """Pieces from the layout elements in Textract's reading order. A text element is soft (may continue the
    text before) when it is on a later page or starts above the previous text element (a new column)."""
    pieces: list[_Piece] = []
    dropped: list[DroppedLine] = []
    previous: Rect | None = None
    for page in document.pages:
        for element in page.layout:
            if not element.lines:
                continue
            if element.kind in _DROPPED_LAYOUT:
                reason = _DROPPED_LAYOUT[element.kind]
                dropped.extend(DroppedLine(page=line.page, text=line.text, reason=reason) for line in element.lines)
            elif element.kind in _HEADER_LAYOUT:
                texts = [line.text for line in element.lines]
                pieces.append(_Piece(True, _HEADER_LAYOUT[element.kind], texts, [element.rect], len(texts)))
                previous = None
            elif element.kind in _TEXT_LAYOUT:
                soft = previous is not None and (
                    element.page != previous.page or element.rect.top < previous.top - previous.height / 2
                )
                if element.kind == "LAYOUT_LIST":
                    items = [_Piece(False, None, [ln.text for ln in item], [], 0).text for item in element.items]
                    piece = _Piece(False, None, items, [element.rect], len(element.lines), soft, "\n")
                else:
                    texts = [line.text for line in element.lines]
                    piece = _Piece(False, None, texts, [element.rect], len(texts), soft)
                pieces.append(piece)
                previous = element.rect
    return pieces, dropped


# --- line techniques --------------------------------------------------------------------------------------------


@dataclass
class _Context:
    """Lines in reading order with what the rules measure: the body's median line height and gap, each line's
    column (left, right) and dominant left margin."""

    lines: list[Line]
    height: float
    gap: float
    column: dict[str, tuple[float, float]]
    margin: dict[str, float]

    @property
    def gap_threshold(self) -> float:
        return max(GAP_RATIO * self.gap, self.gap + GAP_FLOOR * self.height)

    def width(self, line: Line) -> float:
        left, right = self.column[line.id]
        return max(right - left, 1e-6)

    def short(self, line: Line) -> bool:
        return line.words <= SHORT_WORDS and line.rect.width < SHORT_WIDTH * self.width(line)


def _context(document: Document, kept: Mapping[int, list[Line]]) -> _Context:
    ordered: list[Line] = []
    column: dict[str, tuple[float, float]] = {}
    margin: dict[str, float] = {}
    for page in document.pages:
        lines = kept.get(page.number, [])
        if not lines:
            continue
        page_extent = (min(ln.rect.left for ln in lines), max(ln.rect.right for ln in lines))
        page_margin = _mode_left(lines)
        for group in reading_order(lines):
            big = len(group) >= 3
            extent = (min(ln.rect.left for ln in group), max(ln.rect.right for ln in group)) if big else page_extent
            group_margin = _mode_left(group) if big else page_margin
            for line in group:
                column[line.id] = extent
                margin[line.id] = group_margin
            ordered.extend(group)
    heights = [line.rect.height for line in ordered]
    gaps = [gap(a, b) for a, b in itertools.pairwise(ordered) if continuous(a, b)]
    return _Context(
        ordered,
        statistics.median(heights) if heights else 0.0,
        _lower_quartile(gaps),
        column,
        margin,
    )


def _lower_quartile(gaps: Sequence[float]) -> float:
    """The typical gap between lines of a paragraph: the lower quartile of the gaps between consecutive lines of
    a column, not their median, which in a document of two-line paragraphs is a paragraph break."""
    if len(gaps) < 2:
        return gaps[0] if gaps else 0.0
    return statistics.quantiles(gaps, n=4, method="inclusive")[0]


def _mode_left(lines: Sequence[Line]) -> float:
    """The most common left edge (to 1% of the page width); the leftmost of equally common ones."""
    counts: dict[float, int] = {}
    for line in lines:
        key = round(line.rect.left, 2)
        counts[key] = counts.get(key, 0) + 1
    return min(counts, key=lambda left: (-counts[left], left))


def _headers_by_height(ctx: _Context) -> dict[str, int]:
    """Lines at least ``HEADER_HEIGHT_RATIO`` times the median height and of at most 20 words (a tall paragraph
    is a quote, not a header), ranked by height: the tallest level 1. Heights are sorted, so levels do not
    depend on any set's order."""
    tall = [ln for ln in ctx.lines if ln.rect.height >= HEADER_HEIGHT_RATIO * ctx.height and ln.words <= 20]
    levels: list[float] = []  # each level's tallest height
    for height in sorted({ln.rect.height for ln in tall}, reverse=True):
        if not levels or height < levels[-1] * LEVEL_HEIGHT_RATIO:
            levels.append(height)

    def level(height: float) -> int:
        return max(i for i, top in enumerate(levels, start=1) if height <= top)

    return {ln.id: level(ln.rect.height) for ln in tall}


def _headers_by_indentation(ctx: _Context) -> dict[str, int]:
    """Short lines without end punctuation starting off their column's dominant left margin by more than
    ``MARGIN_TOLERANCE``: outdented or centred (level 1), or indented (level 2). A paragraph's short last line
    starts at the margin; its long first line is not short."""
    headers: dict[str, int] = {}
    for line in ctx.lines:
        offset = line.rect.left - ctx.margin[line.id]
        if abs(offset) <= MARGIN_TOLERANCE or not ctx.short(line) or _HEADER_END.search(line.text):
            continue
        left, right = ctx.column[line.id]
        centred = abs((line.rect.left + line.rect.right) / 2 - (left + right) / 2) < 0.05 * (right - left)
        headers[line.id] = 1 if offset < 0 or centred else 2
    return headers


def _shape_header(ctx: _Context, line: Line, following: Line | None) -> bool:
    """``line-spacing`` / ``full-stop`` headers: the first line of a run that is short, starts a sentence, has no
    end punctuation and is followed by a line starting a sentence."""
    return (
        following is not None
        and ctx.short(line)
        and starts_sentence(line.text)
        and not _HEADER_END.search(line.text)
        and starts_sentence(following.text)
    )


def _break(ctx: _Context, technique: str, before: Line, after: Line) -> bool:
    """A paragraph break between lines of one column: a gap over the threshold (every line technique); for
    ``full-stop`` also a sentence-ending line stopping short of the column edge followed by a new sentence."""
    if gap(before, after) > ctx.gap_threshold:
        return True
    if technique == "full-stop":
        left, right = ctx.column[before.id]
        return (
            ends_sentence(before.text)
            and starts_sentence(after.text)
            and before.rect.right < right - LAST_LINE_SHORTFALL * (right - left)
        )
    return False


def _line_pieces(document: Document, technique: str) -> tuple[list[_Piece], list[DroppedLine]]:
    kept, dropped_lines = page_furniture(document)
    dropped = [DroppedLine(page=line.page, text=line.text, reason=reason) for line, reason in dropped_lines]
    ctx = _context(document, kept)
    if technique == "font-size":
        headers = _headers_by_height(ctx)
    elif technique == "indentation":
        headers = _headers_by_indentation(ctx)
    else:
        headers = {}
    runs: list[tuple[int | None, list[Line], bool]] = []  # (header level, lines, soft)
    for index, line in enumerate(ctx.lines):
        level = headers.get(line.id)
        if index == 0:
            runs.append((level, [line], False))
            continue
        before = ctx.lines[index - 1]
        soft = not continuous(before, line)
        previous_level = headers.get(before.id)
        if level is not None or previous_level is not None:
            same_header = level == previous_level and not soft and gap(before, line) <= ctx.gap_threshold
            if same_header:
                runs[-1][1].append(line)
            else:
                runs.append((level, [line], soft))
        elif soft or _break(ctx, technique, before, line):
            runs.append((None, [line], soft))
        else:
            runs[-1][1].append(line)
    if technique in ("line-spacing", "full-stop"):
        runs = _split_shape_headers(ctx, runs)
    pieces = [
        _Piece(level is not None, level, [ln.text for ln in lines], _run_rects(lines), len(lines), soft)
        for level, lines, soft in runs
    ]
    return pieces, dropped


def _split_shape_headers(
    ctx: _Context, runs: list[tuple[int | None, list[Line], bool]]
) -> list[tuple[int | None, list[Line], bool]]:
    out: list[tuple[int | None, list[Line], bool]] = []
    for index, (level, lines, soft) in enumerate(runs):
        following = lines[1] if len(lines) > 1 else (runs[index + 1][1][0] if index + 1 < len(runs) else None)
        if level is None and _shape_header(ctx, lines[0], following):
            out.append((1, lines[:1], soft))
            if len(lines) > 1:
                out.append((None, lines[1:], False))
        else:
            out.append((level, lines, soft))
    return out


def _run_rects(lines: Sequence[Line]) -> list[Rect]:
    """One box per page of a run (a run is on one page and column; a header may not be)."""
    rects: list[Rect] = []
    for page in sorted({line.page for line in lines}):
        rects.append(Rect.union([line.rect for line in lines if line.page == page]))
    return rects
