"""One document, after Textract: its blocks segmented into paragraphs, each paragraph through Comprehend, the
results written (a row per paragraph, the JSON export, the document's summary)."""

from __future__ import annotations

from typing import Any

from sagestep_service.workflows.documents import insights, results, segmentation
from sagestep_service.workflows.documents.models import LANGUAGES, DocumentItem, DocumentSummary


class UnsupportedLanguage(Exception):
    """The document's language is not one Textract and Comprehend both handle."""


def analyse_document(
    s3: Any,
    comprehend: Any,
    table: Any,
    job_id: str,
    plan: dict[str, Any],
    document: DocumentItem,
    textract: dict[str, Any],
) -> DocumentSummary:
    """Segment, detect the language (unless the request named it), run Comprehend, write; returns the summary."""
    blocks = results.read_blocks(s3, plan, document.index)
    segmented = segmentation.segment(blocks, plan.get("segmentation") or "auto")
    paragraphs: list[dict[str, Any]] = [p.model_dump(mode="json") for p in segmented.paragraphs]
    texts = [str(p["text"]) for p in paragraphs]
    language = plan.get("languageCode")
    if not language and texts:
        language = insights.detect_language(comprehend, texts)
    if texts and language not in LANGUAGES:
        raise UnsupportedLanguage(
            f"the document is in {language!r}; Textract and Comprehend both handle {', '.join(LANGUAGES)}"
        )
    analysis = insights.analyse(comprehend, texts, str(language or "en"), set(plan.get("features") or []))
    for paragraph, found in zip(paragraphs, analysis.paragraphs, strict=True):
        paragraph.update(dict(found))
    results.write_rows(table, job_id, document, paragraphs)
    brief = insights.summarize(analysis)
    export_uri = results.export(
        s3,
        plan,
        document,
        {
            "jobId": job_id,
            "document": document.path,
            "languageCode": language,
            "technique": segmented.technique,
            "dropped": [line.model_dump(mode="json") for line in segmented.dropped],
            "paragraphs": paragraphs,
        },
    )
    summary = DocumentSummary(
        index=document.index,
        path=document.path,
        status="COMPLETED",
        textractJobId=textract.get("jobId"),
        textractStatus=textract.get("status"),
        warnings=list(textract.get("warnings") or []),
        pages=int(textract.get("pages") or 0),
        languageCode=language,
        technique=segmented.technique,
        paragraphs=len(paragraphs),
        sentimentDistribution=dict(brief["sentimentDistribution"]),
        topKeyPhrases=list(brief["topKeyPhrases"]),
        topEntities=list(brief["topEntities"]),
        comprehendUnits=dict(brief["units"]),
        exportUri=export_uri,
    )
    results.write_summary(s3, plan, summary)
    return summary
