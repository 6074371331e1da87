"""What the format handlers share: the texts of one document collected first, translated in one call."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sagestep.local.services.translate.translator import TranslateTexts


class DocumentError(Exception):
    """A document Translate refuses (a customer error in the job's details file), with Translate's code."""

    def __init__(self, message: str, code: str = "UNSUPPORTED_DOCUMENT") -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def setter(owner: Any, attribute: str) -> Callable[[str], None]:
    """A setter of ``owner.attribute`` (an element's ``text``/``tail``, a cell's ``value``)."""

    def put(text: str) -> None:
        setattr(owner, attribute, text)

    return put


class Batch:
    """Texts of one document and where each goes back: one translator call per document, not one per text
    (a real engine is far faster on a batch, and the pseudo-translator's per-call cost adds up too)."""

    def __init__(self) -> None:
        self._texts: list[str] = []
        self._setters: list[Callable[[str], None]] = []

    def add(self, text: str | None, setter: Callable[[str], None]) -> None:
        """Queue ``text`` (skipped if empty or only whitespace: nothing to translate, nothing billed)."""
        if text and text.strip():
            self._texts.append(text)
            self._setters.append(setter)

    def run(self, translate: TranslateTexts) -> None:
        if not self._texts:
            return
        translated = translate(list(self._texts))
        if len(translated) != len(self._texts):
            raise RuntimeError(f"the translator returned {len(translated)} texts for {len(self._texts)}")
        for setter, text in zip(self._setters, translated, strict=True):
            setter(text)
