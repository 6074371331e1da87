"""Textract-shaped ``Blocks`` for tests: pages of lines at given positions become PAGE / LINE / WORD blocks (and
LAYOUT_* blocks when asked), as ``GetDocumentAnalysis`` answers them (``Page`` on every block) or as
``AnalyzeDocument`` does (no ``Page``). The PAGE lists its lines, then its layout elements in the order given,
as Textract does; a list's items are LAYOUT_TEXT blocks listed by the list and by the page."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

HEIGHT = 0.012  #: a body line's height
PITCH = 0.018  #: top to top of consecutive body lines (a gap of half a line height)
PARAGRAPH_GAP = 0.02  #: added between paragraphs


@dataclass(frozen=True)
class LineSpec:
    text: str
    top: float
    left: float = 0.1
    width: float = 0.8
    height: float = HEIGHT


def line(text: str, top: float, left: float = 0.1, width: float = 0.8, height: float = HEIGHT) -> LineSpec:
    return LineSpec(text, top, left, width, height)


def paragraph(
    texts: list[str], top: float, left: float = 0.1, width: float = 0.8, last_width: float = 0.5
) -> list[LineSpec]:
    """Body lines one pitch apart; the last one shorter (a paragraph's last line)."""
    return [
        LineSpec(text, round(top + i * PITCH, 4), left, last_width if i == len(texts) - 1 and len(texts) > 1 else width)
        for i, text in enumerate(texts)
    ]


def after(lines: list[LineSpec], gap: float = PARAGRAPH_GAP) -> float:
    """The top of a line that follows ``lines`` with ``gap`` between (beyond the normal line gap)."""
    return round(lines[-1].top + PITCH + gap, 4)


#: A layout element: its type and the indexes of its page's lines (for LAYOUT_LIST, a list of items' indexes).
Layout = tuple[str, list[int]] | tuple[str, list[list[int]]]


def _geometry(left: float, top: float, width: float, height: float) -> dict[str, Any]:
    return {
        "BoundingBox": {"Left": left, "Top": top, "Width": width, "Height": height},
        "Polygon": [
            {"X": left, "Y": top},
            {"X": left + width, "Y": top},
            {"X": left + width, "Y": top + height},
            {"X": left, "Y": top + height},
        ],
    }


def _union(specs: list[LineSpec]) -> dict[str, Any]:
    left = min(s.left for s in specs)
    top = min(s.top for s in specs)
    right = max(s.left + s.width for s in specs)
    bottom = max(s.top + s.height for s in specs)
    return _geometry(left, top, right - left, bottom - top)


def document(
    pages: list[list[LineSpec]], layouts: list[list[Layout]] | None = None, with_page: bool = True
) -> list[dict[str, Any]]:
    """All the blocks of a document: PAGE, then its LINEs with their WORDs, then its LAYOUT_* blocks."""
    blocks: list[dict[str, Any]] = []
    for number, specs in enumerate(pages, start=1):
        page_block: dict[str, Any] = {
            "BlockType": "PAGE",
            "Id": f"page-{number}",
            "Geometry": _geometry(0.0, 0.0, 1.0, 1.0),
            "Relationships": [{"Type": "CHILD", "Ids": []}],
        }
        children: list[str] = page_block["Relationships"][0]["Ids"]
        page_blocks: list[dict[str, Any]] = [page_block]
        line_ids: list[str] = []
        for index, spec in enumerate(specs):
            line_id = f"line-{number}-{index}"
            line_ids.append(line_id)
            children.append(line_id)
            words = spec.text.split()
            total = sum(len(w) for w in words) + len(words) - 1
            word_blocks, x = [], spec.left
            for w_index, word in enumerate(words):
                width = spec.width * len(word) / total
                word_blocks.append(
                    {
                        "BlockType": "WORD",
                        "Id": f"word-{number}-{index}-{w_index}",
                        "Text": word,
                        "TextType": "PRINTED",
                        "Confidence": 99.0,
                        "Geometry": _geometry(x, spec.top, width, spec.height),
                    }
                )
                x += width + spec.width / total
            page_blocks.append(
                {
                    "BlockType": "LINE",
                    "Id": line_id,
                    "Text": spec.text,
                    "Confidence": 99.0,
                    "Geometry": _geometry(spec.left, spec.top, spec.width, spec.height),
                    "Relationships": [{"Type": "CHILD", "Ids": [w["Id"] for w in word_blocks]}],
                }
            )
            page_blocks.extend(word_blocks)
        for l_index, (kind, members) in enumerate((layouts or [])[number - 1] if layouts else []):
            layout_id = f"layout-{number}-{l_index}"
            if kind == "LAYOUT_LIST":
                item_ids, item_blocks, all_specs = [], [], []
                for i_index, item in enumerate(members):
                    assert isinstance(item, list)
                    item_specs = [specs[i] for i in item]
                    all_specs.extend(item_specs)
                    item_id = f"{layout_id}-item-{i_index}"
                    item_ids.append(item_id)
                    item_blocks.append(
                        {
                            "BlockType": "LAYOUT_TEXT",
                            "Id": item_id,
                            "Confidence": 80.0,
                            "Geometry": _union(item_specs),
                            "Relationships": [{"Type": "CHILD", "Ids": [line_ids[i] for i in item]}],
                        }
                    )
                block = {
                    "BlockType": kind,
                    "Id": layout_id,
                    "Confidence": 80.0,
                    "Geometry": _union(all_specs),
                    "Relationships": [{"Type": "CHILD", "Ids": item_ids}],
                }
                children.append(layout_id)
                children.extend(item_ids)
                page_blocks.append(block)
                page_blocks.extend(item_blocks)
            else:
                indexes = [i for i in members if isinstance(i, int)]
                children.append(layout_id)
                page_blocks.append(
                    {
                        "BlockType": kind,
                        "Id": layout_id,
                        "Confidence": 80.0,
                        "Geometry": _union([specs[i] for i in indexes]),
                        "Relationships": [{"Type": "CHILD", "Ids": [line_ids[i] for i in indexes]}],
                    }
                )
        if with_page:
            for block in page_blocks:
                block["Page"] = number
        blocks.extend(page_blocks)
    return blocks
