"""The text found on a page (words, lines, layout elements) and its Textract ``Block`` objects.

Readers (:mod:`.pdf`, :mod:`.ocr`) produce :class:`PageText`s with coordinates already normalised to the page
(0..1 from the top-left corner, as Textract's geometry is), so the layout analysis (:mod:`.layout`) and the block
builder work the same for a PDF's text layer and for an image's OCR.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Word:
    """One word: its text, box (normalised, top-left origin) and confidence (0..100)."""

    text: str
    left: float
    top: float
    right: float
    bottom: float
    confidence: float


@dataclass
class Line:
    """Words on one baseline, left to right. ``size`` is the text's height in the reader's unit (font points for
    a PDF, pixels for an image): only compared with other lines of the same document."""

    words: list[Word]
    size: float
    bold: bool = False

    @property
    def text(self) -> str:
        return " ".join(word.text for word in self.words)

    @property
    def left(self) -> float:
        return min(word.left for word in self.words)

    @property
    def top(self) -> float:
        return min(word.top for word in self.words)

    @property
    def right(self) -> float:
        return max(word.right for word in self.words)

    @property
    def bottom(self) -> float:
        return max(word.bottom for word in self.words)

    @property
    def middle(self) -> float:
        return (self.top + self.bottom) / 2

    @property
    def confidence(self) -> float:
        return min(word.confidence for word in self.words)


@dataclass
class LayoutElement:
    """A layout element (``kind`` is a LAYOUT_* block type) made of ``lines``."""

    kind: str
    lines: list[Line]
    confidence: float


@dataclass
class PageText:
    """One page: its lines (in reading order once :func:`~.layout.analyse` ran) and layout elements."""

    number: int
    lines: list[Line]
    layout: list[LayoutElement] = field(default_factory=list)


def new_id() -> str:
    return str(uuid.uuid4())


def _clamp(value: float) -> float:
    return min(1.0, max(0.0, value))


def geometry(left: float, top: float, right: float, bottom: float) -> dict[str, Any]:
    """Textract's ``Geometry``: the bounding box (ratios of the page) and its 4-point polygon, clockwise from the
    top-left corner."""
    left, top, right, bottom = _clamp(left), _clamp(top), _clamp(right), _clamp(bottom)
    return {
        "BoundingBox": {"Width": right - left, "Height": bottom - top, "Left": left, "Top": top},
        "Polygon": [
            {"X": left, "Y": top},
            {"X": right, "Y": top},
            {"X": right, "Y": bottom},
            {"X": left, "Y": bottom},
        ],
    }


def _children(ids: list[str]) -> list[dict[str, Any]]:
    return [{"Type": "CHILD", "Ids": ids}] if ids else []


def page_blocks(page: PageText, with_layout: bool) -> list[dict[str, Any]]:
    """The blocks of one page, as Textract orders them: the PAGE, its LINEs, their WORDs, then (with LAYOUT) the
    layout elements in reading order.

    PAGE → CHILD → the LINE ids (and, with LAYOUT, the layout element ids after them, as Textract lists them);
    LINE → CHILD → its WORD ids; LAYOUT_* → CHILD → its LINE ids.
    """
    line_ids: dict[int, str] = {}
    lines: list[dict[str, Any]] = []
    words: list[dict[str, Any]] = []
    for line in page.lines:
        word_blocks: list[dict[str, Any]] = [
            {
                "BlockType": "WORD",
                "Confidence": round(word.confidence, 3),
                "Text": word.text,
                "TextType": "PRINTED",
                "Geometry": geometry(word.left, word.top, word.right, word.bottom),
                "Id": new_id(),
                "Page": page.number,
            }
            for word in line.words
        ]
        line_ids[id(line)] = new_id()
        lines.append(
            {
                "BlockType": "LINE",
                "Confidence": round(line.confidence, 3),
                "Text": line.text,
                "Geometry": geometry(line.left, line.top, line.right, line.bottom),
                "Id": line_ids[id(line)],
                "Relationships": _children([block["Id"] for block in word_blocks]),
                "Page": page.number,
            }
        )
        words += word_blocks
    layout: list[dict[str, Any]] = []
    for element in page.layout if with_layout else []:
        layout.append(
            {
                "BlockType": element.kind,
                "Confidence": round(element.confidence, 3),
                "Geometry": geometry(
                    min(line.left for line in element.lines),
                    min(line.top for line in element.lines),
                    max(line.right for line in element.lines),
                    max(line.bottom for line in element.lines),
                ),
                "Id": new_id(),
                "Relationships": _children([line_ids[id(line)] for line in element.lines]),
                "Page": page.number,
            }
        )
    page_block = {
        "BlockType": "PAGE",
        "Geometry": geometry(0.0, 0.0, 1.0, 1.0),
        "Id": new_id(),
        "Relationships": _children([block["Id"] for block in lines + layout]),
        "Page": page.number,
    }
    return [page_block, *lines, *words, *layout]
