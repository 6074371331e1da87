"""Paragraph segmentation of Textract output (``workflows/documents/segmentation.py``): every technique on
Textract-shaped blocks built by ``tests/unit/textract_blocks.py``."""

from __future__ import annotations

import json
import random
from typing import Any

import pytest

from sagestep_service.workflows.documents.segmentation import Segmentation, join_lines, segment
from tests.unit.textract_blocks import after, document, line, paragraph

LINE_TECHNIQUES = ["font-size", "indentation", "line-spacing", "full-stop"]
ALL_TECHNIQUES = ["layout", *LINE_TECHNIQUES]


def texts(result: Segmentation) -> list[tuple[str | None, str]]:
    return [(p.header, p.text) for p in result.paragraphs]


def header_and_two_paragraphs() -> tuple[list[dict[str, Any]], list[tuple[str | None, str]]]:
    """A centred, taller, short header; two paragraphs apart by a gap, each ending a sentence on a short line."""
    header = line("Introduction", 0.1, left=0.35, width=0.3, height=0.02)
    first = paragraph(
        ["The first paragraph starts here and", "goes on for a while with more words", "and ends here."], 0.15
    )
    second = paragraph(["A second paragraph follows the first", "one and it also ends with a stop."], after(first))
    layout = [[("LAYOUT_TITLE", [0]), ("LAYOUT_TEXT", [1, 2, 3]), ("LAYOUT_TEXT", [4, 5])]]
    blocks = document([[header, *first, *second]], layout)
    expected = [
        ("Introduction", "The first paragraph starts here and goes on for a while with more words and ends here."),
        ("Introduction", "A second paragraph follows the first one and it also ends with a stop."),
    ]
    return blocks, expected


@pytest.mark.parametrize("technique", ALL_TECHNIQUES)
def test_header_and_two_paragraphs(technique: str) -> None:
    # Given a page with a header and two paragraphs (with layout elements for the layout technique)
    blocks, expected = header_and_two_paragraphs()
    # When it is segmented
    result = segment(blocks, technique)
    # Then there are two paragraphs under the header, in order, with their lines and one box each
    assert result.technique == technique
    assert texts(result) == expected
    assert [p.index for p in result.paragraphs] == [0, 1]
    assert [p.headerLevel for p in result.paragraphs] == [1, 1]
    assert [p.lineCount for p in result.paragraphs] == [3, 2]
    assert all(p.pages == [1] and len(p.boxes) == 1 for p in result.paragraphs)
    assert result.dropped == []


def test_full_stop_breaks_paragraphs_without_a_gap() -> None:
    # Given two paragraphs with no gap between them, the first ending a sentence on a short line
    lines = paragraph(["The first paragraph has two lines and", "ends here."], 0.1)
    lines += paragraph(["Then another starts on the next line", "without any extra space."], after(lines, gap=0))
    blocks = document([lines])
    # When segmented by full stops and by line spacing
    by_stop = segment(blocks, "full-stop")
    by_gap = segment(blocks, "line-spacing")
    # Then full stops see two paragraphs, line spacing one
    assert [p.text for p in by_stop.paragraphs] == [
        "The first paragraph has two lines and ends here.",
        "Then another starts on the next line without any extra space.",
    ]
    assert len(by_gap.paragraphs) == 1


def test_full_stop_does_not_break_at_a_sentence_ending_on_a_full_line() -> None:
    # Given a paragraph where a sentence ends at the end of a full-width line
    lines = paragraph(["A sentence ends at the end of this line.", "Another goes on in the same paragraph."], 0.1)
    # When segmented by full stops
    result = segment(document([lines]), "full-stop")
    # Then it is one paragraph
    assert len(result.paragraphs) == 1


@pytest.mark.parametrize("technique", ["layout", "font-size", "indentation", "line-spacing"])
def test_headers_of_the_same_text_are_kept_apart(technique: str) -> None:
    # Given two sections both titled "Summary"
    h1 = line("Summary", 0.1, left=0.4, width=0.2, height=0.02)
    p1 = paragraph(["Results of the first part are listed", "here."], 0.15)
    h2 = line("Summary", after(p1), left=0.4, width=0.2, height=0.02)
    p2 = paragraph(["Results of the second part are listed", "there."], round(h2.top + 0.05, 4))
    layout = [
        [
            ("LAYOUT_SECTION_HEADER", [0]),
            ("LAYOUT_TEXT", [1, 2]),
            ("LAYOUT_SECTION_HEADER", [3]),
            ("LAYOUT_TEXT", [4, 5]),
        ]
    ]
    # When segmented
    result = segment(document([[h1, *p1, h2, *p2]], layout), technique)
    # Then each section keeps its own paragraph
    assert texts(result) == [
        ("Summary", "Results of the first part are listed here."),
        ("Summary", "Results of the second part are listed there."),
    ]


@pytest.mark.parametrize("technique", LINE_TECHNIQUES)
def test_first_last_and_trailing_paragraphs_are_kept(technique: str) -> None:
    # Given a first paragraph before any header, a header, a paragraph and a trailing one-line paragraph
    first = paragraph(["Opening words come before any header", "at all."], 0.1)
    header = line("Background", after(first), left=0.4, width=0.2, height=0.02)
    middle = paragraph(["The middle paragraph sits under the", "header."], round(header.top + 0.05, 4))
    trailing = paragraph(["thanks to everyone involved"], after(middle))
    # When segmented
    result = segment(document([[*first, header, *middle, *trailing]]), technique)
    # Then the first, the middle and the trailing paragraph are all there
    assert texts(result) == [
        (None, "Opening words come before any header at all."),
        ("Background", "The middle paragraph sits under the header."),
        ("Background", "thanks to everyone involved"),
    ]


@pytest.mark.parametrize("technique", ["layout", "font-size"])
def test_a_header_nothing_follows_is_a_paragraph_of_its_own(technique: str) -> None:
    # Given a paragraph and, last, a header with nothing under it
    body = paragraph(["Some text before the last header of", "the page."], 0.1)
    header = line("Appendix", after(body), left=0.4, width=0.2, height=0.02)
    layout = [[("LAYOUT_TEXT", [0, 1]), ("LAYOUT_SECTION_HEADER", [2])]]
    # When segmented
    result = segment(document([[*body, header]], layout), technique)
    # Then the header's text is kept
    assert texts(result)[-1] == (None, "Appendix")


def furniture_document() -> list[dict[str, Any]]:
    footers = ["Page 1 of 3", "2", "- 3 -"]
    pages = []
    for number in range(1, 4):
        lines = [line("ACME Corp annual report 2024", 0.08, width=0.6)]  # repeated, inside the margin zone
        if number == 1:
            lines.append(line("Confidential", 0.02, left=0.4, width=0.2))  # short, at the very top
        if number == 1:  # a line of digits in the body is not a page number
            lines += paragraph(["Body text of page 1 was written in", "1999", "as one sentence."], 0.2)
        else:
            lines += paragraph([f"Body text of page {number} reads as", "one sentence."], 0.2)
        lines.append(line(footers[number - 1], 0.95, left=0.45, width=0.1))
        pages.append(lines)
    return document(pages)


@pytest.mark.parametrize("technique", LINE_TECHNIQUES)
def test_page_numbers_and_running_headers_are_dropped(technique: str) -> None:
    # Given three pages with a running header, a stamp at the top edge and page numbers in three styles
    blocks = furniture_document()
    # When segmented
    result = segment(blocks, technique)
    # Then they are dropped with their reasons and the body is kept (a number in the body too)
    assert [(d.page, d.text, d.reason) for d in result.dropped] == [
        (1, "Confidential", "page header"),
        (1, "ACME Corp annual report 2024", "page header"),
        (1, "Page 1 of 3", "page number"),
        (2, "ACME Corp annual report 2024", "page header"),
        (2, "2", "page number"),
        (3, "ACME Corp annual report 2024", "page header"),
        (3, "- 3 -", "page number"),
    ]
    assert [p.text for p in result.paragraphs] == [
        "Body text of page 1 was written in 1999 as one sentence.",
        "Body text of page 2 reads as one sentence.",
        "Body text of page 3 reads as one sentence.",
    ]


def test_layout_drops_header_footer_and_page_number_elements() -> None:
    # Given layout elements for a running header, a footer and a page number
    lines = [
        line("ACME Corp", 0.03, width=0.2),
        *paragraph(["Body text.", "More."], 0.2),
        line("Footer", 0.94),
        line("7", 0.96),
    ]
    layout = [[("LAYOUT_HEADER", [0]), ("LAYOUT_TEXT", [1, 2]), ("LAYOUT_FOOTER", [3]), ("LAYOUT_PAGE_NUMBER", [4])]]
    # When segmented by layout
    result = segment(document([lines], layout), "layout")
    # Then those are dropped with Textract's reasons
    assert [(d.text, d.reason) for d in result.dropped] == [
        ("ACME Corp", "page header"),
        ("Footer", "page footer"),
        ("7", "page number"),
    ]
    assert [p.text for p in result.paragraphs] == ["Body text. More."]


def two_column_page() -> list[Any]:
    """A title over two columns; the left column's second paragraph goes on at the top of the right column."""
    title = line("Two Columns", 0.1, left=0.3, width=0.4, height=0.02)
    left1 = paragraph(["Left column first paragraph", "ends here."], 0.15, left=0.08, width=0.38, last_width=0.2)
    left2 = paragraph(
        ["Left column second paragraph", "carries on into the"], after(left1), left=0.08, width=0.38, last_width=0.3
    )
    right1 = paragraph(["right column at its top and", "ends there."], 0.15, left=0.54, width=0.38, last_width=0.2)
    right2 = paragraph(
        ["Right column last paragraph", "is here."], after(right1), left=0.54, width=0.38, last_width=0.2
    )
    # interleave the columns' lines so that sorting by top alone would mix them
    return [title, right1[0], left1[0], right1[1], left1[1], right2[0], left2[0], right2[1], left2[1]]


@pytest.mark.parametrize("technique", LINE_TECHNIQUES)
def test_two_columns_are_read_in_order(technique: str) -> None:
    # Given a two-column page under a title spanning both
    blocks = document([two_column_page()])
    # When segmented
    result = segment(blocks, technique)
    # Then the left column is read before the right, and the paragraph across the columns is one
    assert texts(result) == [
        ("Two Columns", "Left column first paragraph ends here."),
        ("Two Columns", "Left column second paragraph carries on into the right column at its top and ends there."),
        ("Two Columns", "Right column last paragraph is here."),
    ]
    across = result.paragraphs[1]
    assert [(b.page, round(b.left, 2)) for b in across.boxes] == [(1, 0.08), (1, 0.54)]


def page_break_document() -> list[dict[str, Any]]:
    page1 = [line("Chapter", 0.1, left=0.4, width=0.2, height=0.02)]
    page1 += paragraph(["A paragraph near the bottom of a page", "is not over when the page is, it goes"], 0.8)
    page2 = paragraph(["on at the top of the next page.", "done."], 0.1)
    page2 += paragraph(["Another paragraph follows that one."], after(page2))
    layout = [[("LAYOUT_TITLE", [0]), ("LAYOUT_TEXT", [1, 2])], [("LAYOUT_TEXT", [0, 1]), ("LAYOUT_TEXT", [2])]]
    return document([page1, page2], layout)


@pytest.mark.parametrize("technique", ALL_TECHNIQUES)
def test_a_paragraph_across_a_page_break_is_one(technique: str) -> None:
    # Given a paragraph that starts at the bottom of page 1 without ending a sentence and goes on on page 2
    blocks = page_break_document()
    # When segmented
    result = segment(blocks, technique)
    # Then it is one paragraph on both pages with a box on each; the next paragraph stays apart
    joined = result.paragraphs[0]
    assert joined.text == (
        "A paragraph near the bottom of a page is not over when the page is, it goes"
        " on at the top of the next page. done."
    )
    assert joined.pages == [1, 2]
    assert [b.page for b in joined.boxes] == [1, 2]
    assert joined.lineCount == 4
    assert [p.text for p in result.paragraphs[1:]] == ["Another paragraph follows that one."]
    assert all(p.header == "Chapter" for p in result.paragraphs)


def test_a_paragraph_ending_a_sentence_at_a_page_break_is_not_joined() -> None:
    # Given a page ending a sentence and the next page starting a new paragraph
    page1 = paragraph(["The first page ends with a full", "sentence."], 0.8)
    page2 = paragraph(["The second page starts a new", "paragraph."], 0.1)
    # When segmented
    result = segment(document([page1, page2]), "font-size")
    # Then they are two paragraphs
    assert [p.pages for p in result.paragraphs] == [[1], [2]]


@pytest.mark.parametrize("technique", ["layout", "line-spacing"])
def test_hyphenated_line_ends_are_joined_only_before_lower_case(technique: str) -> None:
    # Given lines ending in hyphens, one before a lower-case word and one before a capital
    lines = paragraph(["This text is about a docu-", "ment on Anglo-", "Saxon history."], 0.1)
    # When segmented
    result = segment(document([lines], [[("LAYOUT_TEXT", [0, 1, 2])]]), technique)
    # Then the broken word is whole and the compound keeps its hyphen
    assert [p.text for p in result.paragraphs] == ["This text is about a document on Anglo-Saxon history."]


def test_join_lines_rules() -> None:
    # Given line pairs, When joined, Then hyphens go only before lower case and soft hyphens always
    assert join_lines("docu-", "ment") == "document"
    assert join_lines("COVID-", "19 cases") == "COVID-19 cases"
    assert join_lines("a dash -", "here") == "a dash - here"
    assert join_lines("soft\u00ad", "Word") == "softWord"
    assert join_lines("plain", "words") == "plain words"


@pytest.mark.parametrize("technique", ["auto", *ALL_TECHNIQUES])
@pytest.mark.parametrize("blocks", [[], document([[]]), document([[], []], [[], []])], ids=["none", "page", "pages"])
def test_a_document_without_text_has_no_paragraphs(technique: str, blocks: list[dict[str, Any]]) -> None:
    # Given no blocks, or pages without lines
    # When segmented
    result = segment(blocks, technique)
    # Then the result is empty, not an error
    assert result.paragraphs == [] and result.dropped == []


def test_header_levels_follow_sizes() -> None:
    # Given headers of three sizes (two of them a few percent apart, which is one size)
    top = 0.1
    lines = []
    for text, height in [("Title", 0.03), ("Section A", 0.02), ("Subsection", 0.016), ("Section B", 0.0195)]:
        lines.append(line(text, top, left=0.1, width=0.3, height=height))
        body = paragraph([f"Text under {text} is a line of", "body text."], round(top + 0.05, 4))
        lines += body
        top = after(body, gap=0.04)
    # When segmented by font size
    result = segment(document([lines]), "font-size")
    # Then the tallest is level 1 and the levels follow the sizes
    assert [(p.header, p.headerLevel) for p in result.paragraphs] == [
        ("Title", 1),
        ("Section A", 2),
        ("Subsection", 3),
        ("Section B", 2),
    ]


def test_auto_chooses_layout_when_there_are_layout_blocks() -> None:
    # Given the same page with and without layout elements
    with_layout, _ = header_and_two_paragraphs()
    without = [b for b in with_layout if not b["BlockType"].startswith("LAYOUT_")]
    # When segmented with auto
    # Then layout is used with layout elements and font size without
    assert segment(with_layout).technique == "layout"
    assert segment(without).technique == "font-size"
    assert texts(segment(with_layout)) == texts(segment(without))


def test_an_unknown_technique_is_an_error() -> None:
    with pytest.raises(ValueError, match="technique"):
        segment([], "word-count")


@pytest.mark.parametrize("technique", ALL_TECHNIQUES)
def test_blocks_in_any_order_give_the_same_result(technique: str) -> None:
    # Given a document with columns, page furniture and a page break, and its blocks shuffled
    pages = [
        two_column_page(),
        *[
            [
                line("ACME Corp annual report 2024", 0.08, width=0.6),
                *paragraph(["Body text of a later page reads as", "one sentence."], 0.2),
            ]
            for _ in range(2)
        ],
    ]
    layout = [
        [("LAYOUT_TITLE", [0]), ("LAYOUT_TEXT", [2, 4]), ("LAYOUT_TEXT", [6, 8])],
        [("LAYOUT_HEADER", [0]), ("LAYOUT_TEXT", [1, 2])],
        [("LAYOUT_TEXT", [1, 2])],
    ]
    blocks = document(pages, layout)
    expected = segment(blocks, technique).model_dump()
    for seed in range(5):
        shuffled = list(blocks)
        random.Random(seed).shuffle(shuffled)
        # When segmented
        # Then the result is the same
        assert segment(shuffled, technique).model_dump() == expected


def test_the_result_is_json() -> None:
    # Given a segmentation, When serialised, Then it is JSON with the documented field names
    blocks, _ = header_and_two_paragraphs()
    data = json.loads(segment(blocks).model_dump_json())
    assert set(data) == {"technique", "paragraphs", "dropped"}
    assert set(data["paragraphs"][0]) == {"index", "header", "headerLevel", "text", "pages", "boxes", "lineCount"}
    assert set(data["paragraphs"][0]["boxes"][0]) == {"page", "left", "top", "width", "height"}


def test_a_response_shaped_like_aws_layout_example() -> None:
    # Given an AnalyzeDocument response as AWS documents LAYOUT: no Page on blocks, the PAGE listing its lines then
    # its layout elements in reading order, a title of three lines, a list whose items are LAYOUT_TEXT blocks
    # listed by the list and the page, a table with TABLE / CELL blocks, a figure and a page number
    lines = [
        line("Amazon Textract", 0.05 + 0.02, left=0.3, width=0.4, height=0.03),
        line("Layout Feature", 0.11, left=0.3, width=0.4, height=0.03),
        line("Sample Document", 0.15, left=0.3, width=0.4, height=0.03),
        line("Overview", 0.22, width=0.2, height=0.018),
        *paragraph(["Layout groups the lines of a page into", "elements in reading order."], 0.26),
        *paragraph(["Titles and headers", "Paragraphs and lists"], 0.32, left=0.12, width=0.4, last_width=0.4),
        line("Quarter Revenue", 0.4, width=0.3),
        line("Q1 100", 0.42, width=0.3),
        line("Chart label", 0.5, width=0.1),
        line("3", 0.96, left=0.5, width=0.02),
    ]
    layout = [
        [
            ("LAYOUT_TITLE", [0, 1, 2]),
            ("LAYOUT_SECTION_HEADER", [3]),
            ("LAYOUT_TEXT", [4, 5]),
            ("LAYOUT_LIST", [[6], [7]]),
            ("LAYOUT_TABLE", [8, 9]),
            ("LAYOUT_FIGURE", [10]),
            ("LAYOUT_PAGE_NUMBER", [11]),
        ]
    ]
    blocks = document([lines], layout, with_page=False)
    title = next(b for b in blocks if b["BlockType"] == "LAYOUT_TITLE")
    title.update(Id="e02654d0-dce1-4205-bf1c-6fac1cc0a35a", Confidence=57.177734375)
    page = blocks[0]
    page["Relationships"][0]["Ids"] = [
        "e02654d0-dce1-4205-bf1c-6fac1cc0a35a" if i == "layout-1-0" else i for i in page["Relationships"][0]["Ids"]
    ]
    blocks += [
        {
            "BlockType": "TABLE",
            "Id": "table-1",
            "Geometry": blocks[1]["Geometry"],
            "Relationships": [{"Type": "CHILD", "Ids": ["cell-1"]}],
            "EntityTypes": ["STRUCTURED_TABLE"],
        },
        {
            "BlockType": "CELL",
            "Id": "cell-1",
            "RowIndex": 1,
            "ColumnIndex": 1,
            "Geometry": blocks[1]["Geometry"],
            "Relationships": [{"Type": "CHILD", "Ids": ["word-1-8-0"]}],
        },
    ]
    assert "Page" not in blocks[1]
    # When segmented with auto
    result = segment(blocks)
    # Then the title, the section's paragraph and the list are read in order; the table and figure stay out
    assert result.technique == "layout"
    assert [(p.header, p.headerLevel, p.text) for p in result.paragraphs] == [
        (None, None, "Amazon Textract Layout Feature Sample Document"),
        ("Overview", 2, "Layout groups the lines of a page into elements in reading order."),
        ("Overview", 2, "Titles and headers\nParagraphs and lists"),
    ]
    assert result.paragraphs[2].lineCount == 2
    assert [(d.page, d.text, d.reason) for d in result.dropped] == [(1, "3", "page number")]
