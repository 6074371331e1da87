"""text/plain: every line with text translated; line breaks, blank lines and the encoding's BOM kept."""

from __future__ import annotations

from sagestep.local.services.translate.formats.common import Batch, DocumentError
from sagestep.local.services.translate.translator import TranslateTexts


def translate_text(data: bytes, translate: TranslateTexts) -> bytes:
    """Translate a UTF-8 text file line by line (Translate requires UTF-8 for plain text)."""
    bom = data.startswith(b"\xef\xbb\xbf")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DocumentError(f"The document is not UTF-8 encoded text: {exc}", "INVALID_ENCODING") from None
    lines = text.splitlines(keepends=True)
    batch = Batch()
    for index, line in enumerate(lines):
        body = line.rstrip("\r\n")

        def put(translated: str, index: int = index, ending: str = line[len(body) :]) -> None:
            lines[index] = translated + ending

        batch.add(body, put)
    batch.run(translate)
    return (b"\xef\xbb\xbf" if bom else b"") + "".join(lines).encode("utf-8")
