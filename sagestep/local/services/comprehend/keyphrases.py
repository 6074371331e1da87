"""Key phrases with YAKE (``yake``: statistical keyword extraction from the text alone, no model).

YAKE ranks candidate phrases of one to three words (none starting or ending with a stop word of the language)
by a score where lower is better and 0 is the best. Comprehend answers phrases with a confidence in 0..1 where
higher is better, and offsets into the text: here ``Score = 1 / (1 + yake_score)`` (monotonic, so YAKE's order is
kept), and each phrase is found again in the text (case-insensitively, any run of whitespace between its words,
whole words only) so that ``text[BeginOffset:EndOffset] == Text`` exactly, in the text's own spelling.

Every occurrence of a phrase is reported (Comprehend reports each mention), in text order; where phrases overlap
("Amazon Web Services", "Web Services") the better-ranked one keeps the span and the other's occurrence there is
dropped, so no two key phrases overlap. Limits of the method: ``zh``/``zh-TW`` and ``ja`` put no spaces between
words, where YAKE splits, so their phrases are whole clauses; YAKE has no stop words for ``ko``, so Korean phrases
keep their particles.
"""

from __future__ import annotations

import functools
import re
from typing import Any

#: Comprehend language -> YAKE's stop-word list (``noLang``: none).
_YAKE_LANGUAGES = {"zh-TW": "zh", "ko": "noLang"}
_MAX_WORDS = 3


@functools.cache
def _extractor(language: str, top: int) -> Any:
    """A YAKE extractor for ``language`` (its stop words are read at construction), imported at the first call."""
    import yake

    return yake.KeywordExtractor(lan=_YAKE_LANGUAGES.get(language, language), n=_MAX_WORDS, top=top)


def _top(text: str) -> int:
    """How many phrases to ask YAKE for: Comprehend reports most noun phrases, so more for longer texts."""
    return min(200, max(10, -(-len(text.split()) // 30) * 10))  # a multiple of 10: few cached extractors


def _pattern(phrase: str) -> re.Pattern[str]:
    words = [re.escape(word) for word in phrase.split()]
    return re.compile(r"(?<!\w)" + r"\s+".join(words) + r"(?!\w)", re.IGNORECASE)


def detect_key_phrases(text: str, language: str) -> list[dict[str, Any]]:
    """Comprehend's ``KeyPhrases`` of ``text`` (see the module docstring)."""
    if not text.strip():
        return []
    ranked: list[tuple[str, float]] = [
        (str(phrase), float(score)) for phrase, score in _extractor(language, _top(text)).extract_keywords(text)
    ]
    taken: list[tuple[int, int]] = []
    phrases: list[dict[str, Any]] = []
    for phrase, yake_score in sorted(ranked, key=lambda item: item[1]):
        for match in _pattern(phrase).finditer(text):
            begin, end = match.span()
            if any(begin < other_end and other_begin < end for other_begin, other_end in taken):
                continue
            taken.append((begin, end))
            phrases.append(
                {"Score": 1.0 / (1.0 + yake_score), "Text": match.group(), "BeginOffset": begin, "EndOffset": end}
            )
    return sorted(phrases, key=lambda phrase: int(phrase["BeginOffset"]))
