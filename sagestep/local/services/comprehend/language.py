"""Dominant language: scripts first, then stop words (no model, nothing to download).

* Letters of a script that one language writes decide for it: Hangul -> ``ko``, kana -> ``ja`` (Japanese text
  mixes kana with Han, which is counted for ``ja`` then), Han without kana -> ``zh``, Arabic -> ``ar``,
  Devanagari -> ``hi``, Cyrillic -> ``ru``, Greek -> ``el``, Hebrew -> ``he``, Thai -> ``th``;
* Latin letters are shared among ``en``, ``de``, ``fr``, ``es``, ``it``, ``pt`` in proportion to how many of the
  text's words are frequent function words of each (:data:`STOP_WORDS`; a word several languages share counts
  for each by 1/its number of languages), a few letters unique to one language (``ß``, ``ñ``, ``ã``/``õ``) adding
  weight; the weights are squared before they are normalised, so the evident language takes most of the share.

``Score`` is the share of the text's letters a language accounts for, so a bilingual text answers both. Languages
under :data:`MIN_SCORE` are left out, the best first. A Latin text without one known function word is ``en`` with
a low score (Comprehend always answers a language).
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

from sagestep.local.services.comprehend.gazetteer import words

MIN_SCORE = 0.05
UNKNOWN_LATIN_SCORE = 0.3

STOP_WORDS: dict[str, frozenset[str]] = {
    "en": frozenset(
        words(
            "the and of to is in that it for was on are with as be this by at have from or not but an they which "
            "you we his her she he has had were been their would there what will can all if so no do does"
        )
    ),
    "de": frozenset(
        words(
            "der die das und ist nicht ein eine einen dem den des mit sich auf für ich sie es zu von im ist auch "
            "wir ihr war sind wird werden oder aber wie nach bei aus noch nur über dass kein keine"
        )
    ),
    "fr": frozenset(
        words(
            "le la les et est un une des du de pas que qui dans pour sur avec ce cette il elle nous vous ils sont "
            "au aux ne se plus par mais ou où été être fait très sans"
        )
    ),
    "es": frozenset(
        words(
            "el la los las y es un una unos de del que en por para con no se su sus al lo como más pero muy está "
            "son fue ha hay este esta yo también sin sobre"
        )
    ),
    "it": frozenset(
        words(
            "il lo la gli le e è un una di del della che in per con non si sono da al alla nel nella ma come più "
            "anche questo questa molto io ha hanno stato"
        )
    ),
    "pt": frozenset(
        words(
            "o a os as e é um uma de do da dos das que em no na por para com não se seu sua ao como mais mas muito "
            "está são foi ele ela também sem sobre você"
        )
    ),
}
#: Letters that (among the six Latin languages) only one writes.
_MARKERS = {"de": "ßäöü", "es": "ñ¿¡", "pt": "ãõ", "fr": "çœèêë", "it": "ìò"}
_SCRIPTS = (
    ("ko", r"[\uac00-\ud7af\u1100-\u11ff\u3130-\u318f]"),
    ("ja", r"[\u3040-\u30ff]"),
    ("zh", r"[\u4e00-\u9fff\u3400-\u4dbf]"),
    ("ar", r"[\u0600-\u06ff]"),
    ("hi", r"[\u0900-\u097f]"),
    ("ru", r"[\u0400-\u04ff]"),
    ("el", r"[\u0370-\u03ff]"),
    ("he", r"[\u0590-\u05ff]"),
    ("th", r"[\u0e00-\u0e7f]"),
)
_LATIN = re.compile(r"[A-Za-zÀ-ÖØ-öø-ÿœŒ]")


def _latin_shares(text: str) -> dict[str, float]:
    """How the Latin part of ``text`` is shared among the stop-word languages (shares sum to 1, or {} if none)."""
    lowered = text.lower()
    words = Counter(re.findall(r"[^\W\d_]+", lowered))
    weights = dict.fromkeys(STOP_WORDS, 0.0)
    for word, count in words.items():
        languages = [language for language, stop in STOP_WORDS.items() if word in stop]
        for language in languages:
            weights[language] += count / len(languages)
    for language, letters in _MARKERS.items():
        weights[language] += 0.5 * sum(lowered.count(letter) for letter in letters)
    total = sum(weight**2 for weight in weights.values())
    return {language: weight**2 / total for language, weight in weights.items() if weight > 0} if total else {}


def detect_dominant_language(text: str) -> list[dict[str, Any]]:
    """Comprehend's ``Languages`` of ``text``: ``[{"LanguageCode", "Score"}]``, best first."""
    counts = {language: len(re.findall(pattern, text)) for language, pattern in _SCRIPTS}
    if counts["ja"]:
        counts["ja"], counts["zh"] = counts["ja"] + counts["zh"], 0
    latin = len(_LATIN.findall(text))
    letters = sum(counts.values()) + latin
    if not letters:
        return [{"LanguageCode": "en", "Score": UNKNOWN_LATIN_SCORE * 0.5}]
    scores = {language: count / letters for language, count in counts.items() if count}
    shares = _latin_shares(text)
    if latin and not shares:
        scores["en"] = UNKNOWN_LATIN_SCORE * latin / letters
    for language, share in shares.items():
        scores[language] = scores.get(language, 0.0) + share * latin / letters
    ranked = sorted(scores.items(), key=lambda item: item[1], reverse=True)
    kept = [(language, score) for language, score in ranked if score >= MIN_SCORE] or ranked[:1]
    return [{"LanguageCode": language, "Score": round(score, 4)} for language, score in kept]
