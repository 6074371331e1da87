"""The documents workflow's section of ``sagestep demo``: bundled PDFs in two layouts (one with two columns, one with
a paragraph across a page break) and a scanned image, analysed in one folder job (a Distributed Map of one child
execution per document); the paragraphs table with header, sentiment and key phrases printed."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.markup import escape

from sagestep.demo.documents_samples import write_samples
from sagestep.demo.runner import DATA_FOLDER, DemoContext, DemoError, Timings, printer
from sagestep_service.workflows.documents.models import DocumentsJobView, DocumentsStatus, ParagraphView

TIMEOUT_SECONDS = 150


@dataclass
class DocumentsDemoResult:
    job: DocumentsJobView
    paragraphs: list[ParagraphView]
    timings: Timings = field(default_factory=Timings)

    def to_json(self) -> dict[str, Any]:
        summary = self.job.summary
        return {
            "jobId": self.job.jobId,
            "status": str(self.job.status),
            "documents": [d.model_dump(mode="json") for d in summary.items] if summary else [],
            "paragraphs": [
                {
                    "document": p.path,
                    "header": p.header,
                    "sentiment": p.sentiment,
                    "pages": p.pages,
                    "keyPhrases": [k.get("text") for k in p.keyPhrases[:5]],
                    "text": p.text,
                }
                for p in self.paragraphs
            ],
        }


class DocumentsDemo:
    """Upload the bundled documents into one folder and analyse it."""

    name = "documents"
    title = "PDFs and a scanned image through Textract, paragraphs and Comprehend"

    def run(self, context: DemoContext) -> DocumentsDemoResult:
        say = printer(context.console)
        documents = context.client.documents
        with tempfile.TemporaryDirectory() as folder, context.timings.phase("upload documents"):
            root = Path(folder)
            written = write_samples(root)
            folder_uri = context.client.translation.upload_folder(root, f"{DATA_FOLDER}/insights-input")
        say(escape(f"uploaded {len(written)} documents ({', '.join(p.name for p in written)}) to {folder_uri}"))
        with context.timings.phase("analyse"):
            job = documents.submit({"folderUri": folder_uri})
            say(escape(f"submitted {job.jobId}: one child execution per document (Distributed Map)"))
            job = documents.wait(job.jobId, timeout=TIMEOUT_SECONDS, poll=0.5)
        if job.status not in {DocumentsStatus.COMPLETED, DocumentsStatus.COMPLETED_WITH_ERRORS}:
            raise DemoError(f"documents job {job.jobId} ended {job.status}: {job.error}: {job.errorCause}")
        with context.timings.phase("read paragraphs"):
            paragraphs = list(documents.iter_paragraphs(job.jobId))
        if not paragraphs:
            raise DemoError(f"documents job {job.jobId} found no paragraph")
        if context.console is not None:
            from sagestep.cli.documents import paragraphs_table, show_job

            show_job(context.console, job)
            context.console.print(paragraphs_table(paragraphs))
        return DocumentsDemoResult(job, paragraphs, context.timings)
