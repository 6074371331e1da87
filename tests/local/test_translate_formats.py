"""The local Translate's format handlers, without the emulator: text replaced by the pseudo-translation,
structure, formatting and placeholders kept."""

from __future__ import annotations

import io
from pathlib import Path

import docx
import lxml.etree as etree
import openpyxl
import pptx
import pytest

from sagestep.demo.translation_samples import SAMPLE_FILES, write_samples
from sagestep.local.services.translate.formats import (
    DocumentError,
    translate_docx,
    translate_html,
    translate_pptx,
    translate_text,
    translate_xliff,
    translate_xlsx,
)
from sagestep.local.services.translate.terminology import Terminology, parse_csv, translate_with_terms
from sagestep.local.services.translate.translator import PseudoTranslator, detect_language, load_translator
from sagestep_service.workflows.translation.translate_service import content_type_of

XLIFF_NS = "{urn:oasis:names:tc:xliff:document:1.2}"


class Recording:
    """The pseudo-translator into German, recording each call's batch."""

    def __init__(self) -> None:
        self.calls: list[list[str]] = []

    def __call__(self, texts: list[str]) -> list[str]:
        self.calls.append(texts)
        return PseudoTranslator().translate(texts, "en", "de")


@pytest.fixture(scope="module")
def samples(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    root = tmp_path_factory.mktemp("samples")
    return {name: path.read_bytes() for name, path in zip(SAMPLE_FILES, write_samples(root), strict=True)}


def test_the_pseudo_translation_is_marked_and_keeps_whitespace_and_placeholders() -> None:
    translate = PseudoTranslator().translate
    texts = ["  Hello {name}, you have %d new %1$s items ", "Visit https://example.com/a?b=1 or mail me@example.org"]
    hello, visit = translate(texts, "en", "de")
    assert hello == "  [de|Hélló {name}, ýóú hávé %d ñéw %1$s ítémš] "
    assert visit == "[de|Víšít https://example.com/a?b=1 ór máíl me@example.org]"
    assert translate(["{{var}} and ${x} 3.14"], "en", "fr") == ["[fr|{{var}} áñd ${x} 3.14]"]
    assert translate(["42", "   ", "—", "{name}"], "en", "de") == ["42", "   ", "—", "{name}"]


def test_text_keeps_line_breaks_and_blank_lines_in_one_call() -> None:
    recording = Recording()
    out = translate_text(b"Hello\r\n\r\nworld 7\n  \nend", recording).decode()
    assert out == "[de|Hélló]\r\n\r\n[de|wórld 7]\n  \n[de|éñd]"
    assert recording.calls == [["Hello", "world 7", "end"]]
    with pytest.raises(DocumentError):
        translate_text(b"\xff\xfe bad", recording)


def test_html_translates_text_and_attributes_but_not_markup_scripts_or_code(samples: dict[str, bytes]) -> None:
    out = translate_html(samples["web/index.html"], Recording()).decode()
    assert out.startswith("<!DOCTYPE html>")
    assert '<meta charset="utf-8">' in out
    assert "<title>[de|Wélçómé]</title>" in out
    assert "<h1>[de|Hélló, {name}!]</h1>" in out
    assert '<a href="https://example.com/docs" title="[de|Dóçúméñtátíóñ]">[de|gúídé]</a>' in out
    assert 'alt="[de|Cómpáñý lógó]"' in out
    assert 'var greeting = "do not translate";' in out
    assert "body { font-family: sans-serif; }" in out
    assert '<pre>print("code stays")</pre>' in out


def test_html_keeps_a_declared_legacy_encoding() -> None:
    page = '<html><head><meta charset="iso-8859-1"></head><body><p>Café</p></body></html>'.encode("latin-1")
    out = translate_html(page, Recording())
    assert out.startswith(b"<html>")  # no doctype added
    assert "<p>[de|Cáfé]</p>".encode("latin-1") in out


def test_docx_translates_each_run_keeping_bold_italic_tables_and_footer(samples: dict[str, bytes]) -> None:
    before = docx.Document(io.BytesIO(samples["report.docx"]))
    recording = Recording()
    after = docx.Document(io.BytesIO(translate_docx(samples["report.docx"], recording)))

    assert len(recording.calls) == 1  # the whole document in one translator call
    assert len(after.paragraphs) == len(before.paragraphs)
    runs = [(run.text, run.bold, run.italic) for run in after.paragraphs[1].runs]
    assert runs == [
        ("[de|Sáléš gréw] ", None, None),
        ("[de|štróñglý]", True, None),
        (" [de|íñ thé] ", None, None),
        ("[de|ñórth]", None, True),
        (" [de|régíóñ.]", None, None),
    ]
    styles = [getattr(document.paragraphs[0].style, "name", None) for document in (before, after)]
    assert styles == ["Heading 1", "Heading 1"]
    table = after.tables[0]
    assert (len(table.rows), len(table.columns)) == (2, 2)
    assert [cell.text for cell in table.rows[1].cells] == ["[de|Nórth]", "42"]
    assert after.sections[0].footer.paragraphs[0].text == "[de|Cóñfídéñtíál]"


def test_docx_nested_tables_are_translated() -> None:
    document = docx.Document()
    outer = document.add_table(rows=1, cols=1)
    outer.cell(0, 0).paragraphs[0].text = "outer"
    outer.cell(0, 0).add_table(rows=1, cols=2).cell(0, 1).text = "inner"
    buffer = io.BytesIO()
    document.save(buffer)
    after = docx.Document(io.BytesIO(translate_docx(buffer.getvalue(), Recording())))
    cell = after.tables[0].cell(0, 0)
    assert cell.paragraphs[0].text == "[de|óútér]"
    assert [c.text for c in cell.tables[0].rows[0].cells] == ["", "[de|íññér]"]


def test_docx_that_is_no_zip_is_a_document_error() -> None:
    with pytest.raises(DocumentError, match="docx document could not be opened"):
        translate_docx(b"PK not really", Recording())


def test_pptx_translates_runs_tables_groups_and_notes(samples: dict[str, bytes]) -> None:
    presentation = pptx.Presentation(io.BytesIO(samples["slides/deck.pptx"]))
    slide = presentation.slides[0]
    table = slide.shapes.add_table(1, 2, 0, 0, 100, 100).table
    table.cell(0, 0).text = "Cell text"
    group = slide.shapes.add_group_shape()
    box = group.shapes.add_textbox(0, 0, 10, 10).text_frame
    box.text = "Grouped "
    run = box.paragraphs[0].add_run()
    run.text, run.font.bold = "bold", True
    buffer = io.BytesIO()
    presentation.save(buffer)

    after = pptx.Presentation(io.BytesIO(translate_pptx(buffer.getvalue(), Recording()))).slides[0]
    assert after.shapes.title.text == "[de|Pródúçt láúñçh]"
    assert [p.text for p in after.placeholders[1].text_frame.paragraphs] == ["[de|Fáštér šétúp]", "[de|Lówér çóšt]"]
    shapes = list(after.shapes)
    assert shapes[-2].table.cell(0, 0).text == "[de|Céll téxt]"
    grouped = shapes[-1].shapes[0].text_frame.paragraphs[0].runs
    assert [(r.text, r.font.bold) for r in grouped] == [("[de|Gróúpéd] ", None), ("[de|bóld]", True)]
    assert after.notes_slide.notes_text_frame.text == "[de|Méñtíóñ thé pílót çúštómérš.]"


def test_xlsx_translates_string_cells_only_keeping_formulas_numbers_and_styles(samples: dict[str, bytes]) -> None:
    sheet = openpyxl.load_workbook(io.BytesIO(translate_xlsx(samples["data/figures.xlsx"], Recording())))["Sales"]
    assert [cell.value for cell in sheet[1]] == ["[de|Pródúçt]", "[de|Úñítš]", "[de|Príçé]"]
    assert [cell.value for cell in sheet[2]] == ["[de|Blúé çháír]", 3, 19.5]
    assert sheet["B4"].value == "=SUM(B2:B3)" and sheet["B4"].data_type == "f"
    assert sheet["A1"].font.bold is True
    assert sheet["C2"].number_format == "0.00"


def test_xliff_writes_targets_with_inline_tags_in_place(samples: dict[str, bytes]) -> None:
    root = etree.fromstring(translate_xliff(samples["l10n/strings.xlf"], Recording(), "de"))
    assert root.find(f"{XLIFF_NS}file").get("target-language") == "de"
    greeting, save = root.iter(f"{XLIFF_NS}trans-unit")
    target = greeting.find(f"{XLIFF_NS}target")
    assert target.get("state") == "translated"
    inner = etree.tostring(target, encoding="unicode").split(">", 1)[1].rsplit("<", 1)[0]
    assert inner == '[de|Hélló] <g id="1">[de|déár]</g> [de|%s, wélçómé]<x id="2"/> [de|báçk.]'
    saved = save.find(f"{XLIFF_NS}target")  # an existing target is replaced; <ph>'s native code is kept
    assert etree.tostring(saved, encoding="unicode").startswith(
        f'<target xmlns="{XLIFF_NS[1:-1]}" state="translated">[de|Sávé] <ph id="3">&lt;b&gt;</ph>[de|çháñgéš]'
    )
    assert greeting.find(f"{XLIFF_NS}source").text == "Hello "  # the source is untouched


def test_xliff_2_is_refused() -> None:
    document = b'<xliff version="2.0" xmlns="urn:oasis:names:tc:xliff:document:2.0" srcLang="en"><file/></xliff>'
    with pytest.raises(DocumentError, match=r"XLIFF version 2\.0 is not supported") as raised:
        translate_xliff(document, Recording(), "de")
    assert raised.value.code == "UNSUPPORTED_XLIFF_VERSION"


def test_samples_cover_every_content_type_and_one_unsupported_file(tmp_path: Path) -> None:
    paths = write_samples(tmp_path)
    slugs = {type_.slug for path in paths if (type_ := content_type_of(path.name)) is not None}
    assert slugs == {"text", "html", "docx", "pptx", "xlsx", "xliff"}
    assert [path.name for path in paths if content_type_of(path.name) is None] == ["readme.md"]
    assert all(path.stat().st_size < 100_000 for path in paths)


def test_terms_are_kept_as_their_target_text_and_reported() -> None:
    source, targets, terms, skipped = parse_csv(b"en,de,fr\nAcme Cloud,Acme Wolke,Acme Nuage\nbroken\n")
    assert (source, targets, skipped) == ("en", ["de", "fr"], 1)
    terminology = Terminology("brand", "arn", source, targets, terms, 10, *(2 * [None]))  # type: ignore[arg-type]
    translated, applied = translate_with_terms(["Use Acme Cloud today"], [terminology], "de", Recording())
    assert translated == ["[de|Úšé Acme Wolke tódáý]"]
    assert applied == [{"name": "brand", "terms": [{"sourceText": "Acme Cloud", "targetText": "Acme Wolke"}]}]


def test_the_source_language_is_detected_from_script_or_frequent_words() -> None:
    assert detect_language(["Das ist nicht der Weg, und die Sonne scheint"]) == "de"
    assert detect_language(["Привет, мир"]) == "ru"
    assert detect_language(["こんにちは世界"]) == "ja"
    assert detect_language(["12345"]) == "en"


def test_a_translator_is_loaded_from_its_class_path(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SAGESTEP_TRANSLATOR", "sagestep.local.services.translate.translator:PseudoTranslator")
    assert isinstance(load_translator(), PseudoTranslator)
    with pytest.raises(ValueError, match=r"package\.module:ClassName"):
        load_translator("no_colon")
