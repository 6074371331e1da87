"""The translators of the local Translate: a visible pseudo-translation by default, or an engine the user installs.

No machine-translation model can ship with the local mode, so the default :class:`PseudoTranslator` rewrites
text deterministically and visibly (``Hello {name}`` -> ``[de|Hélló {name}]``): a reviewer sees at a glance
which text went through the translator, in which target language, and that placeholders survived. A real
offline engine is plugged in by the emulator's ``translator`` argument or ``SAGESTEP_TRANSLATOR``
(``package.module:ClassName``, instantiated without arguments) and only has to satisfy :class:`Translator`.
"""

from __future__ import annotations

import importlib
import os
import re
from collections.abc import Callable, Sequence
from typing import Protocol, runtime_checkable

TRANSLATOR_ENV = "SAGESTEP_TRANSLATOR"

#: Texts that must come out verbatim: a translator that rewrote them would break the program or link using them.
PLACEHOLDER = re.compile(
    r"\{\{[^{}]*\}\}"  # {{var}}
    r"|\$\{[^{}]*\}"  # ${x}
    r"|\{[^{}\s]*\}"  # {name}, {0}
    r"|%(?:\d+\$)?[-+ #0]*\d*(?:\.\d+)?[sdifxXeEgGcu%]"  # %s, %d, %1$s, %.2f
    r"|(?:https?|ftp)://[^\s<>\"']+|www\.[^\s<>\"']+"  # URLs
    r"|[\w.+-]+@[\w-]+(?:\.[\w-]+)+"  # e-mail addresses
    r"|⟦\d+⟧"  # terminology slots (see terminology.py)
    r"|\d+(?:[.,:]\d+)*"  # numbers, times, versions
)
_ACCENTS = str.maketrans(
    "aeiouyAEIOUYcnsz",
    "áéíóúýÁÉÍÓÚÝçñšž",
)
_LETTER = re.compile(r"[^\W\d_]")


@runtime_checkable
class Translator(Protocol):
    """A machine translator: ``texts`` in ``source`` -> the same number of texts in ``target``, in order."""

    def translate(self, texts: Sequence[str], source: str, target: str) -> list[str]: ...


class PseudoTranslator:
    """Deterministic, visibly marked pseudo-translation (see the module docstring).

    Letters become accented look-alikes, the text between its leading and trailing whitespace is wrapped as
    ``[<target>|…]``, placeholders (:data:`PLACEHOLDER`) are kept verbatim, and a text without letters outside
    its placeholders (a number, a URL, punctuation) comes back unchanged, as a real engine returns it.
    """

    def translate(self, texts: Sequence[str], source: str, target: str) -> list[str]:
        return [self._one(text, target) for text in texts]

    @staticmethod
    def _one(text: str, target: str) -> str:
        core = text.strip()
        if not core:
            return text
        parts: list[str] = []
        position, lettered = 0, False
        for match in PLACEHOLDER.finditer(core):
            plain = core[position : match.start()]
            lettered = lettered or bool(_LETTER.search(plain))
            parts.append(plain.translate(_ACCENTS))
            parts.append(match.group())
            position = match.end()
        tail = core[position:]
        lettered = lettered or bool(_LETTER.search(tail))
        if not lettered:
            return text
        parts.append(tail.translate(_ACCENTS))
        start = len(text) - len(text.lstrip())
        return f"{text[:start]}[{target}|{''.join(parts)}]{text[start + len(core) :]}"


def load_translator(spec: str | None = None) -> Translator:
    """The translator named by ``spec`` or ``$SAGESTEP_TRANSLATOR`` (``package.module:ClassName``), else
    :class:`PseudoTranslator`. Raises ValueError for a spec that does not name a translator class."""
    spec = spec if spec is not None else os.environ.get(TRANSLATOR_ENV, "")
    if not spec:
        return PseudoTranslator()
    module_name, _, class_name = spec.partition(":")
    if not module_name or not class_name:
        raise ValueError(f"{TRANSLATOR_ENV} must be package.module:ClassName, not {spec!r}")
    translator = getattr(importlib.import_module(module_name), class_name)()
    if not isinstance(translator, Translator):
        raise ValueError(f"{spec} has no translate(texts, source, target) method")
    return translator


#: Words frequent in one language and rare in the others: enough to tell the languages of Latin script apart.
_STOPWORDS: dict[str, frozenset[str]] = {
    language: frozenset(words.split())
    for language, words in {
        "en": "the and of to is in that it for with this are was on",
        "de": "der die das und ist nicht mit ein eine für auf den dem zu ich sie",
        "fr": "le la les et est des une pour dans pas que qui sur du avec",
        "es": "el la los las y es del que una para por con en no se",
        "it": "il lo la gli che è per una non con del della sono di",
        "pt": "o os que é não uma para com do da em por são",
        "nl": "de het een en is niet van dat op te voor met zijn",
    }.items()
}
_SCRIPTS: tuple[tuple[str, str], ...] = (
    ("[\u3040-\u30ff]", "ja"),
    ("[\uac00-\ud7af]", "ko"),
    ("[\u4e00-\u9fff]", "zh"),
    ("[\u0400-\u04ff]", "ru"),
    ("[\u0600-\u06ff]", "ar"),
    ("[\u0590-\u05ff]", "he"),
    ("[\u0370-\u03ff]", "el"),
    ("[\u0900-\u097f]", "hi"),
    ("[\u0e00-\u0e7f]", "th"),
)


def detect_language(texts: Sequence[str]) -> str:
    """The language of ``texts`` for a job whose source is ``auto`` (AWS asks Comprehend): the script of a
    non-Latin text decides (kana -> ``ja`` before Han -> ``zh``), else the language whose frequent words
    occur most; ``en`` when nothing tells."""
    sample = " ".join(texts)[:20_000]
    for pattern, language in _SCRIPTS:
        if re.search(pattern, sample):
            return language
    words = re.findall(r"[^\W\d_]+", sample.lower())
    scores = {language: sum(word in stop for word in words) for language, stop in _STOPWORDS.items()}
    best = max(scores, key=lambda language: scores[language])
    return best if scores[best] > scores["en"] else "en"


#: What a format handler is given: the texts of one document -> their translations, in one call.
TranslateTexts = Callable[[list[str]], list[str]]
