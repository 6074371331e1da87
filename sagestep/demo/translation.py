"""The translation workflow's section of ``sagestep demo``: a bundled folder of every supported document type (with
subfolders) translated into two languages; the restored tree printed and one translated Word document checked for
kept formatting.

The local Translate's default translator is a visible pseudo-translation (no machine-translation model installs
from the package registries): translated text reads like ``[de|Thé qúíçk brówñ fóx]``.
"""

from __future__ import annotations

import io
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from rich.markup import escape
from rich.tree import Tree

from sagestep.demo.runner import DATA_FOLDER, DemoContext, DemoError, Timings, printer
from sagestep.demo.translation_samples import write_samples
from sagestep_service.workflows.translation.models import FileResult, TranslationJobView, TranslationStatus

LANGUAGES = ("de", "fr")
TIMEOUT_SECONDS = 120


@dataclass
class TranslationDemoResult:
    job: TranslationJobView
    files: list[FileResult]
    docx_check: dict[str, Any]
    timings: Timings = field(default_factory=Timings)

    def to_json(self) -> dict[str, Any]:
        summary = self.job.summary
        return {
            "jobId": self.job.jobId,
            "status": str(self.job.status),
            "translateJobs": {c.contentType: c.translateJobId for c in summary.contentTypes} if summary else {},
            "translatedFiles": summary.translatedFiles if summary else 0,
            "skippedFiles": summary.skippedFiles if summary else 0,
            "outputUri": summary.outputUri if summary else None,
            "results": [f.model_dump(mode="json", exclude={"url"}, exclude_none=True) for f in self.files],
            "docxCheck": self.docx_check,
        }


def check_docx(original: bytes, translated: bytes) -> dict[str, Any]:
    """Whether a translated Word document kept the original's structure and formatting: the same paragraphs and
    tables, runs with the same bold/italic flags, and every run's text changed."""
    import docx

    before, after = docx.Document(io.BytesIO(original)), docx.Document(io.BytesIO(translated))
    runs_before = [run for paragraph in before.paragraphs for run in paragraph.runs]
    runs_after = [run for paragraph in after.paragraphs for run in paragraph.runs]
    formatting_kept = [(r.bold, r.italic) for r in runs_before] == [(r.bold, r.italic) for r in runs_after]
    changed = sum(1 for a, b in zip(runs_before, runs_after, strict=False) if a.text.strip() and a.text != b.text)
    return {
        "paragraphs": [len(before.paragraphs), len(after.paragraphs)],
        "tables": [len(before.tables), len(after.tables)],
        "runs": [len(runs_before), len(runs_after)],
        "formattingKept": formatting_kept,
        "runsTranslated": changed,
        "sample": next((p.text for p in after.paragraphs if p.text.strip()), ""),
    }


class TranslationDemo:
    """Upload the bundled folder, translate it into German and French, show the restored tree."""

    name = "translation"
    title = "a folder of mixed documents through Amazon Translate, layout restored"

    def run(self, context: DemoContext) -> TranslationDemoResult:
        say = printer(context.console)
        translation = context.client.translation
        with tempfile.TemporaryDirectory() as folder, context.timings.phase("upload folder"):
            root = Path(folder)
            written = write_samples(root)
            docx_path = next(p for p in written if p.suffix == ".docx")
            docx_relative = docx_path.relative_to(root).as_posix()
            original_docx = docx_path.read_bytes()
            input_uri = translation.upload_folder(root, f"{DATA_FOLDER}/documents")
        say(escape(f"uploaded {len(written)} files (with subfolders) to {input_uri}"))
        with context.timings.phase("translate"):
            job = translation.submit(
                {"inputUri": input_uri, "sourceLanguageCode": "en", "targetLanguageCodes": list(LANGUAGES)}
            )
            say(escape(f"submitted {job.jobId}: one Translate job per content type, into {', '.join(LANGUAGES)}"))
            job = translation.wait(job.jobId, timeout=TIMEOUT_SECONDS, poll=0.5)
        if job.status not in {TranslationStatus.COMPLETED, TranslationStatus.COMPLETED_WITH_ERRORS}:
            raise DemoError(f"translation job {job.jobId} ended {job.status}: {job.error}: {job.errorCause}")
        with context.timings.phase("check results"):
            files = list(translation.iter_files(job.jobId))
            docx_result = next(f for f in files if f.path == docx_relative and f.language == LANGUAGES[0])
            if not docx_result.url:
                raise DemoError(f"no translation of {docx_relative}: {docx_result.reason}")
            check = check_docx(original_docx, httpx.get(docx_result.url).raise_for_status().content)
        if not check["formattingKept"] or not check["runsTranslated"]:
            raise DemoError(f"the translated {docx_relative} lost its formatting: {check}")
        if context.console is not None:
            self._print(context, job, files, docx_relative, check)
        return TranslationDemoResult(job, files, check, context.timings)

    @staticmethod
    def _print(
        context: DemoContext, job: TranslationJobView, files: list[FileResult], docx: str, check: dict[str, Any]
    ) -> None:
        from sagestep.cli.translation import show_job

        assert context.console is not None
        show_job(context.console, job)
        tree = Tree(escape(job.summary.outputUri if job.summary else "output"))
        branches: dict[str, Tree] = {}
        for result in sorted(files, key=lambda f: (f.language, f.path)):
            node, key = tree, result.language
            parts = result.path.split("/")
            for part in [result.language, *parts[:-1]]:
                key = f"{key}/{part}" if node is not tree else part
                if key not in branches:
                    branches[key] = node.add(escape(f"{part}/"))
                node = branches[key]
            node.add(escape(parts[-1] + ("" if result.status == "TRANSLATED" else f"  (failed: {result.reason})")))
        context.console.print(tree)
        context.console.print(
            escape(
                f"{docx} ({LANGUAGES[0]}): {check['paragraphs'][1]} paragraphs, {check['tables'][1]} tables, "
                f"{check['runsTranslated']} runs translated, bold/italic kept: {check['formattingKept']}; "
                f"first paragraph: {check['sample']!r}"
            ),
            soft_wrap=True,
        )
