"""The local Textract on the sample documents, through a real boto3 client: text, geometry, reading order and
layout of a PDF's text layer, of a two-column PDF and of a scanned image (OCR, once for the module), and AWS's own
response parser (textractor) reading the output."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from textractor.parsers import response_parser

from sagestep.demo import documents_samples as samples
from sagestep.local.emulator import LocalAws
from sagestep.local.services import ServiceRegistry
from sagestep.local.services.textract import TextractEmulator
from sagestep.local.services.textract.blocks import Line, Word
from sagestep.local.services.textract.layout import body_size, find_gutter

BUCKET = "textract-documents"


def full_response(textract: Any, job_id: str) -> dict[str, Any]:
    """Every page of GetDocumentAnalysis joined into one response, as textractor expects it."""
    deadline = time.monotonic() + 30
    while True:
        answer = textract.get_document_analysis(JobId=job_id)
        if answer["JobStatus"] != "IN_PROGRESS" or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    blocks = list(answer.get("Blocks", []))
    while answer.get("NextToken"):
        answer = textract.get_document_analysis(JobId=job_id, NextToken=answer["NextToken"])
        blocks += answer["Blocks"]
    return {"JobStatus": answer["JobStatus"], "DocumentMetadata": answer["DocumentMetadata"], "Blocks": blocks}


@pytest.fixture(scope="module")
def analysed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, dict[str, Any]]]:
    """The full responses of the three samples, analysed with LAYOUT (started together: OCR runs once)."""
    root = tmp_path_factory.mktemp("samples")
    with LocalAws(registry=ServiceRegistry([TextractEmulator])) as aws:
        s3, textract = aws.client("s3"), aws.client("textract")
        s3.create_bucket(Bucket=BUCKET)
        jobs = {}
        for path in samples.write_samples(root):
            s3.put_object(Bucket=BUCKET, Key=f"in/{path.name}", Body=path.read_bytes())
            jobs[path.name] = textract.start_document_analysis(
                DocumentLocation={"S3Object": {"Bucket": BUCKET, "Name": f"in/{path.name}"}},
                FeatureTypes=["LAYOUT", "TABLES"],
            )["JobId"]
        assert aws.wait_idle(60)
        yield {name: full_response(textract, job_id) for name, job_id in jobs.items()}


def by_id(response: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {block["Id"]: block for block in response["Blocks"]}


def children(block: dict[str, Any]) -> list[str]:
    return [i for rel in block.get("Relationships", []) if rel["Type"] == "CHILD" for i in rel["Ids"]]


def layout(response: dict[str, Any], page: int | None = None) -> list[tuple[str, str]]:
    """(type, text of its lines) of each layout block, in response order."""
    blocks = by_id(response)
    return [
        (block["BlockType"], " ".join(blocks[i]["Text"] for i in children(block)))
        for block in response["Blocks"]
        if block["BlockType"].startswith("LAYOUT_") and page in (None, block["Page"])
    ]


def test_every_sample_succeeds_with_its_pages(analysed: dict[str, dict[str, Any]]) -> None:
    assert {name: (r["JobStatus"], r["DocumentMetadata"]["Pages"]) for name, r in analysed.items()} == {
        "report.pdf": ("SUCCEEDED", 2),
        "columns.pdf": ("SUCCEEDED", 1),
        "scan.png": ("SUCCEEDED", 1),
    }


@pytest.mark.parametrize("name", samples.SAMPLE_FILES)
def test_geometry_is_normalised_words_sit_in_their_lines_and_lines_come_in_reading_order(
    analysed: dict[str, dict[str, Any]], name: str
) -> None:
    response = analysed[name]
    blocks = by_id(response)
    for block in response["Blocks"]:
        box = block["Geometry"]["BoundingBox"]
        assert 0 <= box["Left"] <= box["Left"] + box["Width"] <= 1.0 + 1e-9
        assert 0 <= box["Top"] <= box["Top"] + box["Height"] <= 1.0 + 1e-9
        assert [(p["X"], p["Y"]) for p in block["Geometry"]["Polygon"]] == [
            (box["Left"], box["Top"]),
            (box["Left"] + box["Width"], box["Top"]),
            (box["Left"] + box["Width"], box["Top"] + box["Height"]),
            (box["Left"], box["Top"] + box["Height"]),
        ]
    for page in (b for b in response["Blocks"] if b["BlockType"] == "PAGE"):
        lines = [blocks[i] for i in children(page) if blocks[i]["BlockType"] == "LINE"]
        assert lines and all(line["Page"] == page["Page"] for line in lines)
        for line in lines:
            outer = line["Geometry"]["BoundingBox"]
            words = [blocks[i] for i in children(line)]
            assert [w["BlockType"] for w in words] == ["WORD"] * len(words)
            assert " ".join(w["Text"] for w in words) == line["Text"]
            for word in words:
                inner = word["Geometry"]["BoundingBox"]
                assert (
                    outer["Left"] - 1e-9 <= inner["Left"]
                    and inner["Left"] + inner["Width"] <= outer["Left"] + outer["Width"] + 1e-9
                )
                assert (
                    outer["Top"] - 1e-9 <= inner["Top"]
                    and inner["Top"] + inner["Height"] <= outer["Top"] + outer["Height"] + 1e-9
                )
                assert 0 < word["Confidence"] <= 100 and word["TextType"] == "PRINTED"
        if name != "columns.pdf":  # one column: reading order is top to bottom
            tops = [line["Geometry"]["BoundingBox"]["Top"] for line in lines]
            assert tops == sorted(tops)


def test_the_report_s_layout_has_its_title_headers_paragraphs_running_header_footer_and_page_numbers(
    analysed: dict[str, dict[str, Any]],
) -> None:
    response = analysed["report.pdf"]
    first, second = layout(response, 1), layout(response, 2)
    assert first[:3] == [
        ("LAYOUT_HEADER", samples.RUNNING_HEADER),
        ("LAYOUT_TITLE", samples.TITLE),
        ("LAYOUT_SECTION_HEADER", "Summary"),
    ]
    assert first[3] == ("LAYOUT_TEXT", samples.POSITIVE)
    assert first[4] == ("LAYOUT_TEXT", samples.NEGATIVE)
    assert first[5] == ("LAYOUT_SECTION_HEADER", "Regional Results")
    assert first[-2:] == [("LAYOUT_FOOTER", samples.FOOTER), ("LAYOUT_PAGE_NUMBER", "1")]
    assert second[0] == ("LAYOUT_HEADER", samples.RUNNING_HEADER)
    assert second[2] == ("LAYOUT_SECTION_HEADER", "Summary")  # the same header text again, on page 2
    assert second[-2:] == [("LAYOUT_FOOTER", samples.FOOTER), ("LAYOUT_PAGE_NUMBER", "2")]
    # The paragraph across the page break: the end of page 1's last text, then the start of page 2's first one
    assert (first[-3][1] + " " + second[1][1]) == samples.CONTINUED
    # The PAGE's children list its lines, then its layout blocks (as Textract lists them)
    blocks = by_id(response)
    page = next(b for b in response["Blocks"] if b["BlockType"] == "PAGE" and b["Page"] == 1)
    kinds = [blocks[i]["BlockType"] for i in children(page)]
    assert set(kinds[: kinds.index("LAYOUT_HEADER")]) == {"LINE"}
    assert all(kind.startswith("LAYOUT_") for kind in kinds[kinds.index("LAYOUT_HEADER") :])


def test_the_two_column_page_is_read_title_then_left_column_then_right_column(
    analysed: dict[str, dict[str, Any]],
) -> None:
    assert layout(analysed["columns.pdf"]) == [
        ("LAYOUT_TITLE", "Two Offices, Two Stories"),
        ("LAYOUT_TEXT", samples.COLUMN_LEFT[0]),
        ("LAYOUT_TEXT", samples.COLUMN_LEFT[1]),
        ("LAYOUT_TEXT", samples.COLUMN_RIGHT[0]),
        ("LAYOUT_TEXT", samples.COLUMN_RIGHT[1]),
    ]


def test_the_scan_is_read_by_ocr_into_a_title_and_two_paragraphs(analysed: dict[str, dict[str, Any]]) -> None:
    found = layout(analysed["scan.png"])
    assert [kind for kind, _ in found] == ["LAYOUT_TITLE", "LAYOUT_TEXT", "LAYOUT_TEXT"]
    assert found[0][1] == samples.SCAN_HEADER
    for (_, text), expected in zip(found[1:], samples.SCAN_PARAGRAPHS, strict=True):
        assert _similar(text, expected) > 0.9, (text, expected)


def _similar(a: str, b: str) -> float:
    from difflib import SequenceMatcher

    return SequenceMatcher(None, a.lower(), b.lower()).ratio()


def test_aws_s_textractor_parses_the_output_into_pages_lines_and_layouts(analysed: dict[str, dict[str, Any]]) -> None:
    report = response_parser.parse(analysed["report.pdf"])
    assert len(report.pages) == 2
    assert report.pages[0].lines[1].text == samples.TITLE
    assert [layout.layout_type for layout in report.pages[0].layouts][:3] == [
        "LAYOUT_HEADER",
        "LAYOUT_TITLE",
        "LAYOUT_SECTION_HEADER",
    ]
    assert len(report.layouts) == len(layout(analysed["report.pdf"]))
    assert samples.NEGATIVE in report.pages[0].get_text().replace("\n", " ")
    assert "Maria Garcia" in report.text

    columns = response_parser.parse(analysed["columns.pdf"])
    texts = [" ".join(layout.text.split()) for layout in columns.pages[0].layouts]
    assert texts[1:] == [*samples.COLUMN_LEFT, *samples.COLUMN_RIGHT]

    scan = response_parser.parse(analysed["scan.png"])
    assert len(scan.pages[0].lines) == len([b for b in analysed["scan.png"]["Blocks"] if b["BlockType"] == "LINE"])
    assert scan.pages[0].layouts[0].layout_type == "LAYOUT_TITLE"


# The layout rules on their own -------------------------------------------------------------------------------


def _line(text: str, left: float, top: float, right: float, size: float = 10.0) -> Line:
    return Line([Word(text, left, top, right, top + 0.012, 99.0)], size)


def test_the_body_size_is_the_median_size_over_characters_so_a_big_title_does_not_move_it() -> None:
    lines = [_line("T" * 10, 0.1, 0.1, 0.9, 30.0), _line("b" * 40, 0.1, 0.2, 0.9), _line("b" * 40, 0.1, 0.3, 0.9)]
    assert body_size(lines) == 10.0


def test_a_gutter_is_found_between_side_by_side_columns_only() -> None:
    left = [_line("left", 0.1, 0.2 + i * 0.02, 0.45) for i in range(5)]
    right = [_line("right", 0.55, 0.2 + i * 0.02, 0.9) for i in range(5)]
    title = _line("title across", 0.3, 0.1, 0.7, 20.0)
    gutter = find_gutter([title, *left, *right])
    assert gutter is not None and 0.45 <= gutter <= 0.55
    assert find_gutter(left) is None
    stacked = [*left, *(_line("right", 0.55, 0.5 + i * 0.02, 0.9) for i in range(5))]  # not side by side
    assert find_gutter(stacked) is None


def test_samples_are_written_fast(tmp_path: Path) -> None:
    started = time.monotonic()
    paths = samples.write_samples(tmp_path)
    assert [p.name for p in paths] == list(samples.SAMPLE_FILES) and all(p.stat().st_size for p in paths)
    assert time.monotonic() - started < 1.0
