"""Per-format document translation: ``bytes -> bytes`` given a ``translate(list[str]) -> list[str]`` callable.

Each handler collects the translatable texts of one document, translates them in one call and writes them back
where they came from, leaving everything else (markup, formatting, formulas, structure) as it was. A document
a handler cannot read raises :class:`DocumentError` (a per-file customer error of the job).
"""

from __future__ import annotations

from collections.abc import Callable

from sagestep.local.services.translate.formats.common import Batch, DocumentError
from sagestep.local.services.translate.formats.html import translate_html
from sagestep.local.services.translate.formats.office import translate_docx, translate_pptx, translate_xlsx
from sagestep.local.services.translate.formats.text import translate_text
from sagestep.local.services.translate.formats.xliff import translate_xliff
from sagestep.local.services.translate.translator import TranslateTexts
from sagestep_service.workflows.translation.translate_service import BY_SLUG

#: content type slug -> handler(data, translate, target language)
HANDLERS: dict[str, Callable[[bytes, TranslateTexts, str], bytes]] = {
    "text": lambda data, translate, target: translate_text(data, translate),
    "html": lambda data, translate, target: translate_html(data, translate),
    "docx": lambda data, translate, target: translate_docx(data, translate),
    "pptx": lambda data, translate, target: translate_pptx(data, translate),
    "xlsx": lambda data, translate, target: translate_xlsx(data, translate),
    "xliff": translate_xliff,
}
HANDLERS_BY_MIME = {BY_SLUG[slug].mime: handler for slug, handler in HANDLERS.items()}


def translate_document(mime: str, data: bytes, translate: TranslateTexts, target_language: str) -> bytes:
    """Translate one document of content type ``mime`` (one of the job content types)."""
    handler = HANDLERS_BY_MIME.get(mime)
    if handler is None:
        raise DocumentError(f"The content type {mime} is not supported.", "UNSUPPORTED_CONTENT_TYPE")
    return handler(data, translate, target_language)


__all__ = [
    "HANDLERS",
    "Batch",
    "DocumentError",
    "translate_document",
    "translate_docx",
    "translate_html",
    "translate_pptx",
    "translate_text",
    "translate_xliff",
    "translate_xlsx",
]
